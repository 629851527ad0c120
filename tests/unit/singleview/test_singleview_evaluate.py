"""The person pages agree with truth.csv at the precision and recall the matching library reports
for the same data: `mais singleview evaluate` against `mais match link --truth`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from exchange.cli import app
from exchange.schemas import from_json
from services.singleview import Database, Store
from services.singleview.testing import SampleEvent, as_events, sample_files

FIGURES = ("pairwise precision", "pairwise recall", "B-cubed precision", "B-cubed recall")


def _figures(output: str) -> dict[str, str]:
    found = {name: re.search(rf"{name}\s*│\s*([0-9.]+)", output) for name in FIGURES}
    assert all(found.values()), output
    return {name: match[1] for name, match in found.items() if match}


def test_person_pages_agree_with_truth_as_the_matching_library_reports(tmp_path: Path) -> None:
    files = sample_files(tmp_path / "samples", people=300, seed=5)
    events = []
    for path in files:
        for line in path.read_text().splitlines():
            data = json.loads(line)
            agency, entity = data["topic"].split(".")[1:3]
            value = from_json(data["schema"], data["value"])
            events.append(SampleEvent(agency, entity, data["key"], data["schema"], value))
    url = f"sqlite:///{tmp_path}/store.db"
    store = Store(Database(url)).open()
    decoded = as_events(events)
    for start in range(0, len(decoded), 250):
        chunk = decoded[start : start + 250]
        store.apply_batch(chunk, {(e.topic, e.partition): e.offset + 1 for e in chunk})
    store.close()
    truth = tmp_path / "samples" / "truth.csv"
    runner = CliRunner()

    pages = runner.invoke(app, ["singleview", "evaluate", "--truth", str(truth), "--database-url", url])
    library = runner.invoke(app, ["match", "link", *map(str, files), "--truth", str(truth)])

    assert pages.exit_code == 0, pages.output
    assert library.exit_code == 0, library.output
    assert _figures(pages.output) == _figures(library.output)
    assert float(_figures(pages.output)["pairwise recall"]) > 0.8
