"""mais match link --truth on generated samples prints clusters and accuracy figures; train and
query work from the same files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange.adapter import load_adapter
from exchange.cli import app
from exchange.cli.translate import translate_files
from exchange.samples import generate


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("match")
    generated = generate(folder / "samples", people=300, seed=5)
    events = folder / "events.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for item in generated.samples.files:
            if not item.file.startswith("mllp/"):
                adapter = load_adapter(item.format)
                translate_files(
                    adapter, [generated.out / item.file], agency=item.agency,
                    organisation=item.organisation, out=out, err=io.StringIO(),
                )  # fmt: skip
    return events, generated.out / "truth.csv"


def test_link_with_truth_prints_clusters_and_figures(translated: tuple[Path, Path]) -> None:
    events, truth = translated
    result = CliRunner().invoke(app, ["match", "link", str(events), "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    clusters = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert clusters and all(c["records"] for c in clusters)
    for figure in ("pairwise precision", "pairwise recall", "pairwise F1", "B-cubed precision",
                   "B-cubed recall", "blocking ceiling", "reachable ceiling", "records/s"):  # fmt: skip
        assert figure in result.stderr
    f1 = float(result.stderr.split("pairwise F1")[1].split()[1])
    assert f1 > 0.8


def test_train_then_query_scores_one_person_with_an_explanation(
    translated: tuple[Path, Path], tmp_path: Path
) -> None:
    events, _ = translated
    model = tmp_path / "model.json"
    runner = CliRunner()
    trained = runner.invoke(app, ["match", "train", str(events), "--out", str(model)])
    assert trained.exit_code == 0, trained.output
    assert json.loads(model.read_text())["version"] == 1
    first = next(json.loads(line) for line in events.read_text().splitlines() if "PersonRecorded" in line)
    query = tmp_path / "query.json"
    query.write_text(json.dumps(first["value"]["person"]))
    result = runner.invoke(
        app, ["match", "query", str(events), "--person", str(query), "--model", str(model)]
    )
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout.splitlines()[0])
    assert best["key"] == first["key"] and best["grade"] == 0.99 and best["probability"] > 0.99
    assert best["explanation"]["birth_date"]["level"] == "exact"


def test_link_of_a_missing_file_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["match", "link", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0
