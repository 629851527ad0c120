"""``mais singleview serve``: the store, the subscriber thread and the web server in one process."""

from __future__ import annotations

import secrets
import signal
import threading
from dataclasses import dataclass
from typing import Any

import uvicorn

from exchange.codec import AvroCodec
from exchange.errors import ConfigError
from exchange.logging import get_logger
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.settings import KafkaSettings
from services.singleview._audit import AuditLog
from services.singleview._auth import Authenticator, LocalUsers, TrustedHeader, hash_password
from services.singleview._db import Database
from services.singleview._directory import Directory
from services.singleview._linking import Linker
from services.singleview._live import Notifier
from services.singleview._matcher import MatchingLinker
from services.singleview._metrics import SingleViewMetrics
from services.singleview._settings import SingleViewSettings
from services.singleview._storeapi import Store
from services.singleview._subscriber import Subscriber
from services.singleview._web import WebContext, create_app

__all__ = ["SingleView", "build_authenticator", "default_linker"]

_log = get_logger("mais.singleview")


def default_linker() -> Linker:
    """The linker the service uses: the matching library with its shipped model."""
    return MatchingLinker()


def build_authenticator(settings: SingleViewSettings) -> Authenticator:
    if settings.trusted_user_header:
        return TrustedHeader(settings.trusted_user_header)
    if settings.users_file is not None:
        return LocalUsers.from_file(settings.users_file)
    if settings.dev_user and settings.dev_password is not None:
        if len(settings.dev_password.get_secret_value()) < 8:
            raise ConfigError(
                "MAIS_SINGLEVIEW_DEV_PASSWORD is empty or shorter than 8 characters",
                hint="set a development password of at least 8 characters, e.g. $(openssl rand -hex 12)",
            )
        return LocalUsers({settings.dev_user: hash_password(settings.dev_password.get_secret_value())})
    raise ConfigError(
        "nobody can sign in: no users file, identity-provider header or development user is configured",
        hint="set MAIS_SINGLEVIEW_USERS_FILE (see docs/singleview.md), MAIS_SINGLEVIEW_TRUSTED_USER_HEADER, "
        "or MAIS_SINGLEVIEW_DEV_USER and MAIS_SINGLEVIEW_DEV_PASSWORD",
    )


@dataclass
class SingleView:
    """Everything one SingleView process runs; :meth:`start` then :meth:`serve` or :meth:`stop`."""

    settings: SingleViewSettings
    kafka: KafkaSettings
    registry: RegistrySettings

    def __post_init__(self) -> None:
        self.metrics = SingleViewMetrics()
        self.notifier = Notifier()
        self.store = Store(Database(self.settings.database_url), default_linker)
        self.registry_client = SchemaRegistryClient.from_settings(self.registry)
        self.codec = AvroCodec(self.registry_client)
        self.subscriber: Subscriber | None = None
        self.server: uvicorn.Server | None = None

    def app(self) -> Any:
        ctx = WebContext(
            store=self.store,
            audit=AuditLog(self.kafka, self.codec, self.settings.audit_topic, self.settings.organisation),
            authenticator=build_authenticator(self.settings),
            directory=Directory.load(self.settings.directory),
            notifier=self.notifier,
            metrics=self.metrics,
            session_secret=(
                self.settings.session_secret.get_secret_value()
                if self.settings.session_secret
                else secrets.token_hex(32)
            ),
            is_ready=self.readiness,
            demo=self.settings.demo,
        )
        return create_app(ctx)

    def readiness(self) -> tuple[bool, str]:
        if self.subscriber is None:
            return False, "starting"
        if self.subscriber.failure is not None:
            return False, f"subscriber stopped: {type(self.subscriber.failure).__name__}"
        return (True, "consuming") if self.subscriber.ready.is_set() else (False, "catching up")

    def start(self) -> SingleView:
        self.store.open()
        self.subscriber = Subscriber(
            self.store, kafka=self.kafka, registry=self.registry, settings=self.settings,
            metrics=self.metrics, notifier=self.notifier,
        )  # fmt: skip
        self.subscriber.start()
        return self

    def serve(self) -> None:
        """Serve HTTP until SIGTERM/SIGINT, then stop the subscriber cleanly."""
        config = uvicorn.Config(
            self.app(),
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        _log.info("singleview listening", port=self.settings.port)
        try:
            self.server.run()
        finally:
            self.stop()

    def stop(self) -> None:
        if self.subscriber is not None:
            self.subscriber.stop()
        self.store.close()
        self.registry_client.close()


def ingest_only(view: SingleView) -> None:
    """Run the subscriber alone until SIGTERM/SIGINT (no web server)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    view.start()
    while not stop.wait(0.5):
        subscriber = view.subscriber
        if subscriber is not None and subscriber.failure is not None:
            raise subscriber.failure
    view.stop()
