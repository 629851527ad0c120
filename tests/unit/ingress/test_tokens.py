"""Bearer tokens: minted once, stored only hashed, re-read when the file changes, revoked by deletion."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange.cli import app
from exchange.errors import ConfigError
from exchange.ingress import TokenFile, TokenStore


def _store(path: Path, warnings: list[str] | None = None) -> TokenStore:
    sink = warnings if warnings is not None else []
    store = TokenStore(path, sink.append, check_every_s=0.0)
    store.load()
    return store


def _touch_later(path: Path) -> None:
    """Make sure the file's identity changes even on a coarse clock."""
    later = time.time() + 2
    os.utime(path, (later, later))


def test_a_minted_token_is_shown_once_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "senders.tokens"
    token = TokenFile(path).add("gp-emis")
    text = path.read_text()
    assert token.startswith("mais_") and len(token) == 48
    assert token not in text
    assert f"gp-emis sha256:{hashlib.sha256(token.encode()).hexdigest()} " in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = TokenFile(path).add("gp-emis")
    assert second != token
    assert [e.sender for e in TokenFile(path).entries()] == ["gp-emis", "gp-emis"]


def test_tokens_identify_their_sender_and_nothing_else_does(tmp_path: Path) -> None:
    path = tmp_path / "senders.tokens"
    gp, pas = TokenFile(path).add("gp-emis"), TokenFile(path).add("pas")
    store = _store(path)
    assert store.sender_for(gp) == "gp-emis"
    assert store.sender_for(pas) == "pas"
    for wrong in ["", "mais_", gp[:-1], gp + "x", gp.upper(), "Bearer " + gp, "x" * 10_000]:
        assert store.sender_for(wrong) is None
    digest = hashlib.sha256(gp.encode()).hexdigest()
    assert store.sender_for(digest) is None  # the stored hash is not itself a token


def test_rotation_and_revocation_need_no_restart(tmp_path: Path) -> None:
    path = tmp_path / "senders.tokens"
    old = TokenFile(path).add("gp-emis")
    store = _store(path)
    assert store.sender_for(old) == "gp-emis"
    new = TokenFile(path).add("gp-emis")
    _touch_later(path)
    assert store.sender_for(new) == "gp-emis"  # the file was re-read
    old_id = next(
        e.token_id for e in TokenFile(path).entries() if e.digest == hashlib.sha256(old.encode()).digest()
    )
    assert TokenFile(path).revoke("gp-emis", old_id) == 1
    _touch_later(path)
    assert store.sender_for(old) is None
    assert store.sender_for(new) == "gp-emis"
    assert TokenFile(path).revoke("gp-emis") == 1
    _touch_later(path)
    assert store.sender_for(new) is None


def test_a_file_that_breaks_while_running_skips_bad_lines_and_a_deleted_file_accepts_nobody(
    tmp_path: Path,
) -> None:
    path = tmp_path / "senders.tokens"
    token = TokenFile(path).add("gp-emis")
    warnings: list[str] = []
    store = _store(path, warnings)
    with path.open("a") as out:
        out.write("pas sha256:nothex\n")
    _touch_later(path)
    assert store.sender_for(token) == "gp-emis"
    assert warnings == [
        "token file line 4 skipped: the hash is not sha256: followed by 64 lower-case hex digits"
    ]
    path.unlink()
    assert store.sender_for(token) is None
    assert "gone" in warnings[-1]


def test_start_up_refuses_a_missing_empty_or_broken_token_file(tmp_path: Path) -> None:
    path = tmp_path / "senders.tokens"
    with pytest.raises(
        ConfigError, match=r"--token-file \(MAIS_INGRESS_TOKEN_FILE\) .*: no such file"
    ) as caught:
        _store(path)
    assert caught.value.hint is not None and "mais adapter tokens add" in caught.value.hint
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match="holds no token"):
        _store(path)
    path.write_text("gp-emis sha256:" + "0" * 64 + " 2026-01-05T09:30:00Z trailing\n")
    with pytest.raises(ConfigError, match="line 1: expected"):
        _store(path)
    path.write_text("Smith sha256:" + "0" * 64 + "\n")
    with pytest.raises(ConfigError, match="line 1: the sender name is not lower-case"):
        _store(path)
    path.write_text("drwho sha256:" + "0" * 63 + "\n")
    with pytest.raises(ConfigError, match="line 1: the hash is not sha256"):
        _store(path)


def test_tokens_cli_adds_lists_and_revokes_without_ever_showing_a_token_again(tmp_path: Path) -> None:
    path = tmp_path / "senders.tokens"
    runner = CliRunner()
    added = runner.invoke(app, ["adapter", "tokens", "add", "--token-file", str(path), "--sender", "gp-emis"])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    assert token.startswith("mais_")
    assert "shown once" in added.stderr
    listed = runner.invoke(app, ["adapter", "tokens", "list", "--token-file", str(path)])
    assert listed.exit_code == 0
    assert token not in listed.output
    (line,) = listed.stdout.strip().splitlines()
    sender, token_id, created = line.split("\t")
    assert (sender, token_id) == ("gp-emis", hashlib.sha256(token.encode()).hexdigest()[:12])
    assert created.endswith("Z")
    bad = runner.invoke(app, ["adapter", "tokens", "add", "--token-file", str(path), "--sender", "Dr Who"])
    assert isinstance(bad.exception, ConfigError)  # `mais` prints it and exits 2
    revoked = runner.invoke(
        app, ["adapter", "tokens", "revoke", "--token-file", str(path), "--sender", "gp-emis"]
    )
    assert revoked.exit_code == 0
    assert TokenFile(path).entries() == []
    again = runner.invoke(
        app, ["adapter", "tokens", "revoke", "--token-file", str(path), "--sender", "gp-emis"]
    )
    assert isinstance(again.exception, ConfigError)
