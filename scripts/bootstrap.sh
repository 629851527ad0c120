#!/usr/bin/env bash
# Set up everything MAIS Exchange needs on this machine, idempotently:
#   .venv/ with the hash-locked dependencies and the project (so .venv/bin/mais is the CLI),
#   and the Kafka broker jars resolved by Maven into ~/.cache/mais-exchange (outside the repo).
# Needs: Python 3.11+, JDK 17+, Maven 3.8+. No Docker.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
fail() { echo "bootstrap: error: $1" >&2; echo "bootstrap: what to do: $2" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || fail "$PYTHON not found" "install Python 3.11 or newer, or set PYTHON=/path/to/python3.11"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$("$PYTHON" --version 2>&1) is too old" "install Python 3.11 or newer, or set PYTHON=/path/to/python3.11"

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "bootstrap: installing locked dependencies (requirements.lock)"
.venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .

echo "bootstrap: checking Java and fetching the Kafka jars (first time only)"
.venv/bin/python - <<'PY'
import sys
from exchange.errors import MaisError
from exchange.localkafka import ensure_jars, kafka_version
from exchange.localkafka._prereqs import check_java
try:
    check_java()
    notes: list[str] = []
    libs = ensure_jars(notes)
except MaisError as exc:
    print(f"bootstrap: error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"bootstrap: what to do: {exc.hint}", file=sys.stderr)
    sys.exit(1)
for line in notes:
    print(f"bootstrap: {line}")
print(f"bootstrap: Kafka {kafka_version()} jars ready in {libs}")
PY
echo "bootstrap: done. The CLI is .venv/bin/mais"
