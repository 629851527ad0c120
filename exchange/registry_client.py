"""A small client for the Confluent Schema Registry REST API.

It speaks only the common subset that Confluent, Karapace, Apicurio (ccompat), Redpanda and
our own ``services/registry`` all serve: register, lookup, schema by id, latest version and
compatibility config. Look-ups are cached: a schema id never changes meaning, so the id→schema
map lives as long as the client; an id the registry does not know is asked for once and the
"not found" is remembered for ``negative_ttl`` seconds, so a burst of messages with a foreign id
costs one request, not one per message.

Failures that may pass (connection refused, timeouts, 5xx, 429) raise
:class:`~exchange.errors.TransientError`; the runtime retries them with backoff.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from cachetools import TTLCache
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.errors import ConfigError, MaisError, TransientError

__all__ = [
    "RegisteredSchema",
    "RegistryForbiddenError",
    "RegistrySettings",
    "SchemaNotFoundError",
    "SchemaRegistry",
    "SchemaRegistryClient",
]

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_SUBJECT_NOT_FOUND = 40401
_SCHEMA_NOT_FOUND = 40403


class SchemaNotFoundError(MaisError):
    """The registry does not know this schema id, subject or schema."""


class RegistryForbiddenError(ConfigError):
    """The registry refused the credentials (401) or the operation for this principal (403)."""


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A schema as registered under a subject."""

    subject: str
    id: int
    version: int
    schema: str


class SchemaRegistry(Protocol):
    """What the codec and runtime need from a schema registry (a client or a test double)."""

    def register(self, subject: str, schema: str) -> int: ...

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None: ...

    def get_schema(self, schema_id: int) -> str: ...

    def latest_version(self, subject: str) -> RegisteredSchema: ...

    def get_compatibility(self, subject: str | None = None) -> str: ...

    def set_compatibility(self, level: str, subject: str | None = None) -> str: ...


class RegistrySettings(BaseSettings):
    """How to reach the schema registry (``MAIS_SCHEMA_REGISTRY_URL`` …).

    ``username``/``password`` are sent as HTTP basic auth; ``ca_location`` is the PEM file of the
    CA that issued an ``https://`` registry's certificate (default: the system's trust store).
    """

    model_config = SettingsConfigDict(env_prefix="MAIS_SCHEMA_REGISTRY_", extra="forbid", frozen=True)

    url: str = "http://127.0.0.1:8081"
    username: str | None = None
    password: SecretStr | None = None
    ca_location: Path | None = None
    timeout_s: float = 10.0

    def environment(self) -> dict[str, str]:
        """These settings as ``MAIS_SCHEMA_REGISTRY_*`` variables, secret included: for a child
        process's environment or a client settings file only, never for printing or logging."""
        env = {"MAIS_SCHEMA_REGISTRY_URL": self.url}
        if self.username is not None:
            env["MAIS_SCHEMA_REGISTRY_USERNAME"] = self.username
        if self.password is not None:
            env["MAIS_SCHEMA_REGISTRY_PASSWORD"] = self.password.get_secret_value()
        if self.ca_location is not None:
            env["MAIS_SCHEMA_REGISTRY_CA_LOCATION"] = str(self.ca_location)
        return env


