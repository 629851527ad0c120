"""Import direction: the kernel does not reach into adapters or services, adapters do not touch
Kafka or the network, matching touches no Kafka, HTTP or database, and framing touches no socket.

Every import statement counts, including those inside functions. The kernel reaches adapters only
through the adapter registry (``exchange/adapter.py``) and services only through the
``mais.commands`` entry point (``exchange/cli/_services.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

_KAFKA_AND_NETWORK = (
    "confluent_kafka",
    "aiokafka",
    "httpx",
    "starlette",
    "uvicorn",
    "socket",
    "socketserver",
)
_DATABASES = ("sqlite3", "psycopg", "psycopg2", "asyncpg", "sqlalchemy", "duckdb")
_KERNEL_PLUMBING = (
    "exchange.runtime",
    "exchange.registry_client",
    "exchange.localkafka",
    "exchange.run",
    "exchange.cli",
)

# (files, forbidden module prefixes, why)
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "exchange/**/*.py",
        ("adapters", "services"),
        "the kernel reaches adapters and services only by registry",
    ),
    (
        "adapters/**/*.py",
        (*_KAFKA_AND_NETWORK, *_KERNEL_PLUMBING, "services"),
        "adapters are pure: parsing and mapping, no Kafka, network or runtime",
    ),
    (
        "exchange/matching/**/*.py",
        (*_KAFKA_AND_NETWORK, *_DATABASES, *_KERNEL_PLUMBING, "adapters", "services"),
        "matching is a pure library",
    ),
    ("exchange/mllp.py", ("socket", "socketserver", "exchange.runtime"), "framing never touches a socket"),
    (
        "exchange/ingress/**/*.py",
        (
            "confluent_kafka",
            "aiokafka",
            "exchange.runtime",
            "exchange.run",
            "exchange.cli",
            "adapters",
            "services",
        ),
        "ingress decides who may send; it knows nothing of Kafka or the runtime behind it",
    ),
]


# the adapter registry is the kernel's one door to adapters
_ALLOWED = {("exchange/adapter.py", "adapters")}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of every module ``path`` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _dynamic_imports(path: Path) -> set[str]:
    """String prefixes passed to ``importlib.import_module`` (literal or f-string head)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == (
            "import_module"
        ):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                found.add(str(arg.values[0].value))
    return found


def _violations(pattern: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted(ROOT.glob(pattern)):
        where = str(path.relative_to(ROOT))
        for module in sorted(imported_modules(path)):
            if (where, module) in _ALLOWED:
                continue
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


@pytest.mark.parametrize(("pattern", "forbidden", "why"), RULES, ids=[r[0] for r in RULES])
def test_import_direction(pattern: str, forbidden: tuple[str, ...], why: str) -> None:
    assert _violations(pattern, forbidden) == [], why


def test_kernel_imports_adapters_dynamically_only_through_the_registry() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {name!r} dynamically"
        for path in sorted(ROOT.glob("exchange/**/*.py"))
        if path != ROOT / "exchange/adapter.py"
        for name in _dynamic_imports(path)
        if name.startswith(("adapters", "services"))
    ]
    assert bad == []


def test_services_use_each_other_only_through_public_packages() -> None:
    bad = []
    for path in sorted(ROOT.glob("services/*/**/*.py")):
        own = path.relative_to(ROOT).parts[1]
        for module in imported_modules(path):
            parts = module.split(".")
            if len(parts) > 2 and parts[0] == "services" and parts[1] != own and parts[2].startswith("_"):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


def test_the_checker_sees_imports_inside_functions_and_relative_imports(tmp_path: Path) -> None:
    """The rules above are only as good as the import finder: it must not miss hidden imports."""
    module = tmp_path / "exchange" / "probe.py"
    module.parent.mkdir()
    module.write_text(
        "def f():\n    import adapters.hl7v2\n    from ..services import registry\n    from . import codec\n",
        encoding="utf-8",
    )
    found = imported_modules(module, root=tmp_path)
    assert {"adapters.hl7v2", "services", "services.registry", "exchange.codec"} <= found
