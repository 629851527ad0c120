"""Deployment: Kubernetes (Strimzi) resources rendered from the agency definitions.

``mais deploy render`` writes ``deploy/k8s/generated/agencies.yaml``: a ``KafkaTopic`` per agency
topic and a ``KafkaUser`` per agency whose ACLs are the very rules ``mais agency add`` applies to a
running cluster (one computation, :mod:`exchange.security`).
"""

from __future__ import annotations

from services.deploy._render import render_agencies, resources

__all__ = ["render_agencies", "resources"]
