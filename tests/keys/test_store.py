"""The key store: scrypt-wrapped keys in 0600 files written atomically, the 0.1 format still
loading (and upgraded), bound parameters, wrong passphrases, and weak passphrases refused."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keys.errors import KeyStoreError
from keys.identity import Identity
from keys.sealing import RoundKey
from keys.store import (
    is_legacy,
    load_private,
    load_public_pem,
    public_pem,
    save_private,
    unwrap,
    upgrade_if_legacy,
    wrap,
)

PASSPHRASE = "监票人 correct horse"


def test_save_and_load_identity(tmp_path: Path) -> None:
    identity = Identity.generate()
    path = save_private(tmp_path / "kiosk.pem", identity, PASSPHRASE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("-----BEGIN SCRUTINEER ENCRYPTED KEY-----")
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


def _header(blob: bytes) -> dict:
    import base64
    import json

    lines = blob.strip().splitlines()
    return json.loads(base64.b64decode(b"".join(lines[1:-1])))


def _rewrap(header: dict) -> bytes:
    import base64

    from keys.canonical import canonical

    return (b"-----BEGIN SCRUTINEER ENCRYPTED KEY-----\n" + base64.encodebytes(canonical(header))
            + b"-----END SCRUTINEER ENCRYPTED KEY-----\n")


def test_keys_are_written_at_full_cost() -> None:
    """The tests lower scrypt's cost in this process only; a fresh process writes at n = 2^17."""
    import subprocess
    import sys

    probe = ("from keys.store import wrap; from keys.identity import Identity; import base64, json; "
             "b = wrap(Identity.generate(), 'a long test passphrase').splitlines(); "
             "print(json.loads(base64.b64decode(b''.join(b[1:-1])))['kdf'])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "'name': 'scrypt'" in out and "'n': 131072" in out and "'r': 8" in out and "'p': 1" in out


def test_the_kdf_parameters_are_bound_and_bounded() -> None:
    key = Identity.generate()
    header = _header(wrap(key, PASSPHRASE))
    assert header["kdf"]["name"] == "scrypt" and header["kind"] == "ed25519"
    # A cheaper cost written into the file (to speed up guessing on a stolen copy) no longer opens it.
    cheaper = {**header, "kdf": {**header["kdf"], "n": header["kdf"]["n"] // 2 if header["kdf"]["n"] > 2**14 else 2**15}}
    with pytest.raises(KeyStoreError):
        unwrap(_rewrap(cheaper), PASSPHRASE)
    # A forged cost that would take 64 GiB of memory is refused before any work.
    for n in (2**30, 2**21, 3 * 2**14, 2**10):
        with pytest.raises(KeyStoreError, match="damaged"):
            unwrap(_rewrap({**header, "kdf": {**header["kdf"], "n": n}}), PASSPHRASE)
    # The kind is bound too: an Ed25519 key cannot be relabelled an X25519 round key.
    with pytest.raises(KeyStoreError):
        unwrap(_rewrap({**header, "kind": "x25519"}), PASSPHRASE)
    assert unwrap(_rewrap(header), PASSPHRASE).public_bytes() == key.public_bytes()


def test_a_version_0_1_key_still_loads_and_is_upgraded(tmp_path: Path) -> None:
    """PKCS#8 under PBKDF2 (what 0.1 wrote) loads; `upgrade_if_legacy` rewrites it with scrypt."""
    from cryptography.hazmat.primitives import serialization

    identity = Identity.generate()
    old = tmp_path / "tally.key"
    old.write_bytes(identity.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    os.chmod(old, 0o600)
    assert is_legacy(old.read_bytes())
    assert load_private(old, PASSPHRASE, Identity).public_bytes() == identity.public_bytes()
    assert upgrade_if_legacy(old, PASSPHRASE) is True
    assert not is_legacy(old.read_bytes()) and _header(old.read_bytes())["kdf"]["name"] == "scrypt"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert load_private(old, PASSPHRASE, Identity).public_bytes() == identity.public_bytes()
    assert upgrade_if_legacy(old, PASSPHRASE) is False  # already in the new format


@pytest.mark.parametrize("weak", ["bqx7", "password1234", "aaaaaaaaaaaaaaaa", "1234567890123", "qwertyuiopasdf",
                                  "张三张三张三张三张三张三"])
def test_weak_passphrases_are_refused_with_reasons(weak: str) -> None:
    from keys.errors import WeakPassphrase
    from keys.passphrase import check_passphrase

    with pytest.raises(WeakPassphrase) as caught:
        check_passphrase(weak)
    assert caught.value.reasons and weak not in str(caught.value)


@pytest.mark.parametrize("strong", ["correct horse battery staple", "监票人 correct horse 2026", "test key passphrase"])
def test_strong_passphrases_pass(strong: str) -> None:
    from keys.passphrase import check_passphrase

    check_passphrase(strong)


def test_the_meeting_title_makes_a_passphrase_weaker() -> None:
    from keys.errors import WeakPassphrase
    from keys.passphrase import check_passphrase

    check_passphrase("xinyitownship2026")
    with pytest.raises(WeakPassphrase):
        check_passphrase("xinyitownship2026", context=("xinyitownship2026",))
