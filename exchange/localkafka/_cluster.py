"""Start, watch and stop a local Kafka cluster (1 or 3 KRaft nodes) from the cached Maven jars.

State lives in one folder: ``cluster.json`` (id, version, ports, secured or not),
``log4j2.properties`` and a ``node-N/`` folder per node with its ``server.properties``, ``data/``,
``broker.log`` and ``pid``. A secured cluster also keeps its CA and certificates in ``tls/`` and
the passwords of its own principals in ``secrets/`` (owner-readable only).
Processes are always signalled by their own recorded pid, after checking that the pid still
belongs to a broker of this folder.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exchange.errors import ConfigError, PrerequisiteError
from exchange.localkafka._config import LOG4J2_PROPERTIES, BrokerSecurity, NodeSpec, render_server_properties
from exchange.localkafka._jars import ensure_jars, kafka_version
from exchange.localkafka._prereqs import check_java, ensure_port_free
from exchange.localkafka._process import read_pid, runs_with, send_signal
from exchange.localkafka._secrets import stored_secret
from exchange.security import CertificateAuthority
from exchange.settings import KafkaSettings

__all__ = ["ClusterInfo", "LocalKafkaCluster"]

_STATE_FILE = "cluster.json"


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """What a running cluster reports about itself."""

    bootstrap_servers: str
    cluster_id: str
    brokers: int
    kafka_version: str


class LocalKafkaCluster:
    """A Kafka cluster of ``nodes`` combined broker+controller JVMs on 127.0.0.1.

    ``base_port`` gives node *i* (0-based) the broker port ``base_port + 100*i`` and the
    controller port one above it, unless explicit ``ports`` (broker, controller) pairs are given.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        nodes: int = 1,
        base_port: int = 9092,
        ports: Sequence[tuple[int, int]] | None = None,
        heap: str | None = None,
        secure: bool = False,
    ) -> None:
        if nodes not in (1, 3):
            raise ConfigError(
                f"a local cluster has 1 or 3 nodes, not {nodes}",
                hint="use --nodes 1 (default) or --nodes 3",
            )
        self.state_dir = state_dir.resolve()
        pairs = (
            list(ports) if ports else [(base_port + 100 * i, base_port + 100 * i + 1) for i in range(nodes)]
        )
        self.nodes = tuple(
            NodeSpec(i + 1, broker, controller, self.state_dir / f"node-{i + 1}")
            for i, (broker, controller) in enumerate(pairs[:nodes])
        )
        self.heap = heap or ("-Xmx1g" if nodes == 1 else "-Xmx768m")
        self.secure = secure
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # ----------------------------------------------------------------- queries
    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @classmethod
    def from_state(cls, state_dir: Path) -> LocalKafkaCluster | None:
        """The cluster described by ``state_dir/cluster.json``, or None if there is none."""
        path = state_dir / _STATE_FILE
        if not path.is_file():
            return None
        state = json.loads(path.read_text())
        ports = [tuple(pair) for pair in state["ports"]]
        return cls(
            state_dir,
            nodes=len(ports),
            ports=[(p[0], p[1]) for p in ports],
            secure=bool(state.get("secure", False)),
        )

    # ---------------------------------------------------------------- security
    @property
    def certificate_authority(self) -> CertificateAuthority:
        """The CA of a secured cluster (``tls/ca.pem`` is what clients trust)."""
        return CertificateAuthority(self.state_dir / "tls")

    @property
    def secrets_dir(self) -> Path:
        return self.state_dir / "secrets"

    def admin_settings(self) -> KafkaSettings:
        """Client settings of the cluster's super user (plain settings if it is not secured)."""
        if not self.secure:
            return KafkaSettings(bootstrap_servers=self.bootstrap_servers)
        return KafkaSettings(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username="admin",
            sasl_password=stored_secret(self.secrets_dir / "admin.password"),
            ssl_ca_location=self.certificate_authority.cert_file,
        )

    def _security(self) -> BrokerSecurity | None:
        if not self.secure:
            return None
        ca = self.certificate_authority.ensure()
        broker = ca.issue_server("broker") if not (ca.directory / "broker.pem").is_file() else None
        password = stored_secret(self.secrets_dir / "admin.password").get_secret_value()
        return BrokerSecurity(
            admin_password=password,
            keystore=broker.pem if broker else ca.directory / "broker.pem",
            truststore=ca.cert_file,
        )

    def recorded_state(self) -> dict[str, object]:
        path = self.state_dir / _STATE_FILE
        return json.loads(path.read_text()) if path.is_file() else {}

    def running_pids(self) -> dict[int, int]:
        """node id -> pid for every node whose recorded process is alive and ours."""
        alive = {}
        for node in self.nodes:
            pid = read_pid(node.pid_file)
            if pid is not None and self._is_running(pid, node):
                alive[node.node_id] = pid
        return alive

    def _is_running(self, pid: int, node: NodeSpec) -> bool:
        """Our own child: ask the Popen (its command line may not be exec'd yet); else check /proc."""
        child = self._children.get(pid)
        if child is not None:
            return child.poll() is None
        return _is_our_broker(pid, node)

    def is_running(self) -> bool:
        return bool(self.running_pids())

    # -------------------------------------------------------------- lifecycle
    def start(self, *, timeout: float = 120.0, progress: list[str] | None = None) -> ClusterInfo:
        """Format storage once, start every node, and wait until all brokers answer a client."""
        java = check_java()
        libs = ensure_jars(progress)
        for node in self.nodes:
            ensure_port_free(node.broker_port)
            ensure_port_free(node.controller_port)
        cluster_id = self._prepare(java, libs)
        for node in self.nodes:
            self._launch(java, libs, node)
        return self.wait_ready(cluster_id, timeout=timeout)

    def start_node(self, node_id: int, *, timeout: float = 120.0) -> None:
        """Restart one stopped node of a running cluster and wait until all nodes answer again."""
        node = self._node(node_id)
        java = check_java()
        libs = ensure_jars()
        ensure_port_free(node.broker_port)
        self._launch(java, libs, node)
        self.wait_ready(str(self.recorded_state()["cluster_id"]), timeout=timeout)

    def wait_ready(self, cluster_id: str, *, timeout: float = 120.0) -> ClusterInfo:
        """Wait for a client round trip that sees every node, watching for a node dying meanwhile."""
        from confluent_kafka.admin import AdminClient  # noqa: PLC0415 - only needed once started

        deadline = time.monotonic() + timeout
        admin = AdminClient({**self.admin_settings().confluent_config(), "log_level": 0})
        seen = 0
        while time.monotonic() < deadline:
            self._fail_if_any_died()
            try:
                described = admin.describe_cluster(request_timeout=5).result()
                seen = len(described.nodes)
                if seen >= len(self.nodes):
                    return ClusterInfo(
                        self.bootstrap_servers, described.cluster_id or cluster_id, seen, kafka_version()
                    )
            except Exception:  # noqa: S110 - not answering yet is the expected state while starting
                pass
            time.sleep(0.5)
        raise PrerequisiteError(
            f"the broker did not become ready within {timeout:.0f}s ({seen} of {len(self.nodes)} "
            f"nodes answered)\n{self._log_tails()}",
            hint=f"read the broker logs under {self.state_dir}, then `mais dev down` and try again",
        )

    def stop(self, *, timeout: float = 60.0) -> list[int]:
        """SIGTERM every node by its own pid, wait for exit (SIGKILL after ``timeout``)."""
        pids = self.running_pids()
        for pid in pids.values():
            send_signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node_id, pid in pids.items():
            node = self._node(node_id)
            if not self._wait_exit(pid, node, deadline):
                send_signal(pid, signal.SIGKILL)
                self._wait_exit(pid, node, time.monotonic() + 10)
            node.pid_file.unlink(missing_ok=True)
        return list(pids.values())

    def kill_node(self, node_id: int, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to one node (failover tests) and wait until it is gone."""
        node = self._node(node_id)
        pid = self.running_pids().get(node_id)
        if pid is None:
            return
        send_signal(pid, sig)
        self._wait_exit(pid, node, time.monotonic() + 60)
        node.pid_file.unlink(missing_ok=True)

    # ---------------------------------------------------------------- helpers
    def _prepare(self, java: str, libs: Path) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = self.recorded_state()
        ports = [[n.broker_port, n.controller_port] for n in self.nodes]
        if state and (state.get("ports") != ports or bool(state.get("secure")) != self.secure):
            raise PrerequisiteError(
                f"{self.state_dir} holds a cluster with other ports or node count",
                hint="use the same --nodes/--kafka-port/--secure as before, or delete that folder for a "
                "fresh cluster",
            )
        cluster_id = str(state.get("cluster_id") or _new_cluster_id())
        log4j = self.state_dir / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES)
        security = self._security()
        for node in self.nodes:
            node.directory.mkdir(parents=True, exist_ok=True)
            node.properties_file.write_text(render_server_properties(node, self.nodes, security))
            node.properties_file.chmod(0o600)  # a secured node's file holds the admin password
            if not (node.data_dir / "meta.properties").is_file():
                self._format(java, libs, node, cluster_id, security)
        state = {
            "cluster_id": cluster_id,
            "kafka_version": kafka_version(),
            "ports": ports,
            "secure": self.secure,
        }
        (self.state_dir / _STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
        return cluster_id

    def _format(
        self, java: str, libs: Path, node: NodeSpec, cluster_id: str, security: BrokerSecurity | None
    ) -> None:
        cmd = [
            java,
            "-Xmx256m",
            f"-Dlog4j2.configurationFile={self.state_dir / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={cluster_id}",
            f"--config={node.properties_file}",
        ]
        if security is not None:  # the super user exists from the start (SCRAM lives in the metadata log)
            cmd.append(f"--add-scram=SCRAM-SHA-512=[name=admin,password={security.admin_password}]")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
        if proc.returncode != 0:
            raise PrerequisiteError(
                f"formatting the storage of node {node.node_id} failed:\n"
                + "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:]),
                hint=f"delete {self.state_dir} for a fresh cluster, then try again",
            )

    def _launch(self, java: str, libs: Path, node: NodeSpec) -> None:
        cmd = [
            java,
            "-Xms256m",
            self.heap,
            "-server",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.state_dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={node.directory}",
            f"-Dmais.node.dir={node.directory}",
            "-cp",
            f"{libs}/*",
            "kafka.Kafka",
            str(node.properties_file),
        ]
        with node.log_file.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the CLI that started it; Ctrl-C does not reach it
            )
        self._children[proc.pid] = proc
        node.pid_file.write_text(f"{proc.pid}\n")

    def _fail_if_any_died(self) -> None:
        for node in self.nodes:
            pid = read_pid(node.pid_file)
            if pid is None or not self._is_running(pid, node):
                raise PrerequisiteError(
                    f"the broker of node {node.node_id} exited while starting\n{self._log_tails()}",
                    hint=f"read {node.log_file}; after fixing the cause run `mais dev down` and try again",
                )

    def _log_tails(self, lines: int = 20) -> str:
        parts = []
        for node in self.nodes:
            if node.log_file.is_file():
                tail = node.log_file.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- last lines of {node.log_file} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def _wait_exit(self, pid: int, node: NodeSpec, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if not self._is_running(pid, node):
                return True
            time.sleep(0.2)
        return False

    def _node(self, node_id: int) -> NodeSpec:
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise PrerequisiteError(f"no node {node_id} in this cluster", hint="node ids start at 1")


def _new_cluster_id() -> str:
    """A Kafka Uuid: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's own ``Uuid.randomUuid``, never one starting with ``-``: command-line parsers
    would take it for an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _is_our_broker(pid: int, node: NodeSpec) -> bool:
    """True if ``pid`` is alive and is the broker JVM started for ``node`` (not a reused pid)."""
    return runs_with(pid, f"-Dmais.node.dir={node.directory}")
