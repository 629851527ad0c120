"""What a local broker node is: its ports and folders, and the server.properties it runs with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOG4J2_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.ak.name = org.apache.kafka
logger.ak.level = WARN
"""


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One combined broker+controller node listening on loopback."""

    node_id: int
    broker_port: int
    controller_port: int
    directory: Path

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def properties_file(self) -> Path:
        return self.directory / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.directory / "broker.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "pid"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"


def render_server_properties(node: NodeSpec, all_nodes: tuple[NodeSpec, ...]) -> str:
    """server.properties for ``node`` in a static KRaft quorum made of ``all_nodes``.

    One node: replication factor 1 everywhere. Three nodes: replication factor 3 and
    ``min.insync.replicas=2``, so one node can fail without losing an acknowledged write.
    """
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in all_nodes)
    replicas = min(3, len(all_nodes))
    min_isr = 2 if replicas >= 3 else 1
    lines = [
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.voters={voters}",
        f"listeners=PLAINTEXT://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.broker_port}",
        "inter.broker.listener.name=PLAINTEXT",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={node.data_dir}",
        "num.partitions=1",
        f"default.replication.factor={replicas}",
        f"min.insync.replicas={min_isr}",
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        "unclean.leader.election.enable=false",
        "group.initial.rebalance.delay.ms=0",
        "num.recovery.threads.per.data.dir=1",
        # small-machine knobs: fewer internal partitions and threads, a small cleaner buffer
        "offsets.topic.num.partitions=3",
        "transaction.state.log.num.partitions=3",
        "share.coordinator.state.topic.num.partitions=1",
        "log.cleaner.dedupe.buffer.size=16777216",
        "num.network.threads=2",
        "num.io.threads=2",
    ]
    if len(all_nodes) > 1:
        # a little faster failure detection, still tolerant of GC pauses on a 2-core box
        lines += [
            "broker.heartbeat.interval.ms=1000",
            "broker.session.timeout.ms=6000",
            "replica.lag.time.max.ms=10000",
        ]
    return "\n".join(lines) + "\n"
