"""MAIS Exchange kernel: what every adapter and service is built on.

The public API is what this module re-exports; everything in a module whose name starts with
an underscore, or that is not listed here, may change without notice.
"""

from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.codec import AvroCodec
from exchange.envelope import Envelope
from exchange.errors import ConfigError, DataError, MaisError, PrerequisiteError, TransientError
from exchange.registry_client import SchemaRegistryClient
from exchange.settings import KafkaSettings

__all__ = [
    "Adapter",
    "AdapterContext",
    "AvroCodec",
    "ConfigError",
    "DataError",
    "Envelope",
    "KafkaSettings",
    "MaisError",
    "PrerequisiteError",
    "SchemaRegistryClient",
    "SourceRecord",
    "StandardEvent",
    "TransientError",
]

__version__ = "0.1.0.dev0"
