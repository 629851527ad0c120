"""A real Apache Kafka 4.x cluster on this machine, assembled from Maven Central jars.

No Docker and no tarball: ``deploy/local/pom.xml`` resolves ``kafka_2.13`` plus a log4j2 binding
into a cache outside the repository; this package formats KRaft storage once, starts one or three
combined broker+controller JVMs on 127.0.0.1, waits for a client round trip, and stops them by
their own process ids; beside it runs the schema registry service. ``mais dev up/down/status``
and the test fixtures are built on it.
"""

from exchange.localkafka._cluster import ClusterInfo, LocalKafkaCluster
from exchange.localkafka._jars import ensure_jars, kafka_version
from exchange.localkafka._prereqs import free_port
from exchange.localkafka._registry_process import LocalRegistry
from exchange.localkafka._secure import SecureStack, provision, stack_settings, write_env_file

__all__ = [
    "ClusterInfo",
    "LocalKafkaCluster",
    "LocalRegistry",
    "SecureStack",
    "ensure_jars",
    "free_port",
    "kafka_version",
    "provision",
    "stack_settings",
    "write_env_file",
]
