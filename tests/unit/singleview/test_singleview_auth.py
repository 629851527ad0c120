"""Local users: HTTP Basic credentials are checked (and a right one is remembered, a wrong one never)."""

from __future__ import annotations

import base64

from starlette.requests import Request

from services.singleview._auth import LocalUsers, hash_password


def _basic(name: str, password: str) -> Request:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return Request({"type": "http", "headers": [(b"authorization", f"Basic {token}".encode())]})


def test_basic_credentials_are_checked_every_time_and_a_right_one_is_remembered() -> None:
    users = LocalUsers({"ann": hash_password("right horse")})
    assert users.authenticate(_basic("ann", "wrong")) is None
    first = users.authenticate(_basic("ann", "right horse"))
    assert first is not None and first.name == "ann"
    assert users.authenticate(_basic("ann", "right horse")) == first  # remembered
    assert users.authenticate(_basic("ann", "right horse ")) is None  # a different password still fails
    assert users.authenticate(_basic("bob", "right horse")) is None
    assert users.authenticate(Request({"type": "http", "headers": []})) is None
