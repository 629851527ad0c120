"""Offline checks of everything under deploy/: Compose, Kubernetes (Strimzi), alert rules, dashboard.

No container engine or cluster runs here: the compose file is loaded by the compose-spec library
`docker compose` uses, every manifest is validated by kubeconform against Strimzi's CRD schemas and
the Kubernetes schemas (strict: unknown fields are errors), and the alert rules pass their promtool
unit tests. Each checker is also shown to refuse a broken input, so a green run means something.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from deploy_tools import REPO, kubeconform, run, tool

from exchange.security import AgencyBook
from exchange.topics import shared_topics
from services.deploy import render_agencies, resources
from services.monitor._cluster import ClusterSnapshot, GroupLag
from services.monitor._metrics import exposition
from services.monitor._ops import OpsLedger
from services.monitor._view import build_view

COMPOSE = REPO / "deploy" / "compose" / "compose.yaml"
K8S = REPO / "deploy" / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml")) + sorted((K8S / "generated").glob("*.yaml"))
PROMETHEUS = REPO / "deploy" / "prometheus"


def test_the_compose_file_loads_with_the_compose_spec_loader(tmp_path: Path) -> None:
    checked = run(tool("composecheck"), COMPOSE)
    assert checked.returncode == 0, checked.stderr
    broken = tmp_path / "compose.yaml"
    undefined = "condition: service_completed_successfully\n      nosuch:\n        condition: service_started"
    broken.write_text(COMPOSE.read_text().replace("condition: service_completed_successfully", undefined, 1))
    refused = run(tool("composecheck"), broken)
    assert refused.returncode == 1 and "undefined service" in refused.stderr


def test_every_kubernetes_manifest_is_valid_against_strimzi_and_kubernetes_schemas() -> None:
    assert {p.name for p in MANIFESTS} >= {"kafka.yaml", "agencies.yaml", "registry.yaml", "monitor.yaml"}
    checked = kubeconform(*MANIFESTS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    summary = re.search(r"Valid: (\d+), Invalid: (\d+), Errors: (\d+)", checked.stdout)
    assert summary is not None, checked.stdout
    valid, invalid, errors = map(int, summary.groups())
    assert (invalid, errors) == (0, 0) and valid >= 60


def test_kubeconform_refuses_unknown_fields_in_strimzi_and_kubernetes_resources(tmp_path: Path) -> None:
    user = (K8S / "generated" / "agencies.yaml").read_text().replace("operations:", "operation:", 1)
    deployment = (K8S / "monitor.yaml").read_text().replace("replicas: 1", "replica: 1", 1)
    for name, text in (("user.yaml", user), ("deployment.yaml", deployment)):
        (tmp_path / name).write_text(text)
        refused = kubeconform(tmp_path / name)
        assert refused.returncode == 1, name
        assert "additional properties" in refused.stdout + refused.stderr, name


def test_the_cluster_has_three_brokers_replication_three_and_min_isr_two() -> None:
    kafka = (K8S / "kafka.yaml").read_text()
    assert "apiVersion: kafka.strimzi.io/v1\nkind: KafkaNodePool" in kafka
    assert re.search(r"replicas: 3\n\s+roles:\n\s+- controller\n\s+- broker", kafka)
    for setting in (
        "default.replication.factor: 3",
        "min.insync.replicas: 2",
        "transaction.state.log.min.isr: 2",
    ):
        assert setting in kafka
    assert "authentication:\n          type: scram-sha-512" in kafka and "type: simple" in kafka


def test_the_rendered_agency_resources_are_what_agencies_toml_renders_to() -> None:
    book = AgencyBook.load(REPO / "agencies.toml")
    assert (K8S / "generated" / "agencies.yaml").read_text() == render_agencies(book), (
        "deploy/k8s/generated/agencies.yaml is stale: run `mais deploy render`"
    )
    docs = resources(book)
    shared = {spec.name for spec in shared_topics()}
    users = {d["metadata"]["name"]: d for d in docs if d["kind"] == "KafkaUser"}
    topics = {d["spec"]["topicName"]: d for d in docs if d["kind"] == "KafkaTopic"}
    assert set(users) == set(book.agencies) | {"mais-monitor", "mais-registry"}
    for agency in book:
        acls = users[agency.id]["spec"]["authorization"]["acls"]
        assert acls == [
            rule.to_strimzi() for rule in agency.acl_rules()
        ]  # the rules `mais agency add` applies
        for acl in acls:
            name = acl["resource"].get("name", "")
            own = name.startswith(f"mais.{agency.id}.")
            assert own or name in agency.granted_topics() or name in shared
            assert own or acl["resource"]["patternType"] == "literal"  # nothing else by prefix
            assert ".dlq." not in name or own
        for spec in agency.topics():
            topic = topics[spec.name]["spec"]
            assert topic["replicas"] == 3 and topic["config"]["min.insync.replicas"] == "2"
    assert shared <= set(topics)  # rendered once, for the operator to create
    assert topics["mais.audit.v1"]["spec"]["config"]["retention.ms"] == "-1"
    police = {a["resource"]["name"] for a in users["police"]["spec"]["authorization"]["acls"]}
    assert "mais.csc.person.v1" in police and "mais.csc.episode.v1" not in police
    monitor_ops = [
        a for a in users["mais-monitor"]["spec"]["authorization"]["acls"] if "Read" in a["operations"]
    ]
    assert all(a["resource"]["name"].endswith(".ops.v1") for a in monitor_ops)


def test_the_alert_rules_pass_their_promtool_unit_tests() -> None:
    promtool = tool("promtool")
    checked = run(promtool, "check", "rules", "alerts.yml", cwd=PROMETHEUS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", "alerts_test.yml", cwd=PROMETHEUS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_alerts_and_dashboard_use_only_metrics_the_monitor_exports() -> None:
    ledger = OpsLedger()
    cluster = ClusterSnapshot(
        ok=True, brokers=3, lag=[GroupLag("mais.a.g", "mais.b.person.v1", "b", 5, 2.0, False, 1, "STABLE")]
    )
    from exchange.ops import FeedStatus, RejectNotice, encode  # noqa: PLC0415

    ledger.apply("a", encode(FeedStatus("x", "1", "dir:/d", 10, 9, {"map": 1}, 1.0, 2.0, 5.0))[1])
    ledger.apply("a", encode(RejectNotice("0:1", "x", "map", "DataError", "m", "o", "t", 0, False))[1])
    text = exposition(lambda: build_view(cluster, ledger, [], quiet_after_s=60)).decode()
    exported = set(re.findall(r"^(mais_[a-z_]+?)(?:_total)?[{ ]", text, re.MULTILINE))
    used = set(re.findall(r"\bmais_[a-z_]+", (PROMETHEUS / "alerts.yml").read_text()))
    dashboard = json.loads((REPO / "deploy" / "grafana" / "mais-exchange.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\bmais_[a-z_]+", target["expr"]))
    assert used and used <= exported, used - exported


def test_the_dockerfile_copies_files_that_exist_and_runs_mais() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), source
    assert 'ENTRYPOINT ["mais"]' in dockerfile and "USER mais" in dockerfile
