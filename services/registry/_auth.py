"""HTTP basic authentication and two roles for the registry.

With a users file (``MAIS_REGISTRY_USERS_FILE``, see :class:`exchange.security.RegistryUsers`)
every request but ``/healthz`` and ``/metrics`` must carry valid basic-auth credentials:
``401`` otherwise. A ``reader`` (an agency, the monitor) may read everything and look schemas up
or test compatibility; registering, deleting and changing config or mode is the ``operator``'s
(``403`` for a reader). The file is re-read when it changes; a successful check is remembered
(by a keyed digest of the password, never the password) until then, so the slow hash is paid
once per client and file version.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from pathlib import Path
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from exchange.security import RegistryUser, RegistryUsers

__all__ = ["BasicAuth", "reader_may"]

_log = structlog.get_logger("mais.registry.auth")
_OPEN = frozenset({"/healthz", "/metrics"})
_LOOKUP = re.compile(rb"^/subjects/[^/]+/?$")
_REALM = b'Basic realm="mais-registry"'


def reader_may(method: str, raw_path: bytes) -> bool:
    """True if a read-only principal may make this request (reads, look-ups, compatibility tests)."""
    if method in ("GET", "HEAD"):
        return True
    path = raw_path.split(b"?", 1)[0]
    return method == "POST" and (bool(_LOOKUP.match(path)) or path.startswith(b"/compatibility/"))


class _UsersCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users = RegistryUsers(path)
        self._verified: dict[tuple[str, bytes], RegistryUser] = {}
        self._key = secrets.token_bytes(32)

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = (0, 0)
        if stamp != self._stamp:
            self._users = RegistryUsers.load(self.path, missing_ok=True)
            self._verified.clear()
            self._stamp = stamp
            _log.info("registry_users_loaded", count=len(self._users.users))

    def authenticate(self, name: str, password: str) -> RegistryUser | None:
        digest = hmac.new(self._key, password.encode(), hashlib.sha256).digest()
        with self._lock:
            self._refresh()
            known = self._verified.get((name, digest))
            if known is not None:
                return known
            users = self._users
        user = users.authenticate(name, password)
        if user is not None:
            with self._lock:
                self._verified[(name, digest)] = user
        return user


class BasicAuth:
    """ASGI middleware: authenticate, then allow by role; see the module documentation."""

    def __init__(self, app: ASGIApp, users_file: Path) -> None:
        self.app = app
        self._users = _UsersCache(users_file)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _OPEN:
            await self.app(scope, receive, send)
            return
        user = self._user(scope)
        if user is None:
            await _refuse(send, 401, 40101, "Unauthorized", www_authenticate=True)
            return
        if user.role != "operator" and not reader_may(scope["method"], scope.get("raw_path") or b""):
            _log.info("registry_request_forbidden", method=scope["method"], role=user.role)
            await _refuse(send, 403, 40301, "User is denied operation")
            return
        await self.app(scope, receive, send)

    def _user(self, scope: Scope) -> RegistryUser | None:
        header = dict(scope.get("headers") or ()).get(b"authorization", b"")
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            name, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if not sep:
            return None
        return self._users.authenticate(name, password)


async def _refuse(
    send: Send, status: int, code: int, message: str, *, www_authenticate: bool = False
) -> None:
    body = f'{{"error_code":{code},"message":"{message}"}}'.encode()
    headers: list[Any] = [
        (b"content-type", b"application/vnd.schemaregistry.v1+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if www_authenticate:
        headers.append((b"www-authenticate", _REALM))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
