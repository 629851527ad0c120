"""The broker's jars, resolved once from Maven Central into a cache outside the repository.

``deploy/local/pom.xml`` is the single place where the Kafka and log4j2 versions are pinned.
The cache is ``$MAIS_KAFKA_CACHE`` (default ``~/.cache/mais-exchange``) / ``kafka-<version>/libs``,
re-used by every later run; ``MAIS_KAFKA_LIBS`` may point at a ready folder of jars instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from exchange.errors import PrerequisiteError
from exchange.localkafka._prereqs import maven_executable

_REPO_POM = Path(__file__).resolve().parents[2] / "deploy" / "local" / "pom.xml"
_COMPLETE_MARKER = ".complete"


def pom_path() -> Path:
    """Where the broker runtime's ``pom.xml`` lives (``MAIS_KAFKA_POM`` overrides)."""
    path = Path(os.environ.get("MAIS_KAFKA_POM", str(_REPO_POM)))
    if not path.is_file():
        raise PrerequisiteError(
            f"the Kafka runtime pom.xml was not found at {path}",
            hint="run from a checkout of the repository, or set MAIS_KAFKA_POM to deploy/local/pom.xml",
        )
    return path


def kafka_version() -> str:
    """The Kafka version pinned in ``deploy/local/pom.xml``."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom_path().read_text())
    if not match:
        raise PrerequisiteError(
            f"no <kafka.version> property in {pom_path()}",
            hint="restore the <kafka.version> property in deploy/local/pom.xml",
        )
    return match.group(1).strip()


def cache_root() -> Path:
    default = Path.home() / ".cache" / "mais-exchange"
    return Path(os.environ.get("MAIS_KAFKA_CACHE", str(default)))


def ensure_jars(progress: list[str] | None = None) -> Path:
    """Return the folder of broker jars, running Maven once if the cache is empty.

    ``progress``, if given, receives human-readable lines about what happened.
    """
    override = os.environ.get("MAIS_KAFKA_LIBS")
    if override:
        libs = Path(override)
        verify_jars(libs)
        return libs
    version = kafka_version()
    libs = cache_root() / f"kafka-{version}" / "libs"
    if (libs / _COMPLETE_MARKER).is_file():
        return libs
    mvn = maven_executable()
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    if progress is not None:
        progress.append(f"resolving Kafka {version} jars with Maven into {libs}")
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom_path()),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise PrerequisiteError(
            f"Maven could not resolve the Kafka {version} jars (exit {proc.returncode}):\n{tail}",
            hint="check that Maven can reach its central repository (proxy settings in ~/.m2/settings.xml)",
        )
    verify_jars(staging)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    (libs / _COMPLETE_MARKER).write_text(version + "\n")
    return libs


def verify_jars(libs: Path) -> None:
    """Guard against classpath drift: the broker, the storage tool and a log binding must be there."""
    cores = sorted(libs.glob("kafka_2.13-*.jar"))
    if not cores:
        raise PrerequisiteError(
            f"no kafka_2.13 jar in {libs}",
            hint="delete that folder and run again so Maven fetches the jars afresh",
        )
    with zipfile.ZipFile(cores[-1]) as jar:
        names = set(jar.namelist())
    for needed in ("kafka/Kafka.class", "kafka/tools/StorageTool.class"):
        if needed not in names:
            raise PrerequisiteError(
                f"{cores[-1].name} lacks {needed}; this Kafka version cannot be run this way",
                hint="pin a Kafka 4.x version in deploy/local/pom.xml whose core jar has it",
            )
    if not list(libs.glob("log4j-slf4j*-impl-*.jar")):
        raise PrerequisiteError(
            f"no log4j SLF4J binding jar in {libs}; the broker would log nothing",
            hint="keep the log4j-slf4j-impl dependency in deploy/local/pom.xml",
        )
