"""Who is signed in. One extension point, :class:`Authenticator`; two implementations shipped.

* :class:`LocalUsers` - a TOML list of users with scrypt password hashes (development, small
  teams). ``mais singleview hash-password`` prints a hash for the file.
* :class:`TrustedHeader` - the hook for an identity provider: a sign-in proxy in front of the
  SingleView (OpenID Connect, SAML) authenticates the user and sets a header (e.g.
  ``X-Forwarded-User``); only deploy it where nothing but that proxy can reach the SingleView.

The page keeps the signed-in user in a signed session cookie; the JSON API also accepts HTTP
Basic credentials of local users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from starlette.requests import Request

from exchange.errors import ConfigError

__all__ = ["Authenticator", "LocalUsers", "TrustedHeader", "User", "hash_password"]

_REMEMBER_S = 300.0
_REMEMBERED = 1000


@dataclass(frozen=True, slots=True)
class User:
    name: str


class Authenticator(Protocol):
    def authenticate(self, request: Request) -> User | None:
        """The user a request comes from without a session (a proxy header, Basic credentials)."""

    def check_password(self, name: str, password: str) -> User | None:
        """The user for a sign-in form, or ``None``."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$<salt>$<hash>`` (base64), for the users file."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _verify(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hash_password(password, salt=base64.b64decode(salt)).split("$")[2]
    return hmac.compare_digest(expected, digest)


class LocalUsers:
    """Users and password hashes from a TOML file: ``[users.<name>] password_hash = "scrypt$…"``.

    scrypt is slow on purpose (tens of milliseconds); so that an API client sending HTTP Basic
    credentials with every request does not pay it every time, a successful check is remembered
    for a few minutes as a keyed hash of the credentials (never the password itself).
    """

    def __init__(self, hashes: dict[str, str]) -> None:
        self._hashes = hashes
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, tuple[str, float]] = {}

    @classmethod
    def from_file(cls, path: Path) -> LocalUsers:
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"cannot read the users file {path}: {type(exc).__name__}",
                hint="MAIS_SINGLEVIEW_USERS_FILE must name a TOML file of [users.NAME] tables",
            ) from None
        users = data.get("users") or {}
        hashes = {name: str(entry.get("password_hash", "")) for name, entry in users.items()}
        bad = [name for name, value in hashes.items() if not value.startswith("scrypt$")]
        if bad:
            raise ConfigError(f"users without a scrypt password_hash in {path}: {', '.join(sorted(bad))}",
                              hint="make one with `mais singleview hash-password`")  # fmt: skip
        return cls(hashes)

    def check_password(self, name: str, password: str) -> User | None:
        stored = self._hashes.get(name)
        if stored is None:
            _verify(password, hash_password("x"))  # same work whether or not the user exists
            return None
        return User(name) if _verify(password, stored) else None

    def authenticate(self, request: Request) -> User | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        token = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        known = self._verified.get(token)
        if known is not None and known[1] > time.monotonic() and self._hashes.get(name) is not None:
            return User(known[0])
        user = self.check_password(name, password)
        if user is not None:
            if len(self._verified) >= _REMEMBERED:
                self._verified.clear()
            self._verified[token] = (user.name, time.monotonic() + _REMEMBER_S)
        return user


class TrustedHeader:
    """Identity from a header set by a trusted sign-in proxy; passwords are never checked here."""

    def __init__(self, header: str) -> None:
        self.header = header

    def authenticate(self, request: Request) -> User | None:
        name = request.headers.get(self.header, "").strip()
        return User(name) if name else None

    def check_password(self, name: str, password: str) -> User | None:
        return None
