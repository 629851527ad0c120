"""The HAPI FHIR R4 validator for tests: fetched once from Maven Central, run offline, in one JVM per batch.

``deploy/hapi/pom.xml`` pins the validator; its jars are copied into
``~/.cache/mais-exchange/hapi-<version>/libs`` (``MAIS_KAFKA_CACHE`` moves the cache root, as for
the Kafka jars) and ``deploy/hapi/Validate.java`` is compiled next to them. ``scripts/test.sh``
fetches them before the tests (``python tests/fhir_validator.py fetch``); the tests themselves need
no network. A JVM start costs several seconds of CPU: validate a batch of files in one call.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from exchange.localkafka._jars import cache_root
from exchange.localkafka._prereqs import maven_executable

ROOT = Path(__file__).resolve().parents[1]
POM = ROOT / "deploy" / "hapi" / "pom.xml"
SOURCE = ROOT / "deploy" / "hapi" / "Validate.java"


def _home() -> Path:
    version = re.search(r"<hapi\.version>([^<]+)</hapi\.version>", POM.read_text())
    assert version is not None
    return cache_root() / f"hapi-{version.group(1)}"


def ensure_validator() -> Path:
    """The validator's folder (``libs/`` and ``classes/``), fetching and compiling it the first time."""
    home = _home()
    libs, classes = home / "libs", home / "classes"
    if not (libs / ".complete").is_file():
        staging = home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run(
            [
                maven_executable(),
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staging}",
            ],
            check=True,
            timeout=1800,
        )
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        (libs / ".complete").write_text("ok\n")
    compiled = classes / "Validate.class"
    stale = not compiled.is_file() or compiled.stat().st_mtime < SOURCE.stat().st_mtime
    if stale:
        classes.mkdir(parents=True, exist_ok=True)
        javac = ["javac", "-cp", f"{libs}/*", "-d", str(classes), str(SOURCE)]
        subprocess.run(javac, check=True, timeout=300)
    return home


def validate_files(files: list[Path]) -> dict[str, list[str]]:
    """Errors per file (an empty list: the file is valid FHIR R4)."""
    home = ensure_validator()
    proc = subprocess.run(
        [
            "java",
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            f"{home / 'libs'}/*:{home / 'classes'}",
            "Validate",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        name, status, *errors = line.split("\t")
        results[name] = [] if status == "OK" else errors
    missing = [str(f) for f in files if str(f) not in results]
    if missing:
        raise RuntimeError(f"the validator did not report on {missing}: {proc.stderr[-2000:]}")
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["fetch"]:
        print(f"HAPI FHIR validator ready in {ensure_validator()}")  # noqa: T201 - a set-up step's report
    else:
        for file, errors in validate_files([Path(a) for a in sys.argv[1:]]).items():
            print(file, "OK" if not errors else "\n  ".join(["ERROR", *errors]))  # noqa: T201
