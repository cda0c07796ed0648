"""The key store: 0600 files written atomically, wrapped keys, and wrong passphrases."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keys.errors import KeyStoreError
from keys.identity import Identity
from keys.sealing import RoundKey
from keys.store import load_private, load_public_pem, public_pem, save_private, unwrap, wrap

PASSPHRASE = "监票人 correct horse"


def test_save_and_load_identity(tmp_path: Path) -> None:
    identity = Identity.generate()
    path = save_private(tmp_path / "kiosk.pem", identity, PASSPHRASE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert identity.private_bytes().hex() not in text
    loaded = load_private(path, PASSPHRASE)
    assert isinstance(loaded, Identity)
    assert loaded.private_bytes() == identity.private_bytes()
    assert load_private(path, PASSPHRASE.encode("utf-8"), Identity).public_bytes() == identity.public_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk.pem"]  # no temporary file left


def test_save_and_load_round_key(tmp_path: Path) -> None:
    key = RoundKey.generate()
    path = save_private(tmp_path / "r1.pem", key, PASSPHRASE)
    loaded = load_private(path, PASSPHRASE, RoundKey)
    assert loaded.private_bytes() == key.private_bytes()
    with pytest.raises(KeyStoreError):
        load_private(path, PASSPHRASE, Identity)


def test_mode_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = save_private(tmp_path / "k.pem", Identity.generate(), PASSPHRASE)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_refuses_to_replace_a_key_unless_asked(tmp_path: Path) -> None:
    first, second = Identity.generate(), Identity.generate()
    path = save_private(tmp_path / "k.pem", first, PASSPHRASE)
    with pytest.raises(KeyStoreError):
        save_private(path, second, PASSPHRASE)
    assert load_private(path, PASSPHRASE).public_bytes() == first.public_bytes()
    save_private(path, second, PASSPHRASE, overwrite=True)
    assert load_private(path, PASSPHRASE).public_bytes() == second.public_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pem"]


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError):
        save_private(tmp_path / "missing-dir" / "k.pem", Identity.generate(), PASSPHRASE)
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(KeyStoreError):
        save_private(target, Identity.generate(), PASSPHRASE, overwrite=True)  # a directory is in the way
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_wrong_passphrase_never_echoes_it(tmp_path: Path) -> None:
    path = save_private(tmp_path / "k.pem", Identity.generate(), PASSPHRASE)
    with pytest.raises(KeyStoreError) as caught:
        load_private(path, "wrong passphrase 123")
    assert "wrong passphrase 123" not in str(caught.value) and PASSPHRASE not in str(caught.value)
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("passphrase", ["", b""])
def test_empty_passphrase_is_refused(tmp_path: Path, passphrase: str) -> None:
    with pytest.raises(KeyStoreError):
        save_private(tmp_path / "k.pem", Identity.generate(), passphrase)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyStoreError):
        wrap(RoundKey.generate(), passphrase)
    blob = wrap(RoundKey.generate(), PASSPHRASE)
    with pytest.raises(KeyStoreError):
        unwrap(blob, passphrase)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError):
        load_private(tmp_path / "absent.pem", PASSPHRASE)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(os.urandom(300))
    with pytest.raises(KeyStoreError):
        load_private(garbage, PASSPHRASE)
    huge = tmp_path / "huge.pem"
    huge.write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + b"A" * 100_000)
    with pytest.raises(KeyStoreError):
        load_private(huge, PASSPHRASE)
    # A key stored in the clear is refused: the store only ever holds encrypted keys.
    from cryptography.hazmat.primitives import serialization

    plain = tmp_path / "plain.pem"
    plain.write_bytes(Identity.generate().private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(KeyStoreError):
        load_private(plain, PASSPHRASE)


def test_damaged_file_is_refused(tmp_path: Path) -> None:
    path = save_private(tmp_path / "k.pem", Identity.generate(), PASSPHRASE)
    lines = path.read_text().splitlines()
    body = lines[1]
    lines[1] = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(KeyStoreError):
        load_private(path, PASSPHRASE)


def test_wrap_and_unwrap() -> None:
    key = RoundKey.generate()
    blob = wrap(key, PASSPHRASE)
    assert isinstance(blob, bytes) and key.private_bytes() not in blob
    assert unwrap(blob, PASSPHRASE, RoundKey).private_bytes() == key.private_bytes()
    assert wrap(key, PASSPHRASE) != blob  # fresh salt and IV each time
    with pytest.raises(KeyStoreError):
        unwrap(blob, "not it")
    with pytest.raises(KeyStoreError):
        unwrap(b"not a key", PASSPHRASE)
    with pytest.raises(TypeError):
        wrap(b"raw bytes", PASSPHRASE)  # type: ignore[arg-type]


def test_public_pem_round_trip() -> None:
    identity, key = Identity.generate(), RoundKey.generate()
    assert load_public_pem(public_pem(identity)) == identity.public_bytes()
    assert load_public_pem(public_pem(key)) == key.public_bytes()
    with pytest.raises(KeyStoreError):
        load_public_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
