"""The shipped model: its format loads, bad files are refused clearly, and training on the shipped
samples reproduces it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from exchange.adapter import load_adapter
from exchange.cli.match import read_records
from exchange.cli.translate import translate_files
from exchange.errors import ConfigError
from exchange.matching import FORMAT_VERSION, LEVELS, load_model, train
from exchange.samples import generate


def test_shipped_model_loads_with_every_comparison_and_sane_thresholds() -> None:
    model = load_model()
    assert [c.field for c in model.comparisons] == list(LEVELS)
    for comparison in model.comparisons:
        assert tuple(level.label for level in comparison.levels) == LEVELS[comparison.field]
        assert comparison.levels[0].weight > 0 > comparison.levels[-1].weight
    assert 0 < model.thresholds.review <= model.thresholds.auto_link < 1
    assert "mais samples generate" in model.trained_on


def test_a_model_round_trips_through_its_file(tmp_path: Path) -> None:
    model = load_model()
    model.save(tmp_path / "m.json")
    again = load_model(tmp_path / "m.json")
    assert again.comparisons == model.comparisons or all(
        a.levels == b.levels for a, b in zip(again.comparisons, model.comparisons, strict=True)
    )
    assert again.prior == pytest.approx(model.prior)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=FORMAT_VERSION + 1), "format version"),
        (lambda d: d["comparisons"][0]["levels"].pop(), "levels of nhs_number"),
        (lambda d: d.pop("prior"), "missing or has a malformed entry"),
        (lambda d: d.update(thresholds={"auto_link": 0.4, "review": 0.9}), "thresholds"),
    ],
)
def test_a_bad_model_file_is_refused_with_what_to_do(tmp_path: Path, change: object, message: str) -> None:
    document = load_model().to_json()
    change(document)  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_model(path)
    assert caught.value.hint


@pytest.mark.slow
def test_training_on_the_shipped_samples_reproduces_the_default_model(tmp_path: Path) -> None:
    generated = generate(tmp_path / "samples", people=2000, seed=1)
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for item in generated.samples.files:
            if item.file.startswith("mllp/"):
                continue
            files = [generated.out / item.file]
            rejected = translate_files(
                load_adapter(item.format), files, agency=item.agency, organisation=item.organisation,
                out=out, err=io.StringIO(),
            )  # fmt: skip
            assert rejected == 0
    trained = train(read_records([events]).records.values())
    shipped = load_model()
    for new, old in zip(trained.comparisons, shipped.comparisons, strict=True):
        for a, b in zip(new.levels, old.levels, strict=True):
            assert a.m == pytest.approx(b.m, abs=0.02), (new.field, a.label)
            assert a.u == pytest.approx(b.u, rel=0.1, abs=1e-4), (new.field, a.label)
    assert trained.prior == pytest.approx(shipped.prior, rel=0.1)
