#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, lint, type-check, then every test, including the
# integration tests, which start their own real Kafka broker (or use KAFKA_BOOTSTRAP_SERVERS).
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/install-browser.sh   # Debian chromium for the page tests (headless)
bash scripts/install-postgres.sh  # Debian postgresql binaries for the SingleView store tests
bash scripts/install-deploy-tools.sh  # promtool, kubeconform, compose loader: offline checks of deploy/
bash scripts/install-openssl.sh  # the openssl tool: docs/runtime.md makes certificates with it (tested)

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== HAPI FHIR validator (fetched once from Maven Central; the tests run it offline)"
.venv/bin/python tests/fhir_validator.py fetch
echo "== pytest"
set +e
# test brokers keep their state under .mais/pytest so a leftover one can be found and stopped
mkdir -p .mais
.venv/bin/python -m pytest --basetemp=.mais/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
fi
# never leave a broker behind, even if a test was interrupted
pkill -f -- "-Dmais.node.dir=$(pwd)/.mais/pytest" 2>/dev/null || true
exit "$status"
