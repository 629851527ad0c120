"""Bearer tokens of HTTP senders: minted once, stored only as hashes, re-read when the file changes.

The token file has one line per token: the sender's name, the SHA-256 of the token, and when it
was made::

    # sender  hash                                                                     created
    gp-emis   sha256:0f3a…(64 hex digits)                                              2026-01-05T09:30:00Z

Lines starting with ``#`` are comments. A sender may have several tokens (rotation: add the new
one, move the sender to it, delete the old line); deleting a line revokes that token. The
adapter re-reads the file when it changes (checked at most once a second), so neither needs a
restart.

Why SHA-256 and not a slow password hash: a token is 256 random bits, not something a person
chose, so nobody can guess it back from its hash however fast the hash is; a slow hash (scrypt,
argon2) only protects low-entropy secrets, and on the request path it would let anyone make the
adapter spend tens of milliseconds of CPU per refused request. Presented tokens are hashed and
compared with every stored hash using :func:`hmac.compare_digest`, whatever matches first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exchange.errors import ConfigError
from exchange.ingress._settings import SENDER_NAME, setting_label

__all__ = ["TOKEN_PREFIX", "TokenEntry", "TokenFile", "TokenStore", "token_hash"]

TOKEN_PREFIX = "mais_"  # noqa: S105 - a public prefix, not a secret
"""Tokens start with this, so secret scanners and people recognise them."""

_TOKEN_SHAPE = re.compile(r"^mais_[A-Za-z0-9_-]{43}\Z")
_HASH = re.compile(r"^sha256:([0-9a-f]{64})\Z")
_HEADER = (
    "# MAIS Exchange bearer tokens of HTTP senders: one line per token, `sender sha256:HASH created`.\n"
    "# Only hashes are stored. Delete a line to revoke its token; the adapter re-reads this file.\n"
)


def token_hash(token: str) -> bytes:
    """The SHA-256 of a token, as stored (hex) in the token file."""
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


@dataclass(frozen=True, slots=True)
class TokenEntry:
    sender: str
    digest: bytes
    created: str = ""

    @property
    def token_id(self) -> str:
        """The first 12 hex digits of the hash: names a token in listings, reveals nothing of it."""
        return self.digest.hex()[:12]

    def line(self) -> str:
        return f"{self.sender} sha256:{self.digest.hex()} {self.created}".rstrip() + "\n"


def parse_tokens(text: str) -> tuple[list[TokenEntry], list[tuple[int, str]]]:
    """The entries of a token file, and the problems (line number, what is wrong) of bad lines."""
    entries: list[TokenEntry] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) not in (2, 3):
            problems.append((number, "expected `sender sha256:HASH [created]`"))
            continue
        match = _HASH.match(fields[1])
        if not SENDER_NAME.match(fields[0]):
            problems.append((number, "the sender name is not lower-case letters, digits, dots and hyphens"))
        elif match is None:
            problems.append((number, "the hash is not sha256: followed by 64 lower-case hex digits"))
        else:
            entries.append(
                TokenEntry(fields[0], bytes.fromhex(match[1]), fields[2] if len(fields) > 2 else "")
            )
    return entries, problems


class TokenFile:
    """The token file on disk, as the ``mais adapter tokens`` commands edit it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[TokenEntry]:
        if not self.path.exists():
            return []
        entries, problems = parse_tokens(self._text())
        if problems:
            number, why = problems[0]
            raise ConfigError(f"{self.path} line {number}: {why}", hint="fix or delete that line")
        return entries

    def add(self, sender: str, now: dt.datetime | None = None) -> str:
        """Mint a token for ``sender``, append its hash, and return the token (shown once, never stored)."""
        if not SENDER_NAME.match(sender):
            raise ConfigError(
                f"sender name {sender!r} is not allowed",
                hint="lower-case letters, digits, inner dots and hyphens: the name of a system, not a person",
            )
        self.entries()  # refuse to append to a file that is already broken
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = TokenEntry(sender, token_hash(token), created)
        new = not self.path.exists()
        # O_APPEND: a running adapter reading the file sees whole lines; 0600: hashes are not for everyone
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write((_HEADER if new else "") + entry.line())
        return token

    def revoke(self, sender: str, token_id: str | None = None) -> int:
        """Delete ``sender``'s tokens (only the one whose id starts ``token_id`` if given); how many went."""
        entries = self.entries()
        gone = [
            e for e in entries if e.sender == sender and (token_id is None or e.token_id.startswith(token_id))
        ]
        if gone:
            kept = [line for line in self._text().splitlines(keepends=True) if not _names_one_of(line, gone)]
            temporary = self.path.with_name(f".{self.path.name}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write("".join(kept))
            temporary.replace(self.path)  # atomic: a running adapter reads the old file or the new one
        return len(gone)

    def _text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{self.path}: cannot be read ({exc.strerror})", hint="check the path"
            ) from None


