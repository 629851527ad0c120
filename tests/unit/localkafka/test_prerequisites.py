"""The local broker's start-up checks fail clearly, naming what is wrong and what to do."""

from __future__ import annotations

import os
import re
import socket
import stat
from pathlib import Path

import pytest

from exchange.errors import ConfigError, PrerequisiteError
from exchange.localkafka import LocalKafkaCluster, free_port
from exchange.localkafka._cluster import _new_cluster_id
from exchange.localkafka._config import NodeSpec, render_server_properties
from exchange.localkafka._jars import verify_jars
from exchange.localkafka._prereqs import check_java, ensure_port_free, maven_executable


def fake_java(tmp_path: Path, version_line: str) -> Path:
    bin_dir = tmp_path / "jdk" / "bin"
    bin_dir.mkdir(parents=True)
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return tmp_path / "jdk"


def test_port_in_use_is_reported_with_its_number() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PrerequisiteError, match=f"port {port} .* in use"):
            ensure_port_free(port)


def test_free_port_passes_the_check() -> None:
    ensure_port_free(free_port())


def test_too_old_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path, 'openjdk version "11.0.2" 2019-01-15')))
    with pytest.raises(PrerequisiteError, match="Java 11 is too old") as info:
        check_java()
    assert info.value.hint and "17" in info.value.hint


def test_legacy_java_version_string_is_understood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path, 'java version "1.8.0_402"')))
    with pytest.raises(PrerequisiteError, match="Java 8 is too old"):
        check_java()


def test_java_17_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')
    monkeypatch.setenv("JAVA_HOME", str(home))
    assert check_java() == str(home / "bin" / "java")


def test_missing_java_and_maven_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError, match="Java was not found"):
        check_java()
    with pytest.raises(PrerequisiteError, match="Maven") as info:
        maven_executable()
    assert info.value.hint and "MAIS_KAFKA_LIBS" in info.value.hint


def test_jar_folder_without_broker_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PrerequisiteError, match=r"no kafka_2\.13 jar"):
        verify_jars(tmp_path)


def test_only_one_or_three_nodes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="1 or 3 nodes"):
        LocalKafkaCluster(tmp_path, nodes=2)


def test_three_node_config_replicates_and_needs_two_in_sync(tmp_path: Path) -> None:
    nodes = tuple(NodeSpec(i, 9000 + i, 9100 + i, tmp_path / f"n{i}") for i in (1, 2, 3))
    props = dict(
        line.split("=", 1) for line in render_server_properties(nodes[1], nodes).splitlines() if "=" in line
    )
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9002,CONTROLLER://127.0.0.1:9102"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["unclean.leader.election.enable"] == "false"


def test_single_node_config_fits_one_broker(tmp_path: Path) -> None:
    node = NodeSpec(1, 9092, 9093, tmp_path)
    props = dict(line.split("=", 1) for line in render_server_properties(node, (node,)).splitlines())
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert all("127.0.0.1" in v for k, v in props.items() if "listeners" in k)


def test_stop_ignores_a_recorded_pid_that_is_not_our_broker(tmp_path: Path) -> None:
    cluster = LocalKafkaCluster(tmp_path, ports=[(free_port(), free_port())])
    node = cluster.nodes[0]
    node.directory.mkdir(parents=True)
    node.pid_file.write_text(f"{os.getpid()}\n")  # a live process, but not a broker of this folder
    assert cluster.running_pids() == {}
    assert cluster.stop(timeout=1) == []


def test_cluster_ids_are_kafka_uuids_never_taken_for_options() -> None:
    ids = [_new_cluster_id() for _ in range(2000)]
    assert all(len(cluster_id) == 22 and not cluster_id.startswith("-") for cluster_id in ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id) for cluster_id in ids)
    assert len(set(ids)) == len(ids)
