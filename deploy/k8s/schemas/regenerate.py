"""Regenerate the Strimzi CRD JSON schemas that kubeconform checks deploy/k8s against, offline.

Strimzi's own CRD generator (``io.strimzi:crd-generator``) turns its API classes (``io.strimzi:api``)
into the CustomResourceDefinitions it releases; both come from Maven Central at the version pinned
in ``pom.xml``. Each CRD's ``kafka.strimzi.io/v1`` OpenAPI schema becomes one JSON schema named as
kubeconform looks it up (``<kind>_v1.json``), made strict like kubeconform's own
``openapi2jsonschema``: objects with declared properties accept no others, and
``x-kubernetes-int-or-string`` becomes a string-or-integer choice.

The generator's classes need Java 21 or newer: ``JAVA_HOME`` if it is one, else the newest JDK under
``/usr/lib/jvm``. The jars are cached in ``~/.cache/mais-exchange/strimzi-<version>/``.

Usage (from the repository root, with the project's venv):
    .venv/bin/python deploy/k8s/schemas/regenerate.py            # rewrite the committed schemas
    .venv/bin/python deploy/k8s/schemas/regenerate.py --check    # exit 1 if they differ
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
KINDS = {
    "Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
    "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "KafkaUser": "io.strimzi.api.kafka.model.user.KafkaUser",
}
API_VERSION = "v1"
MIN_JAVA = 21


def strimzi_version() -> str:
    match = re.search(r"<strimzi\.version>([^<]+)</strimzi\.version>", POM.read_text())
    if match is None:
        raise SystemExit(f"no <strimzi.version> in {POM}")
    return match.group(1)


def schema_dir() -> Path:
    return HERE / f"strimzi-{strimzi_version()}"


def _java_major(java: Path) -> int:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(match.group(1)) if match else 0


def find_java() -> Path | None:
    """A Java 21+ executable, or None."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    candidates += sorted(Path("/usr/lib/jvm").glob("*/bin/java"), reverse=True)
    for java in candidates:
        if java.is_file() and _java_major(java) >= MIN_JAVA:
            return java
    return None


def jars() -> Path:
    libs = Path.home() / ".cache" / "mais-exchange" / f"strimzi-{strimzi_version()}" / "libs"
    if not (libs / ".complete").is_file():
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={libs}"],
            check=True,
        )  # fmt: skip
        (libs / ".complete").write_text(strimzi_version() + "\n")
    return libs


def generate_crds(java: Path, out: Path) -> dict[str, dict[str, Any]]:
    """Run Strimzi's CRD generator; the CRDs by kind."""
    targets = [f"{cls}={out / (kind.lower() + '.crd.json')}" for kind, cls in KINDS.items()]
    subprocess.run(
        [str(java), "-cp", f"{jars()}/*", "io.strimzi.crdgenerator.CrdGenerator",
         "--api-versions", API_VERSION, "--storage-version", API_VERSION, *targets],
        check=True,
    )  # fmt: skip
    return {kind: json.loads((out / (kind.lower() + ".crd.json")).read_text()) for kind in KINDS}


def strict(node: Any) -> Any:
    """kubeconform's openapi2jsonschema rules: closed objects, int-or-string as a choice."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: strict(value) for key, value in node.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    closed = "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields")
    if closed and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def schemas_from(crds: dict[str, dict[str, Any]]) -> dict[str, str]:
    """File name -> JSON text of each kind's v1 schema."""
    files = {}
    for kind, crd in crds.items():
        version = next(v for v in crd["spec"]["versions"] if v["name"] == API_VERSION)
        schema = strict(version["schema"]["openAPIV3Schema"])
        files[f"{kind.lower()}_{API_VERSION}.json"] = json.dumps(schema, indent=1, sort_keys=True) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed schemas")
    parser.add_argument("--out", type=Path, default=None, help="write here instead of the committed folder")
    args = parser.parse_args()
    java = find_java()
    if java is None:
        print(f"regenerate: no Java {MIN_JAVA}+ found (JAVA_HOME or /usr/lib/jvm)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        files = schemas_from(generate_crds(java, Path(tmp)))
    target = args.out or schema_dir()
    if args.check:
        stale = [name for name, text in files.items() if (target / name).read_text() != text]
        for name in stale:
            print(f"regenerate: {target / name} differs from what Strimzi {strimzi_version()} generates")
        return 1 if stale else 0
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text)
        print(f"regenerate: wrote {target / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
