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
class BrokerSecurity:
    """How a secured node listens: SASL/SCRAM-SHA-512 over TLS for clients, ACLs enforced.

    Clients and brokers use the ``SASL_SSL`` listener (SCRAM-SHA-512; ``admin`` is the only super
    user). The controller listener uses SASL/PLAIN without TLS on loopback: SCRAM cannot serve it,
    because SCRAM credentials live in the metadata log the controllers themselves serve.
    """

    admin_password: str
    keystore: Path  # PKCS#8 key + certificate chain in one PEM file
    truststore: Path  # the CA's certificate


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


def render_server_properties(
    node: NodeSpec, all_nodes: tuple[NodeSpec, ...], security: BrokerSecurity | None = None
) -> str:
    """server.properties for ``node`` in a static KRaft quorum made of ``all_nodes``.

    One node: replication factor 1 everywhere. Three nodes: replication factor 3 and
    ``min.insync.replicas=2``, so one node can fail without losing an acknowledged write.
    With ``security``, clients must authenticate over TLS and are held to their ACLs.
    """
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in all_nodes)
    replicas = min(3, len(all_nodes))
    min_isr = 2 if replicas >= 3 else 1
    listener = "SASL_SSL" if security else "PLAINTEXT"
    lines = [
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.voters={voters}",
        f"listeners={listener}://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}",
        f"advertised.listeners={listener}://127.0.0.1:{node.broker_port}",
        f"inter.broker.listener.name={listener}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map="
        + (
            "CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
            if security
            else "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
        ),
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
    if security is not None:
        lines += _security_lines(security)
    return "\n".join(lines) + "\n"


def _security_lines(security: BrokerSecurity) -> list[str]:
    password = security.admin_password
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return [
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        f'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram} required username="admin" '
        f'password="{password}";',
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        f'listener.name.controller.plain.sasl.jaas.config={plain} required username="admin" '
        f'password="{password}" user_admin="{password}";',
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={security.keystore}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={security.truststore}",
        "ssl.client.auth=none",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users=User:admin",
        "allow.everyone.if.no.acl.found=false",
    ]
