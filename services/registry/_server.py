"""Running the registry: build the app for a store, serve it with uvicorn, stop cleanly."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import uuid
from collections.abc import AsyncIterator

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from exchange.errors import PrerequisiteError
from services.registry._api import RegistryApi
from services.registry._errors import RegistryError
from services.registry._http import build_app
from services.registry._kafka import KafkaLog, ensure_topic
from services.registry._policy import Policy
from services.registry._settings import RegistrySettings
from services.registry._store import Log, Store

__all__ = ["create_app", "serve"]

_log = structlog.get_logger("mais.registry")


def _policy(settings: RegistrySettings) -> Policy:
    return Policy(
        default_compatibility=settings.default_compatibility,
        standard_prefixes=settings.standard_subject_prefixes,
        standard_compatibility=settings.standard_compatibility,
    )


def create_app(settings: RegistrySettings, log: Log | None = None) -> Starlette:
    """The registry as an ASGI app; its lifespan loads state from the log and stops it at exit.

    ``log`` defaults to the Kafka topic of ``settings`` (created if missing at start-up).
    """
    instance_id = settings.instance_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"

    def open_store() -> Store:
        the_log = log
        if the_log is None:
            ensure_topic(settings.kafka, settings.topic, timeout=settings.timeout_seconds)
            the_log = KafkaLog(settings.kafka, settings.topic, timeout=settings.timeout_seconds)
        store = Store(the_log, instance_id=instance_id, timeout=settings.timeout_seconds)
        store.start()
        return store

    api = RegistryApi(_policy(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        store = await run_in_threadpool(open_store)
        api.attach(store)
        _log.info("registry_started", topic=settings.topic, instance=instance_id)
        try:
            yield
        finally:
            api.attach(None)
            await run_in_threadpool(store.stop)
            _log.info("registry_stopped", instance=instance_id)

    return build_app(api, lifespan, users_file=settings.users_file)


def configure_logging() -> None:
    """JSON lines on stderr for our events and for uvicorn's own messages alike."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PrerequisiteError(
                f"cannot listen on {host}:{port} (in use or not an address of this machine)",
                hint="stop what uses the port, or set MAIS_REGISTRY_PORT / --port to another one",
            ) from None


def serve(settings: RegistrySettings) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn drains requests, then the lifespan stops the store."""
    configure_logging()
    _check_port(settings.host, settings.port)
    try:
        ensure_topic(settings.kafka, settings.topic, timeout=settings.timeout_seconds)
    except RegistryError as exc:
        raise PrerequisiteError(
            f"the registry cannot use its Kafka topic {settings.topic}: {exc.message}",
            hint="start Kafka (`mais dev up`) or point MAIS_KAFKA_BOOTSTRAP_SERVERS at a running cluster",
        ) from None
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise PrerequisiteError(
            "the registry did not start; its log above says why",
            hint="check that Kafka is reachable and the topic is a one-partition compacted topic",
        )