def _names_one_of(line: str, entries: list[TokenEntry]) -> bool:
    fields = line.split()
    return len(fields) >= 2 and any(fields[1] == f"sha256:{e.digest.hex()}" for e in entries)


class TokenStore:
    """Who a presented token belongs to, from the token file as it is now.

    :meth:`load` reads the file strictly at start-up (a missing file or a bad line stops the
    adapter). Afterwards :meth:`sender_for` looks at the file's identity at most once a second and
    re-reads it when it changed: bad lines are then skipped and reported through ``warn``, and a
    deleted file means no token is accepted any more.
    """

    def __init__(self, path: Path, warn: Callable[[str], None], check_every_s: float = 1.0) -> None:
        self.path = path
        self._warn = warn
        self._check_every_s = check_every_s
        self._lock = threading.Lock()
        self._entries: tuple[TokenEntry, ...] = ()
        self._identity: tuple[int, int, int, int] | None = None
        self._checked = 0.0

    def load(self) -> int:
        label = setting_label("token_file")
        try:
            text = self.path.read_text(encoding="utf-8")
            identity = self._stat()
        except FileNotFoundError:
            raise ConfigError(
                f"{label} {self.path}: no such file",
                hint=f"create it with: mais adapter tokens add --token-file {self.path} --sender NAME",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"{label} {self.path}: cannot be read ({why})", hint="check the file") from None
        entries, problems = parse_tokens(text)
        if problems:
            number, why = problems[0]
            raise ConfigError(f"{label} {self.path} line {number}: {why}", hint="fix or delete that line")
        if not entries:
            raise ConfigError(
                f"{label} {self.path}: holds no token, so no sender could get in",
                hint=f"add one with: mais adapter tokens add --token-file {self.path} --sender NAME",
            )
        self._entries, self._identity, self._checked = tuple(entries), identity, time.monotonic()
        return len(entries)

    def sender_for(self, token: str) -> str | None:
        """The sender whose token this is, or ``None``; every stored hash is compared, in constant time."""
        self._refresh()
        if not _TOKEN_SHAPE.match(token):
            return None
        presented = token_hash(token)
        found: str | None = None
        for entry in self._entries:
            if hmac.compare_digest(presented, entry.digest):
                found = entry.sender
        return found

    def _stat(self) -> tuple[int, int, int, int]:
        status = self.path.stat()
        return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self._check_every_s or not self._lock.acquire(blocking=False):
            return
        try:
            self._checked = now
            try:
                identity = self._stat()
                if identity == self._identity:
                    return
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                if self._entries:
                    self._warn("token file unreadable or gone: no token is accepted until it is back")
                self._entries, self._identity = (), None
                return
            entries, problems = parse_tokens(text)
            for number, why in problems:
                self._warn(f"token file line {number} skipped: {why}")
            self._entries, self._identity = tuple(entries), identity
        finally:
            self._lock.release()
