"""Tally configuration: read from the data directory and the environment, refuse to start without secrets.

A data directory holds one meeting: `tally.db` (SQLite, the embedded default), `secrets/` (0600
files made by `tally init`: session key, display key, admin token, the tally's signing key) and
`exports/`. Nothing here has a default secret: outside tests a missing secret stops the server
with a message that says which one and how to make it.
"""
from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A missing or unusable setting, said in words a chair's technician understands."""


SECRET_FILES = ("session-key", "display-key", "admin-token")


@dataclass(frozen=True)
class Secret:
    """A value that never prints itself."""

    value: str

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def write_secret_file(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{_secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def make_secrets(data_dir: Path) -> None:
    """Create the per-purpose random secrets of a new data directory (never overwrites one)."""
    sdir = data_dir / "secrets"
    for name in SECRET_FILES:
        path = sdir / name
        if not path.exists():
            write_secret_file(path, _secrets.token_urlsafe(32))


def read_secret(data_dir: Path, name: str, env: Mapping[str, str]) -> Secret:
    env_name = "TALLY_" + name.upper().replace("-", "_")
    if env.get(env_name):
        return Secret(env[env_name])
    path = data_dir / "secrets" / name
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        raise ConfigError(
            f"missing secret {name!r}: run `tally init --data {data_dir}` or set {env_name}"
        ) from None
    if not value:
        raise ConfigError(f"secret file {path} is empty")
    return Secret(value)


def database_url(data_dir: Path, env: Mapping[str, str]) -> str:
    return env.get("TALLY_DATABASE_URL") or f"sqlite:///{(data_dir / 'tally.db').resolve()}"


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise ConfigError(f"{name} must be a whole number from 1 to 10000, not {text!r}")
    return int(text)


def load_config(data_dir: Path | str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flask config of a tally over `data_dir`; raises ConfigError when a secret is missing."""
    env = os.environ if env is None else env
    data_dir = Path(data_dir)
    if not (data_dir / "meeting.json").exists():
        raise ConfigError(f"{data_dir} holds no meeting: run `tally init --data {data_dir} --meeting FILE`")
    return {
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": read_secret(data_dir, "session-key", env).value,
        "DISPLAY_KEY": read_secret(data_dir, "display-key", env),
        "ADMIN_TOKEN": read_secret(data_dir, "admin-token", env),
        "DATABASE_URL": database_url(data_dir, env),
        "MESSAGE_QUEUE": env.get("TALLY_MESSAGE_QUEUE") or None,
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_HOURS": _whole(env, "TALLY_SESSION_HOURS", 12),
        "SESSION_IDLE_MINUTES": _whole(env, "TALLY_SESSION_IDLE_MINUTES", 60),
        "OFFER_MINUTES": _whole(env, "TALLY_OFFER_MINUTES", 30),
    }
