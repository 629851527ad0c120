"""Credentials: generated passwords, salted password hashes, and the registry's users file.

The schema registry authenticates HTTP basic auth against a JSON file of users, each with a role
and a PBKDF2-SHA256 hash of the password (never the password)::

    {"users": {"csc": {"role": "reader", "password": "pbkdf2_sha256$600000$<salt>$<hash>"}}}

``operator`` may do everything; ``reader`` may read every subject and look schemas up, and
register nothing. The file is written owner-readable only, replaced atomically, and re-read by
the registry when it changes, so adding an agency needs no restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from exchange.errors import ConfigError

__all__ = ["RegistryUser", "RegistryUsers", "Role", "hash_password", "new_password", "verify_password"]

Role = Literal["operator", "reader"]
_ALGORITHM = "pbkdf2_sha256"
_ITERATIONS = 100_000  # passwords are random 192-bit tokens; the registry caches checks


def new_password() -> str:
    """A random password of 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, iterations: int = _ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{_ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded`` (constant-time comparison of the digests)."""
    try:
        algorithm, iterations, salt, digest = encoded.split("$")
        if algorithm != _ALGORITHM:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True, slots=True)
class RegistryUser:
    name: str
    role: Role
    password_hash: str


class RegistryUsers:
    """The registry's users file: read, add or replace a user, write back."""

    def __init__(self, path: Path, users: dict[str, RegistryUser] | None = None) -> None:
        self.path = path
        self.users = dict(users or {})

    @classmethod
    def load(cls, path: Path, *, missing_ok: bool = False) -> RegistryUsers:
        if not path.is_file():
            if missing_ok:
                return cls(path)
            raise ConfigError(
                f"the registry users file {path} does not exist",
                hint="create it with `mais agency add` or point MAIS_REGISTRY_USERS_FILE at it",
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            users = {
                name: RegistryUser(name, _role(entry["role"]), str(entry["password"]))
                for name, entry in raw["users"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(
                f"{path} is not a registry users file",
                hint='expected {"users": {NAME: {"role", "password"}}}',
            ) from None
        return cls(path, users)

    def set(self, name: str, role: Role, password: str) -> None:
        self.users[name] = RegistryUser(name, role, hash_password(password))

    def authenticate(self, name: str, password: str) -> RegistryUser | None:
        user = self.users.get(name)
        if user is None:
            # spend the same time as a real check, so a missing user is not told apart by timing
            verify_password(password, f"{_ALGORITHM}${_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAA")
            return None
        return user if verify_password(password, user.password_hash) else None

    def save(self) -> None:
        payload = {
            "users": {
                u.name: {"role": u.role, "password": u.password_hash}
                for u in sorted(self.users.values(), key=_name)
            }
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2)
            out.write("\n")
        staging.replace(self.path)


def _name(user: RegistryUser) -> str:
    return user.name


def _role(value: object) -> Role:
    if value == "operator":
        return "operator"
    if value == "reader":
        return "reader"
    raise ValueError(f"unknown role {value!r}")
