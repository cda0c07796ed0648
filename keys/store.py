"""The key store (密钥存储): private keys at rest, encrypted under a passphrase.

Files are PKCS#8 PEM encrypted with `BestAvailableEncryption`, mode 0600, written atomically:
a temporary file in the same directory, fsync, rename into place, fsync the directory, so a
crash leaves either the old file or the new one, never half a key. `wrap`/`unwrap` give the same
encryption as bytes for keys kept in a database (round keys rest wrapped; unwrapping is the
监票人 seam). Errors are `KeyStoreError`, and never contain the passphrase.

Touches only the path it is given; never reads the clock or the environment.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar, overload

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from keys.errors import KeyStoreError
from keys.identity import Identity
from keys.sealing import RoundKey

PrivateKey = Identity | RoundKey
K = TypeVar("K", bound="Identity | RoundKey")
_MAX_FILE = 64 * 1024


def _passphrase(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if not isinstance(passphrase, bytes):
        raise KeyStoreError("the passphrase must be text")
    if not passphrase:
        raise KeyStoreError("the passphrase must not be empty")
    return passphrase


def wrap(key: PrivateKey, passphrase: str | bytes) -> bytes:
    """The key as encrypted PKCS#8 PEM bytes."""
    if not isinstance(key, (Identity, RoundKey)):
        raise TypeError("wrap takes an Identity or a RoundKey")
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(passphrase)),
    )


@overload
def unwrap(blob: bytes, passphrase: str | bytes, kind: None = None) -> PrivateKey: ...
@overload
def unwrap(blob: bytes, passphrase: str | bytes, kind: type[K]) -> K: ...
def unwrap(blob: bytes, passphrase: str | bytes, kind: type[Any] | None = None) -> PrivateKey:
    """Decrypt a wrapped key; `kind` (Identity or RoundKey) insists on one type."""
    key = _unwrap(blob, passphrase)
    if kind is not None and not isinstance(key, kind):
        raise KeyStoreError(f"expected a {kind.__name__}, found a {type(key).__name__}")
    return key


def _unwrap(blob: bytes, passphrase: str | bytes) -> PrivateKey:
    secret = _passphrase(passphrase)
    if not isinstance(blob, (bytes, bytearray)) or b"-----BEGIN ENCRYPTED PRIVATE KEY-----" not in blob:
        raise KeyStoreError("not an encrypted private key")
    try:
        raw = serialization.load_pem_private_key(bytes(blob), password=secret)
    except (ValueError, TypeError) as exc:
        # cryptography says "Incorrect password" for a wrong passphrase and for a damaged blob
        # alike; we cannot tell them apart, so say both.
        raise KeyStoreError("wrong passphrase or damaged key") from exc
    key: PrivateKey
    if isinstance(raw, Ed25519PrivateKey):
        key = Identity(raw)
    elif isinstance(raw, X25519PrivateKey):
        key = RoundKey(raw)
    else:
        raise KeyStoreError("not an Ed25519 or X25519 key")
    return key


def save_private(
    path: str | os.PathLike[str], key: PrivateKey, passphrase: str | bytes, *, overwrite: bool = False
) -> Path:
    """Write `key` encrypted to `path` (mode 0600), atomically. Refuses to replace an existing
    file unless `overwrite`: silently replacing a key would orphan everything it signed."""
    target = Path(path)
    data = wrap(key, passphrase)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise KeyStoreError(f"cannot write a key in {directory}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            # link() fails if the target exists: no window where a check and a rename race.
            os.link(tmp, target)
            tmp.unlink()
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except FileExistsError as exc:
        raise KeyStoreError(f"{target} already exists") from exc
    except OSError as exc:
        raise KeyStoreError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


@overload
def load_private(path: str | os.PathLike[str], passphrase: str | bytes, kind: None = None) -> PrivateKey: ...
@overload
def load_private(path: str | os.PathLike[str], passphrase: str | bytes, kind: type[K]) -> K: ...
def load_private(path: str | os.PathLike[str], passphrase: str | bytes,
                 kind: type[Any] | None = None) -> PrivateKey:
    """Read and decrypt a key file written by `save_private`."""
    target = Path(path)
    try:
        with open(target, "rb") as handle:
            data = handle.read(_MAX_FILE + 1)
    except OSError as exc:
        raise KeyStoreError(f"cannot read {target}: {exc.strerror}") from exc
    if len(data) > _MAX_FILE:
        raise KeyStoreError(f"{target} is not a key file")
    try:
        return unwrap(data, passphrase, kind)
    except KeyStoreError as exc:
        raise KeyStoreError(f"{target}: {exc}") from exc


def load_public_pem(data: bytes) -> bytes:
    """Raw 32-byte public key from a PEM `PUBLIC KEY` (Ed25519 or X25519)."""
    try:
        key = serialization.load_pem_public_key(data)
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    except (ValueError, TypeError, AttributeError) as exc:
        raise KeyStoreError("not an Ed25519 or X25519 public key") from exc


def public_pem(key: PrivateKey) -> bytes:
    """The public half of `key` as PEM, for handing to an auditor."""
    return key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
