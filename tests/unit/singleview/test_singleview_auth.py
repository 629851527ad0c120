"""Local users: HTTP Basic credentials are checked (and a right one is remembered, a wrong one never);
a development user needs a real password."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr
from starlette.requests import Request

from exchange.errors import ConfigError
from services.singleview._auth import LocalUsers, hash_password
from services.singleview._service import build_authenticator
from services.singleview._settings import SingleViewSettings


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


@pytest.mark.parametrize("password", ["", "short"])
def test_a_development_user_without_a_real_password_stops_start_up(password: str) -> None:
    settings = SingleViewSettings(dev_user="practitioner", dev_password=SecretStr(password))

    with pytest.raises(ConfigError) as raised:
        build_authenticator(settings)

    assert "MAIS_SINGLEVIEW_DEV_PASSWORD" in str(raised.value)
    assert raised.value.hint is not None


def test_a_development_user_with_a_password_can_sign_in() -> None:
    settings = SingleViewSettings(dev_user="practitioner", dev_password=SecretStr("long enough"))

    users = build_authenticator(settings)

    assert isinstance(users, LocalUsers)
    assert users.check_password("practitioner", "long enough") is not None
    assert users.check_password("practitioner", "wrong one!") is None
