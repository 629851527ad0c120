"""A schema registry speaking Confluent Schema Registry's REST API, its state in a Kafka topic.

Start it with :func:`serve` (blocking), ``python -m services.registry`` or ``mais registry serve``.
``create_app`` gives the ASGI app for embedding. See ``README.md`` here for how several instances
share one ``_schemas`` topic without ever assigning an id twice.
"""

from __future__ import annotations

from services.registry._errors import RegistryError
from services.registry._server import create_app, serve
from services.registry._settings import RegistrySettings

__all__ = ["RegistryError", "RegistrySettings", "create_app", "serve"]
