"""The key store (密钥存储): private keys at rest, encrypted under a passphrase.

A key at rest is a small PEM-framed document, `-----BEGIN SCRUTINEER ENCRYPTED KEY-----`,
whose body is the base64 of canonical JSON: the key's kind, the scrypt parameters and salt, a
nonce and the ChaCha20-Poly1305 ciphertext of the raw 32-byte private key. scrypt is
memory-hard (n = 2^17, r = 8, p = 1: 128 MiB and about a quarter of a second per guess here),
so a stolen file resists offline guessing far better than PKCS#8's PBKDF2 with 2,048
iterations, which files written by version 0.1 still use: those load as before, and
`upgrade_if_legacy` rewrites one in the new format. The kind and the KDF parameters are bound
as the AEAD's associated data, so none of them can be edited without the key failing to open.

Files are written with mode 0600, atomically: a temporary file in the same directory, fsync,
rename into place, fsync the directory, so a crash leaves either the old file or the new one,
never half a key. `wrap`/`unwrap` give the same encryption as bytes for keys kept in a
database (score rounds' keys). Errors are `KeyStoreError`, and never contain the passphrase.

Touches only the path it is given; never reads the clock or the environment.
"""
from __future__ import annotations

import base64
import binascii
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from keys import labels
from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.errors import KeyStoreError, Malformed
from keys.identity import Identity
from keys.sealing import RoundKey

PrivateKey = Identity | RoundKey
K = TypeVar("K", bound="Identity | RoundKey")
_MAX_FILE = 64 * 1024
BEGIN = b"-----BEGIN SCRUTINEER ENCRYPTED KEY-----"
END = b"-----END SCRUTINEER ENCRYPTED KEY-----"
LEGACY_BEGIN = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
# scrypt's cost for keys written now (OWASP's floor for scrypt); a file carries its own cost,
# and the loader accepts only costs in [MIN_N, MAX_N] so a forged file cannot ask for 64 GiB.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
MIN_N = 2**14
MAX_N = 2**20
_KINDS: dict[str, type[Identity] | type[RoundKey]] = {"ed25519": Identity, "x25519": RoundKey}


def _passphrase(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if not isinstance(passphrase, bytes):
        raise KeyStoreError("the passphrase must be text")
    if not passphrase:
        raise KeyStoreError("the passphrase must not be empty")
    return passphrase


def _kdf(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def _aad(header: dict[str, Any]) -> bytes:
    return labels.domain(labels.KEY_AT_REST, canonical(header))


def wrap(key: PrivateKey, passphrase: str | bytes) -> bytes:
    """The key encrypted under `passphrase` (scrypt, ChaCha20-Poly1305), as PEM-framed bytes."""
    if not isinstance(key, (Identity, RoundKey)):
        raise TypeError("wrap takes an Identity or a RoundKey")
    secret = _passphrase(passphrase)
    kind = "ed25519" if isinstance(key, Identity) else "x25519"
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"v": 1, "kind": kind, "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                            "salt": b64e(salt)},
              "aead": "chacha20-poly1305", "nonce": b64e(nonce)}
    raw = key.private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    box = ChaCha20Poly1305(_kdf(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    body = canonical({**header, "ct": b64e(box.encrypt(nonce, raw, _aad(header)))})
    text = base64.encodebytes(body)  # 76-character lines
    return BEGIN + b"\n" + text + END + b"\n"


def is_legacy(blob: bytes) -> bool:
    """True for a key written by version 0.1 (PKCS#8 under PBKDF2, 2,048 iterations)."""
    return isinstance(blob, (bytes, bytearray)) and LEGACY_BEGIN in blob


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


def _parse(blob: bytes) -> tuple[dict[str, Any], bytes]:
    """The header and ciphertext of a key at rest; `KeyStoreError` for anything else."""
    text = bytes(blob).strip()
    if not (text.startswith(BEGIN) and text.endswith(END)):
        raise KeyStoreError("not an encrypted private key")
    try:
        body = base64.b64decode(b"".join(text[len(BEGIN):-len(END)].split()), validate=True)
        doc = parse_canonical(body)
        if not isinstance(doc, dict) or set(doc) != {"v", "kind", "kdf", "aead", "nonce", "ct"}:
            raise Malformed("fields")
        kdf = doc["kdf"]
        if (doc["v"] != 1 or doc["kind"] not in _KINDS or doc["aead"] != "chacha20-poly1305"
                or not isinstance(kdf, dict) or set(kdf) != {"name", "n", "r", "p", "salt"} or kdf["name"] != "scrypt"):
            raise Malformed("parameters")
        n, r, p = kdf["n"], kdf["r"], kdf["p"]
        if not all(type(x) is int for x in (n, r, p)) or not (MIN_N <= n <= MAX_N and n & (n - 1) == 0
                                                               and 1 <= r <= 16 and 1 <= p <= 4):
            raise Malformed("cost")
        if len(b64d(kdf["salt"])) != 16 or len(b64d(doc["nonce"])) != 12:
            raise Malformed("sizes")
        ct = b64d(doc["ct"])
    except (Malformed, binascii.Error, ValueError, TypeError) as exc:
        raise KeyStoreError("damaged key") from exc
    header = {k: v for k, v in doc.items() if k != "ct"}
    return header, ct


def _unwrap(blob: bytes, passphrase: str | bytes) -> PrivateKey:
    secret = _passphrase(passphrase)
    if not isinstance(blob, (bytes, bytearray)):
        raise KeyStoreError("not an encrypted private key")
    if is_legacy(blob):
        return _unwrap_legacy(bytes(blob), secret)
    header, ct = _parse(blob)
    kdf = header["kdf"]
    box = ChaCha20Poly1305(_kdf(secret, b64d(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"]))
    try:
        raw = box.decrypt(b64d(header["nonce"]), ct, _aad(header))
    except InvalidTag as exc:
        raise KeyStoreError("wrong passphrase or damaged key") from exc
    if len(raw) != 32:
        raise KeyStoreError("damaged key")
    return _KINDS[header["kind"]].from_private_bytes(raw)


def _unwrap_legacy(blob: bytes, secret: bytes) -> PrivateKey:
    try:
        raw = serialization.load_pem_private_key(blob, password=secret)
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


def upgrade_if_legacy(path: str | os.PathLike[str], passphrase: str | bytes) -> bool:
    """Rewrite a version 0.1 key file (PBKDF2) in the scrypt format, atomically; True if it did.

    The caller has just loaded the key with this passphrase, so the file keeps its passphrase."""
    target = Path(path)
    try:
        blob = target.read_bytes()[: _MAX_FILE + 1]
    except OSError as exc:
        raise KeyStoreError(f"cannot read {target}: {exc.strerror}") from exc
    if not is_legacy(blob):
        return False
    save_private(target, unwrap(blob, passphrase), passphrase, overwrite=True)
    return True


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
