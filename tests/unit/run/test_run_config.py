"""`mais.toml`, the metrics scrape of `mais run`, and the MLLP idempotency key: pure code, no broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchange.errors import ConfigError
from exchange.metrics import RuntimeMetrics
from exchange.run import load_config, parse_metrics
from exchange.run._run import _choose_seed, _remember_seed
from exchange.runtime._mllp_source import hl7_idempotency_key
from exchange.samples import generate

REPO = Path(__file__).resolve().parents[3]

ENTRY = """
[[adapters]]
name = "{name}"
adapter = "hl7v2"
agency = "{agency}"
source = "{source}"
feed = ["hl7/gp_adt.hl7"]
"""


def _config(tmp_path: Path, *entries: dict[str, str]) -> Path:
    path = tmp_path / "mais.toml"
    path.write_text("".join(ENTRY.format(**e) for e in entries), encoding="utf-8")
    return path


def test_shipped_mais_toml_feeds_each_adapter_files_made_for_it(tmp_path: Path) -> None:
    config = load_config(REPO / "mais.toml")
    generate(tmp_path, people=config.samples.people, seed=config.samples.seed)
    manifest = {f["file"]: f for f in json.loads((tmp_path / "manifest.json").read_text())["files"]}
    assert len({entry.agency for entry in config.adapters}) >= 6
    for entry in config.adapters:
        files = [p for pattern in entry.feed for p in tmp_path.glob(pattern)]
        assert files, entry.name
        for path in files:
            described = manifest[path.relative_to(tmp_path).as_posix()]
            assert (described["format"], described["organisation"]) == (entry.adapter, entry.organisation)


def test_bad_tables_are_reported_by_table_and_key(tmp_path: Path) -> None:
    good = {"name": "gp", "agency": "gp-practice", "source": "mllp:127.0.0.1:2575"}
    with pytest.raises(ConfigError, match=r"adapters\.0\.agency"):
        load_config(_config(tmp_path, {**good, "agency": "GP"}))
    with pytest.raises(ConfigError, match=r"adapters\.0\.source"):
        load_config(_config(tmp_path, {**good, "source": "http:127.0.0.1:8000"}))
    with pytest.raises(ConfigError, match=r"adapters\.0\.source: .*without TLS, for this machine only"):
        load_config(_config(tmp_path, {**good, "source": "mllp:0.0.0.0:2575"}))
    with pytest.raises(ConfigError, match="same name"):
        load_config(_config(tmp_path, good, {**good, "source": "dir:drop/x"}))
    with pytest.raises(ConfigError, match="no configuration file"):
        load_config(tmp_path / "missing.toml")


def test_relative_drop_folders_live_under_the_state_folder(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, {"name": "gp", "agency": "gp-practice", "source": "dir:drop/gp"}))
    assert str(config.adapters[0].source_spec(tmp_path / "state")) == f"dir:{tmp_path}/state/drop/gp"


def test_metrics_scrape_sums_the_record_counters_over_labels() -> None:
    metrics = RuntimeMetrics("hl7v2", "hospital")
    metrics.records_in("mllp", 5)
    metrics.records_out("mais.hospital.person.v1", 7)
    metrics.records_out("mais.hospital.episode.v1", 3)
    metrics.rejected("map")
    metrics.rejected("parse", 2)
    counts = parse_metrics(metrics.exposition().decode())
    assert (counts.records_in, counts.records_out, counts.rejected) == (5, 10, 3)


def test_hl7_idempotency_key_names_sender_and_control_id_and_tells_reused_ids_apart() -> None:
    message = b"MSH|^~\\&|PAS|R9Z|MAIS|LA999|20240101||ADT^A04|CTRL 1/2|P|2.4\rPID|1||M1^^^R9Z^MR\r"
    key = hl7_idempotency_key(message)
    assert key.startswith("PAS.R9Z:CTRL_1_2:")
    assert hl7_idempotency_key(message) == key  # a resend is a duplicate
    assert hl7_idempotency_key(message.replace(b"M1^", b"M2^")) != key  # a reused control id is not
    assert hl7_idempotency_key(b"PID|1\r").startswith("sha256:")
    assert hl7_idempotency_key(b"MSH|^~\\&|PAS|R9Z\r").startswith("sha256:")  # no MSH-10


def test_each_run_feeds_people_not_fed_before(tmp_path: Path) -> None:
    assert _choose_seed(tmp_path, 1, None) == (1, "")
    _remember_seed(tmp_path, 1)
    seed, note = _choose_seed(tmp_path, 1, None)
    assert seed == 2
    assert "Seed 1 was fed in an earlier run" in note
    _remember_seed(tmp_path, 2)
    assert _choose_seed(tmp_path, 1, None)[0] == 3
    # an explicit --seed is obeyed even when it was fed before (replaying the same people)
    assert _choose_seed(tmp_path, 1, 1) == (1, "")
