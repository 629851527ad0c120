"""HTTP routes speaking Confluent Schema Registry's REST API (v1 content type, error bodies)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.registry import _commands as commands
from services.registry._commands import Plan, SchemaParser
from services.registry._errors import RegistryError
from services.registry._http import CONTENT_TYPE, RegistryJSON
from services.registry._policy import Policy
from services.registry._state import RegistryState
from services.registry._store import Store

__all__ = ["RegistryApi"]

T = TypeVar("T")


def _flag(request: Request, name: str, *aliases: str) -> bool:
    return any(request.query_params.get(key, "").lower() == "true" for key in (name, *aliases))


def _page(request: Request, items: list[T]) -> list[T]:
    try:
        offset = max(0, int(request.query_params.get("offset", "0")))
        limit = int(request.query_params.get("limit", "-1"))
    except ValueError:
        raise RegistryError.bad_request("offset and limit must be integers") from None
    items = items[offset:]
    return items[:limit] if limit >= 0 else items


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RegistryError.bad_request("the request body is not valid JSON") from None


def _schema_id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except ValueError:
        raise RegistryError.schema_not_found() from None


class RegistryApi:
    """Routes bound to one :class:`Store`."""

    def __init__(self, policy: Policy, store: Store | None = None) -> None:
        self.policy = policy
        self.parser = SchemaParser()
        self._store = store

    def attach(self, store: Store | None) -> None:
        """Serve from ``store`` (``None``: not serving, every API call answers 503)."""
        self._store = store

    @property
    def store(self) -> Store:
        if self._store is None or not self._store.ready:
            raise RegistryError.not_ready()
        return self._store

    # -- helpers ------------------------------------------------------------------------------
    async def _read(self, query: Callable[[RegistryState], T]) -> T:
        """Answer from applied state (off the event loop: a writer may hold the state lock).

        On a miss, catch up with the end of the log once and ask again, so an id or version
        written through another instance a moment ago is found.
        """
        store = self.store

        def locked() -> T:
            with store.lock:
                return query(store.state)

        try:
            return await run_in_threadpool(locked)
        except RegistryError as exc:
            if exc.status != 404:
                raise
        await run_in_threadpool(store.sync)
        return await run_in_threadpool(locked)

    async def _write(self, planner: Callable[[RegistryState], Plan[T]]) -> T:
        return await run_in_threadpool(self.store.write, planner)

    def _version(self, state: RegistryState, subject: str, raw: str, deleted: bool) -> dict[str, Any]:
        number = commands.parse_version(raw)
        if not state.has_subject(subject, deleted=deleted):
            raise RegistryError.subject_not_found(subject)
        entry = (
            state.latest(subject, deleted=deleted)
            if number is None
            else state.version(subject, number, deleted=deleted)
        )
        schema = state.schema(entry.schema_id) if entry is not None else None
        if entry is None or schema is None:
            raise RegistryError.version_not_found(subject, raw)
        return {"subject": subject, "version": entry.version, "id": entry.schema_id, **schema.to_json()}

    # -- subjects -----------------------------------------------------------------------------
    async def list_subjects(self, request: Request) -> Response:
        deleted, only = _flag(request, "deleted"), _flag(request, "deleted_only", "deletedOnly")
        prefix = request.query_params.get("subjectPrefix", "")
        names = await self._read(lambda s: s.subject_names(deleted=deleted, deleted_only=only))
        return RegistryJSON(_page(request, [n for n in names if n.startswith(prefix)]))

    async def list_versions(self, request: Request) -> Response:
        subject = request.path_params["subject"]
        deleted, only = _flag(request, "deleted"), _flag(request, "deleted_only", "deletedOnly")

        def query(state: RegistryState) -> list[int]:
            entries = state.versions(subject, deleted=deleted or only)
            if not entries:
                raise RegistryError.subject_not_found(subject)
            return [v.version for v in entries if v.deleted or not only]

        return RegistryJSON(_page(request, await self._read(query)))

    async def register(self, request: Request) -> Response:
        subject, body = request.path_params["subject"], await _body(request)
        normalize = _flag(request, "normalize")
        result = await self._write(
            lambda s: commands.plan_register(s, self.policy, self.parser, subject, body, normalize=normalize)
        )
        return RegistryJSON(result)

    async def get_version(self, request: Request) -> Response:
        subject, raw, deleted = (
            request.path_params["subject"],
            request.path_params["version"],
            _flag(request, "deleted"),
        )
        return RegistryJSON(await self._read(lambda s: self._version(s, subject, raw, deleted)))

    async def get_version_schema(self, request: Request) -> Response:
        subject, raw = request.path_params["subject"], request.path_params["version"]
        found = await self._read(lambda s: self._version(s, subject, raw, _flag(request, "deleted")))
        return Response(found["schema"], media_type=CONTENT_TYPE)

    async def referenced_by(self, request: Request) -> Response:
        subject, raw = request.path_params["subject"], request.path_params["version"]

        def query(state: RegistryState) -> list[int]:
            found = self._version(state, subject, raw, False)
            return state.referenced_by(subject, int(found["version"]))

        return RegistryJSON(_page(request, await self._read(query)))

    async def lookup(self, request: Request) -> Response:
        subject, body = request.path_params["subject"], await _body(request)
        deleted = _flag(request, "deleted")
        return RegistryJSON(
            await self._read(lambda s: commands.lookup(s, self.parser, subject, body, deleted=deleted))
        )

    async def delete_subject(self, request: Request) -> Response:
        subject, permanent = request.path_params["subject"], _flag(request, "permanent")
        result = await self._write(
            lambda s: commands.plan_delete_subject(s, self.policy, subject, permanent=permanent)
        )
        return RegistryJSON(result)

    async def delete_version(self, request: Request) -> Response:
        subject, raw = request.path_params["subject"], request.path_params["version"]
        permanent = _flag(request, "permanent")
        result = await self._write(
            lambda s: commands.plan_delete_version(s, self.policy, subject, raw, permanent=permanent)
        )
        return RegistryJSON(result)

    # -- schemas by id ------------------------------------------------------------------------
    async def get_schema(self, request: Request) -> Response:
        schema_id = _schema_id(request)

        def query(state: RegistryState) -> dict[str, Any]:
            entry = state.schema(schema_id)
            if entry is None:
                raise RegistryError.schema_not_found(f"Schema {schema_id} not found")
            return entry.to_json()

        found = await self._read(query)
        if request.url.path.endswith("/schema"):
            return Response(found["schema"], media_type=CONTENT_TYPE)
        return RegistryJSON(found)

    async def schema_usages(self, request: Request) -> Response:
        schema_id, deleted = _schema_id(request), _flag(request, "deleted")
        want_subjects = request.url.path.endswith("/subjects")

        def query(state: RegistryState) -> list[Any]:
            if state.schema(schema_id) is None:
                raise RegistryError.schema_not_found(f"Schema {schema_id} not found")
            usages = state.usages(schema_id, deleted=deleted)
            if want_subjects:
                return sorted({u.subject for u in usages})
            return [{"subject": u.subject, "version": u.version} for u in usages]

        return RegistryJSON(_page(request, await self._read(query)))

    async def schema_types(self, _request: Request) -> Response:
        return RegistryJSON(["AVRO"])

    # -- config and mode ----------------------------------------------------------------------
    async def get_config(self, request: Request) -> Response:
        subject = request.path_params.get("subject")
        to_global = _flag(request, "defaultToGlobal")

        def query(state: RegistryState) -> dict[str, Any]:
            if subject is None:
                return {"compatibilityLevel": self.policy.global_level(state).value}
            level = self.policy.subject_level(state, subject)
            if level is None and to_global:
                level = self.policy.global_level(state)
            if level is None:
                raise RegistryError.subject_config_not_found(subject)
            return {"compatibilityLevel": level.value}

        return RegistryJSON(await self._read(query))

    async def put_config(self, request: Request) -> Response:
        subject, body = request.path_params.get("subject"), await _body(request)
        return RegistryJSON(await self._write(lambda s: commands.plan_set_config(s, subject, body)))

    async def delete_config(self, request: Request) -> Response:
        subject = request.path_params.get("subject")
        return RegistryJSON(await self._write(lambda s: commands.plan_delete_config(s, self.policy, subject)))

    async def get_mode(self, request: Request) -> Response:
        subject = request.path_params.get("subject")
        to_global = _flag(request, "defaultToGlobal")

        def query(state: RegistryState) -> dict[str, Any]:
            if subject is not None and state.mode(subject) is None and not to_global:
                raise RegistryError.subject_mode_not_found(subject)
            return {"mode": self.policy.mode(state, subject).value}

        return RegistryJSON(await self._read(query))

    async def put_mode(self, request: Request) -> Response:
        subject, body = request.path_params.get("subject"), await _body(request)
        return RegistryJSON(await self._write(lambda s: commands.plan_set_mode(s, subject, body)))

    async def delete_mode(self, request: Request) -> Response:
        subject = request.path_params["subject"]
        return RegistryJSON(await self._write(lambda s: commands.plan_delete_mode(s, subject)))

    # -- compatibility ------------------------------------------------------------------------
    async def compatibility(self, request: Request) -> Response:
        subject, raw = request.path_params["subject"], request.path_params.get("version")
        body, verbose = await _body(request), _flag(request, "verbose")
        result = await self._read(
            lambda s: commands.compatibility_report(
                s, self.policy, self.parser, subject, raw_version=raw, body=body, verbose=verbose
            )
        )
        return RegistryJSON(result)

    # -- operations ---------------------------------------------------------------------------
    async def root(self, _request: Request) -> Response:
        return RegistryJSON({})

    async def contexts(self, _request: Request) -> Response:
        return RegistryJSON(["."])

    async def healthz(self, _request: Request) -> Response:
        store = self._store
        ready = store is not None and store.ready
        body = {"status": "ok" if ready else "unavailable", "log_position": store.position if store else None}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(self, _request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    def routes(self) -> list[Route]:
        s = "/subjects/{subject}"
        v = s + "/versions/{version}"
        ids = "/schemas/ids/{id}"
        return [
            Route("/", self.root, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/contexts", self.contexts, methods=["GET"]),
            Route("/subjects", self.list_subjects, methods=["GET"]),
            Route(s, self.lookup, methods=["POST"]),
            Route(s, self.delete_subject, methods=["DELETE"]),
            Route(s + "/versions", self.list_versions, methods=["GET"]),
            Route(s + "/versions", self.register, methods=["POST"]),
            Route(v, self.get_version, methods=["GET"]),
            Route(v, self.delete_version, methods=["DELETE"]),
            Route(v + "/schema", self.get_version_schema, methods=["GET"]),
            Route(v + "/referencedby", self.referenced_by, methods=["GET"]),
            Route(ids, self.get_schema, methods=["GET"]),
            Route(ids + "/schema", self.get_schema, methods=["GET"]),
            Route(ids + "/subjects", self.schema_usages, methods=["GET"]),
            Route(ids + "/versions", self.schema_usages, methods=["GET"]),
            Route("/schemas/types", self.schema_types, methods=["GET"]),
            Route("/config", self.get_config, methods=["GET"]),
            Route("/config", self.put_config, methods=["PUT"]),
            Route("/config", self.delete_config, methods=["DELETE"]),
            Route("/config/{subject}", self.get_config, methods=["GET"]),
            Route("/config/{subject}", self.put_config, methods=["PUT"]),
            Route("/config/{subject}", self.delete_config, methods=["DELETE"]),
            Route("/mode", self.get_mode, methods=["GET"]),
            Route("/mode", self.put_mode, methods=["PUT"]),
            Route("/mode/{subject}", self.get_mode, methods=["GET"]),
            Route("/mode/{subject}", self.put_mode, methods=["PUT"]),
            Route("/mode/{subject}", self.delete_mode, methods=["DELETE"]),
            Route("/compatibility/subjects/{subject}/versions", self.compatibility, methods=["POST"]),
            Route(
                "/compatibility/subjects/{subject}/versions/{version}", self.compatibility, methods=["POST"]
            ),
        ]
