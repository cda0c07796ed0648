"""What a paired kiosk keeps in its data directory, and where.

`DIR/kiosk.json`   the pairing: kiosk id, tally URL, tally public key, meeting id, name, and for an
                   HTTPS tally the pinned SHA-256 fingerprint of its TLS certificate (public).
`DIR/kiosk.key`    the kiosk's Ed25519 identity, PKCS#8 encrypted under the passphrase, 0600.
`DIR/outbox.sqlite` the durable outbox (`kiosk.outbox`).
`DIR/ballot.json`  the last ballot form fetched from the tally (public), for short outages.

The passphrase comes from `KIOSK_PASSPHRASE`, a passphrase file, or a prompt; there is no
default. Never stores or prints a card secret or a passphrase. No network.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys.canonical import b64d, b64e
from keys.errors import Malformed
from keys.ids import check_meeting, check_name

PASSPHRASE_ENV = "KIOSK_PASSPHRASE"


class ConfigError(Exception):
    """The data directory is missing something or holds something unreadable."""


@dataclass(frozen=True)
class Paths:
    data: Path

    @property
    def pairing(self) -> Path:
        return self.data / "kiosk.json"

    @property
    def key(self) -> Path:
        return self.data / "kiosk.key"

    @property
    def outbox(self) -> Path:
        return self.data / "outbox.sqlite"

    @property
    def form_cache(self) -> Path:
        return self.data / "ballot.json"


@dataclass(frozen=True)
class Pairing:
    """The kiosk's side of a pairing with one tally, for one meeting."""

    kiosk_id: str
    tally_url: str
    tally_public_key: bytes
    meeting: str
    name: str = ""
    tls_fingerprint: str | None = None  # the pin of an https:// tally's certificate

    def to_json(self) -> dict[str, Any]:
        doc = {
            "kiosk_id": self.kiosk_id,
            "tally_url": self.tally_url,
            "tally_public_key": b64e(self.tally_public_key),
            "meeting": self.meeting,
            "name": self.name,
        }
        if self.tls_fingerprint:
            doc["tls_fingerprint"] = self.tls_fingerprint
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> Pairing:
        try:
            if not isinstance(doc, dict):
                raise Malformed("not an object")
            url = doc["tally_url"]
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise Malformed("tally_url must be an http(s) URL")
            key = b64d(doc["tally_public_key"])
            if len(key) != 32:
                raise Malformed("tally_public_key must be 32 bytes")
            pin = doc.get("tls_fingerprint")
            if pin is not None and (not isinstance(pin, str) or not re.fullmatch(r"[0-9a-f]{64}", pin)
                                    or not url.startswith("https://")):
                raise Malformed("tls_fingerprint must be 64 hex characters, for an https:// tally")
            return cls(
                kiosk_id=check_name(doc["kiosk_id"], "kiosk"),
                tally_url=url.rstrip("/"),
                tally_public_key=key,
                meeting=check_meeting(doc["meeting"]),
                name=str(doc.get("name") or ""),
                tls_fingerprint=pin,
            )
        except (KeyError, Malformed) as exc:
            raise ConfigError(f"pairing record is not valid: {exc}") from exc


def write_json_atomic(path: Path, doc: Any, mode: int = 0o600) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_pairing(paths: Paths, pairing: Pairing) -> None:
    write_json_atomic(paths.pairing, pairing.to_json())


def load_pairing(paths: Paths) -> Pairing:
    try:
        doc = json.loads(paths.pairing.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{paths.pairing} not found: pair this kiosk first (kiosk pair)") from exc
    except ValueError as exc:
        raise ConfigError(f"{paths.pairing} is not JSON") from exc
    return Pairing.from_json(doc)


def passphrase_from(env: Mapping[str, str], passphrase_file: Path | None) -> str | None:
    """The passphrase from the environment, else from the file; None when neither gives one."""
    value = env.get(PASSPHRASE_ENV)
    if value:
        return value
    if passphrase_file is not None:
        text = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        if not text:
            raise ConfigError(f"{passphrase_file} is empty")
        return text
    return None
