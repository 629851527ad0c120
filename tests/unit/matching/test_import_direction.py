"""exchange.matching is pure: it imports no Kafka, HTTP or database module, nor services/adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import exchange.matching

FORBIDDEN = (
    "confluent_kafka", "aiokafka", "httpx", "starlette", "uvicorn", "requests", "urllib",
    "sqlite3", "psycopg", "psycopg2", "sqlalchemy", "asyncpg", "duckdb", "services", "adapters",
    "exchange.runtime", "exchange.registry_client", "exchange.localkafka", "exchange.run",
)  # fmt: skip


def test_matching_imports_no_kafka_http_or_database_module() -> None:
    package = Path(exchange.matching.__file__).parent
    found = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                (path.name, n) for n in names if n.split(".")[0] in FORBIDDEN or n.startswith(FORBIDDEN)
            ]
    assert found == []
