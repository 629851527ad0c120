"""``python -m exchange.cli`` is the same as ``mais``."""

from exchange.cli import main

main()
