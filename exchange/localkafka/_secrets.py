"""Passwords of a local stack's own principals, kept in owner-readable files of its state folder."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from exchange.security import new_password

__all__ = ["stored_secret"]


def stored_secret(path: Path) -> SecretStr:
    """The password in ``path``; a new random one is created (mode 0600) the first time."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_password() + "\n")
    return SecretStr(path.read_text().strip())
