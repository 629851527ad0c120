"""Standalone Kubernetes JSON schemas for kubeconform, made offline from the kubernetes-validate package.

kubernetes-validate (PyPI) ships the Kubernetes OpenAPI schemas of many versions as JSON schemas
whose ``$ref`` point into a shared ``_definitions.json`` by an absolute ``/api/`` path that only its
own resolver understands. kubeconform wants one self-contained file per kind
(``<kind>-<group>-<version>.json``), so each is written with its references inlined (a reference
back into itself, which only CRD-style recursive types have, becomes an open schema).

Usage: python deploy/tools/k8s_schemas.py OUT_DIR [KUBERNETES_VERSION]   (default 1.33.0)
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any


def inline(node: Any, definitions: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    if isinstance(node, list):
        return [inline(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and "#/$defs/" in ref:
        name = ref.split("#/$defs/", 1)[1]
        rest = {k: inline(v, definitions, seen) for k, v in node.items() if k != "$ref"}
        if name in seen:
            return rest
        return {**inline(definitions[name], definitions, seen | {name}), **rest}
    return {key: inline(value, definitions, seen) for key, value in node.items()}


def write_schemas(out: Path, version: str = "1.33.0") -> int:
    spec = importlib.util.find_spec("kubernetes_validate")  # its data only; its code is not needed
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("kubernetes-validate is not installed: run `bash scripts/bootstrap.sh`")
    package = Path(next(iter(spec.submodule_search_locations)))
    source = package / "kubernetes-json-schema" / f"v{version}-local-strict"
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.glob("*.json")):
        if path.name.startswith("_"):
            continue
        schema = json.loads(path.read_text())
        if "x-kubernetes-group-version-kind" not in schema:
            continue  # only kinds a manifest can be
        (out / path.name).write_text(json.dumps(inline(schema, definitions)))
        count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    written = write_schemas(Path(sys.argv[1]), *sys.argv[2:])
    print(f"k8s_schemas: {written} standalone schemas in {sys.argv[1]}")
