"""Ed25519 keys and checkpoint signatures of audit writers.

A checkpoint signs the canonical text::

    mais-audit-checkpoint/v1
    <writer>
    <sequence>
    <entry hash>
    <recordedAt, epoch milliseconds>

(each line ending in ``\\n``). Private keys are PKCS#8 PEM files, public keys SubjectPublicKeyInfo
PEM files; a verifier's trust store is a folder of ``<writer>.pub`` files.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.errors import ConfigError

__all__ = [
    "CheckpointSigner",
    "canonical_checkpoint_text",
    "generate_key_pair",
    "key_id",
    "load_public_keys",
    "load_signer",
    "verify_checkpoint_signature",
]

_PREFIX = "mais-audit-checkpoint/v1"


def canonical_checkpoint_text(writer: str, sequence: int, entry_hash: str, recorded_at_ms: int) -> bytes:
    """The bytes a checkpoint signature covers."""
    return f"{_PREFIX}\n{writer}\n{sequence}\n{entry_hash}\n{recorded_at_ms}\n".encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class CheckpointSigner:
    """Signs checkpoints with one writer's private key."""

    __slots__ = ("_key", "key_id", "public_key")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(self, writer: str, sequence: int, entry_hash: str, recorded_at_ms: int) -> str:
        """Base64 Ed25519 signature of the checkpoint's canonical text."""
        text = canonical_checkpoint_text(writer, sequence, entry_hash, recorded_at_ms)
        return base64.b64encode(self._key.sign(text)).decode()

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"CheckpointSigner(key_id={self.key_id!r})"


def verify_checkpoint_signature(
    public_key: Ed25519PublicKey,
    signature_b64: str,
    *,
    writer: str,
    sequence: int,
    entry_hash: str,
    recorded_at_ms: int,
) -> bool:
    """Whether ``signature_b64`` is the key's signature of the checkpoint."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, canonical_checkpoint_text(writer, sequence, entry_hash, recorded_at_ms))
    except (InvalidSignature, ValueError):
        return False
    return True


def generate_key_pair(folder: Path, writer: str) -> tuple[Path, Path]:
    """Write ``<writer>.key`` (private, mode 0600) and ``<writer>.pub`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    key_path, pub_path = folder / f"{writer}.key", folder / f"{writer}.pub"
    if key_path.exists():
        raise ConfigError(
            f"{key_path} already exists", hint="keep the old key, or delete it on purpose first"
        )
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pub_path.write_bytes(CheckpointSigner(private).public_pem())
    return key_path, pub_path


def load_signer(path: Path) -> CheckpointSigner:
    """The signer whose private key is the PEM file at ``path``."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(
            f"audit signing key {path} does not exist", hint="create one with: mais audit keygen"
        ) from None
    except (ValueError, TypeError):
        raise ConfigError(f"{path} is not an unencrypted PEM private key", hint="mais audit keygen") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key", hint="audit checkpoints are signed with Ed25519")
    return CheckpointSigner(key)


def load_public_keys(folder: Path) -> dict[str, Ed25519PublicKey]:
    """Writer name -> public key, from the ``<writer>.pub`` files of ``folder``."""
    if not folder.is_dir():
        raise ConfigError(
            f"public key folder {folder} does not exist", hint="pass the folder of <writer>.pub files"
        )
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(folder.glob("*.pub")):
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except ValueError:
            raise ConfigError(
                f"{path} is not a PEM public key", hint="use the .pub file mais audit keygen wrote"
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(
                f"{path} is not an Ed25519 public key", hint="use the .pub file mais audit keygen wrote"
            )
        keys[path.name[: -len(".pub")]] = key
    return keys
