"""``python -m services.registry``: run the registry with settings from ``MAIS_REGISTRY_*``."""

from __future__ import annotations

from services.registry import RegistrySettings, serve

if __name__ == "__main__":
    serve(RegistrySettings())
