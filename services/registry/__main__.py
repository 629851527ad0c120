"""``python -m services.registry``: run the registry with settings from ``MAIS_REGISTRY_*``."""

from __future__ import annotations

import sys

from exchange.errors import MaisError
from services.registry import RegistrySettings, serve

if __name__ == "__main__":
    try:
        serve(RegistrySettings())
    except MaisError as exc:
        print(f"error: {exc.message}", file=sys.stderr)  # noqa: T201 - the process's last word
        if exc.hint:
            print(f"what to do: {exc.hint}", file=sys.stderr)  # noqa: T201
        sys.exit(exc.exit_code)
