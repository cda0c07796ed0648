"""Setting up a meeting in a data directory, and reading its plan back.

`init_meeting` is what `tally init` does: validate the meeting file, make the per-purpose
secrets, the tally's signing key and one sealing key per round, migrate the database and store
the plan. The meeting file's own mapping is stored (JSON) and parsed again when the tally
starts; everything else reads the parsed `Plan` (forms, counting, screens, sheets, exports), so
the words and defaults are the plan's, in one place.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.chain import genesis
from keys.errors import KeyStoreError
from keys.identity import Identity
from keys.sealing import RoundKey
from keys.store import load_private, save_private
from tally.config import ConfigError, make_secrets, write_secret_file
from tally.plan import Plan, load_plan, parse_plan, read_mapping
from tally.setup.custody import wrap_round_key
from tally.store import db as dbm
from tally.store.models import Meeting, Round


@dataclass(frozen=True)
class MeetingInfo:
    """The meeting a tally serves: its id, its title and its parsed plan."""

    id: str
    title: str
    plan: Plan


def read_meeting_file(path: Path) -> tuple[dict[str, Any], Plan]:
    """The meeting file's mapping (kept as the chair wrote it) and its validated plan (PlanError on a bad file)."""
    plan = load_plan(path)
    return read_mapping(path), plan


def init_meeting(data_dir: Path, meeting_file: Path, *, key_passphrase: str, scrutineer_passphrase: str,
                 database_url: str | None = None, store_key_passphrase: bool = False) -> str:
    """Make a new meeting in `data_dir`; returns its id. Refuses a directory that has one."""
    if (data_dir / "meeting.json").exists():
        raise ConfigError(f"{data_dir} already holds a meeting; use a new data directory")
    if not key_passphrase or not scrutineer_passphrase:
        raise ConfigError("both the tally key passphrase and the scrutineer passphrase are required")
    raw, plan = read_meeting_file(meeting_file)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)  # the operator's only, whatever the umask
    make_secrets(data_dir)
    identity = Identity.generate()
    save_private(data_dir / "secrets" / "tally.key", identity, key_passphrase)
    if store_key_passphrase:
        write_secret_file(data_dir / "secrets" / "key-passphrase", key_passphrase)
    url = database_url or f"sqlite:///{(data_dir / 'tally.db').resolve()}"
    dbm.upgrade(url)
    if url.startswith("sqlite:///") and (data_dir / "tally.db").exists():
        (data_dir / "tally.db").chmod(0o600)
    meeting_id = secrets.token_hex(8)
    engine = dbm.make_engine(url)
    try:
        with Session(engine) as s, s.begin():
            if s.scalar(select(Meeting.id)) is not None:
                raise ConfigError("the database already holds a meeting; use an empty database")
            s.add(Meeting(id=meeting_id, title=raw["meeting"]["title"],
                          plan_json=json.dumps(raw, ensure_ascii=False),
                          tally_public_key=identity.public_bytes()))
            for position, rp in enumerate(plan.rounds):
                key = RoundKey.generate()
                custody = scrutineer_passphrase if rp.kind.secret else key_passphrase
                s.add(Round(id=rp.id, position=position, kind=rp.kind.value, title=rp.title or rp.id,
                            secret=rp.kind.secret, status="draft", public_key=key.public_bytes(),
                            wrapped_private=wrap_round_key(key, custody), expected=getattr(rp, "expected", None),
                            accepted=0, chain_head=genesis(meeting_id, rp.id)))
    finally:
        engine.dispose()
    (data_dir / "meeting.json").write_text(json.dumps({"id": meeting_id, "title": raw["meeting"]["title"],
                                                       "database": "sqlite" if url.startswith("sqlite") else "url"},
                                                      ensure_ascii=False))
    return meeting_id


def key_passphrase(data_dir: Path, env: dict[str, str]) -> str:
    if env.get("TALLY_KEY_PASSPHRASE"):
        return env["TALLY_KEY_PASSPHRASE"]
    stored = data_dir / "secrets" / "key-passphrase"
    if stored.exists():
        return stored.read_text().strip()
    raise ConfigError("set TALLY_KEY_PASSPHRASE to unlock the tally's signing key")


def load_identity(data_dir: Path, passphrase: str) -> Identity:
    try:
        return load_private(data_dir / "secrets" / "tally.key", passphrase, Identity)
    except KeyStoreError as exc:
        raise ConfigError("cannot unlock secrets/tally.key: wrong TALLY_KEY_PASSPHRASE?") from exc


def meeting_info(s: Session) -> MeetingInfo:
    m = s.scalars(select(Meeting)).one()
    return MeetingInfo(id=m.id, title=m.title, plan=parse_plan(json.loads(m.plan_json), source="meeting"))
