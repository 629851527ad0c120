"""MAIS Exchange kernel: what every adapter and service is built on.

The public API is what this module re-exports; everything in a module whose name starts with
an underscore, or that is not listed here, may change without notice.
"""

from exchange.errors import ConfigError, DataError, MaisError, PrerequisiteError, TransientError
from exchange.settings import KafkaSettings

__all__ = [
    "ConfigError",
    "DataError",
    "KafkaSettings",
    "MaisError",
    "PrerequisiteError",
    "TransientError",
]

__version__ = "0.1.0.dev0"