class SchemaRegistryClient:
    """Confluent-compatible schema registry client with caches (thread-safe)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        timeout_s: float = 10.0,
        negative_ttl_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        ca_location: Path | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"schema registry URL {url!r} is not http(s)", hint="e.g. http://127.0.0.1:8081"
            )
        auth = (username, password.get_secret_value()) if username and password else None
        verify: ssl.SSLContext | bool = True
        if ca_location is not None:
            if not ca_location.is_file():
                raise ConfigError(
                    f"the registry CA file {ca_location} does not exist",
                    hint="set MAIS_SCHEMA_REGISTRY_CA_LOCATION to the PEM file of the registry's CA",
                )
            verify = ssl.create_default_context(cafile=str(ca_location))
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            auth=auth,
            verify=verify,
            timeout=timeout_s,
            headers={"Accept": _CONTENT_TYPE, "Content-Type": _CONTENT_TYPE},
            transport=transport,
        )
        self._lock = threading.Lock()
        self._schemas_by_id: dict[int, str] = {}
        self._ids_by_schema: dict[tuple[str, str], int] = {}
        self._unknown_ids: TTLCache[int, bool] = TTLCache(maxsize=10_000, ttl=negative_ttl_s)
        self.requests = 0
        """How many HTTP requests this client made (tests and benchmarks check the caches)."""

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> SchemaRegistryClient:
        return cls(
            settings.url,
            username=settings.username,
            password=settings.password,
            timeout_s=settings.timeout_s,
            ca_location=settings.ca_location,
        )

    def close(self) -> None:
        self._http.close()

    def register(self, subject: str, schema: str) -> int:
        """Register ``schema`` under ``subject`` (idempotent) and return its id."""
        cached = self._ids_by_schema.get((subject, schema))
        if cached is not None:
            return cached
        try:
            body = self._call("POST", f"/subjects/{_quote(subject)}/versions", {"schema": schema})
        except RegistryForbiddenError:
            # a read-only principal (an agency on a secured exchange) cannot register, but a
            # schema the operator registered already is only looked up
            found = self.lookup(subject, schema)
            if found is None:
                raise RegistryForbiddenError(
                    f"not allowed to register a new schema under subject {subject}",
                    hint="ask the exchange's operator to register it (mais agency add does for the "
                    "standard's events)",
                ) from None
            return found.id
        schema_id = int(body["id"])
        with self._lock:
            self._ids_by_schema[(subject, schema)] = schema_id
            self._schemas_by_id.setdefault(schema_id, schema)
        return schema_id

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        """The registration of ``schema`` under ``subject``, or ``None`` if it is not registered."""
        try:
            body = self._call("POST", f"/subjects/{_quote(subject)}", {"schema": schema})
        except SchemaNotFoundError:
            return None
        found = _registered(body, subject)
        with self._lock:
            self._ids_by_schema[(subject, schema)] = found.id
        return found

    def get_schema(self, schema_id: int) -> str:
        """The schema with this id; :class:`SchemaNotFoundError` if the registry does not know it."""
        cached = self._schemas_by_id.get(schema_id)
        if cached is not None:
            return cached
        if schema_id in self._unknown_ids:
            raise SchemaNotFoundError(f"schema id {schema_id} is not registered")
        try:
            body = self._call("GET", f"/schemas/ids/{schema_id}", None)
        except SchemaNotFoundError:
            with self._lock:
                self._unknown_ids[schema_id] = True
            raise
        schema = str(body["schema"])
        with self._lock:
            self._schemas_by_id[schema_id] = schema
        return schema

    def latest_version(self, subject: str) -> RegisteredSchema:
        """The latest version registered under ``subject``."""
        return _registered(self._call("GET", f"/subjects/{_quote(subject)}/versions/latest", None), subject)

    def subjects(self) -> list[str]:
        """Every subject the registry holds."""
        return [str(s) for s in self._call_list("/subjects")]

    def versions(self, subject: str) -> list[int]:
        """The version numbers registered under ``subject``."""
        return [int(v) for v in self._call_list(f"/subjects/{_quote(subject)}/versions")]

    def _call_list(self, path: str) -> list[Any]:
        try:
            response = self._http.get(path)
        except httpx.TransportError as exc:
            raise TransientError(f"schema registry unreachable ({type(exc).__name__})") from exc
        if response.status_code in (401, 403):
            raise RegistryForbiddenError(f"schema registry refused GET {path}: {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, list):
            raise TransientError(f"schema registry answered {response.status_code} to GET {path}")
        return body

    def get_compatibility(self, subject: str | None = None) -> str:
        """The compatibility level of ``subject`` (falling back to the global one), or the global one."""
        path = f"/config/{_quote(subject)}?defaultToGlobal=true" if subject else "/config"
        return str(self._call("GET", path, None)["compatibilityLevel"])

    def set_compatibility(self, level: str, subject: str | None = None) -> str:
        """Set the compatibility level of ``subject`` (or the global one)."""
        path = f"/config/{_quote(subject)}" if subject else "/config"
        return str(self._call("PUT", path, {"compatibility": level})["compatibility"])

    def _call(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        self.requests += 1
        try:
            response = self._http.request(method, path, content=json.dumps(payload) if payload else None)
        except httpx.TransportError as exc:
            if _is_tls_failure(exc):
                raise ConfigError(
                    f"the schema registry's certificate is not trusted ({type(exc).__name__})",
                    hint="set MAIS_SCHEMA_REGISTRY_CA_LOCATION to the PEM file of the CA that issued it",
                ) from None
            raise TransientError(
                f"schema registry unreachable ({type(exc).__name__})",
                hint="check MAIS_SCHEMA_REGISTRY_URL and that the registry is running",
            ) from exc
        if response.status_code in (401, 403):
            raise RegistryForbiddenError(
                f"schema registry refused {method} {path}: {response.status_code}",
                hint="check MAIS_SCHEMA_REGISTRY_USERNAME/PASSWORD; only the operator registers schemas"
                if response.status_code == 403
                else "check MAIS_SCHEMA_REGISTRY_USERNAME and MAIS_SCHEMA_REGISTRY_PASSWORD",
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"schema registry answered {response.status_code} to {method} {path}")
        try:
            body = response.json()
        except ValueError:
            raise TransientError(f"schema registry sent a non-JSON answer to {method} {path}") from None
        if not isinstance(body, dict):
            raise TransientError(f"schema registry sent an unexpected answer to {method} {path}")
        if response.status_code == 404 and body.get("error_code") in (_SUBJECT_NOT_FOUND, _SCHEMA_NOT_FOUND):
            raise SchemaNotFoundError(f"schema registry: {method} {path} not found")
        if response.status_code >= 400:
            raise ConfigError(
                f"schema registry refused {method} {path}: {response.status_code} "
                f"(error code {body.get('error_code')}): {body.get('message', '')}",
                hint="an incompatible or invalid schema must be fixed before it can be used",
            )
        return body


def _registered(body: dict[str, Any], subject: str) -> RegisteredSchema:
    return RegisteredSchema(
        subject=str(body.get("subject", subject)),
        id=int(body["id"]),
        version=int(body["version"]),
        schema=str(body["schema"]),
    )


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _quote(subject: str) -> str:
    return quote(subject, safe="")
