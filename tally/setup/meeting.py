"""Setting up a meeting in a data directory, and reading its plan back.

`init_meeting` is what `tally init` does: validate the meeting file, make the per-purpose
secrets, the tally's signing key and one sealing key per round, migrate the database and store
the plan. The plan is kept as the meeting file's own mapping (JSON) so that forms, counting and
exports all read the same words the chair wrote.
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
from keys.identity import Identity
from keys.sealing import RoundKey
from keys.store import load_private, save_private
from tally.store import db as dbm
from tally.config import ConfigError, make_secrets, write_secret_file
from tally.setup.custody import wrap_round_key
from tally.store.models import Meeting, Round
from tally.plan import Plan, load_plan, parse_plan, read_mapping

SECRET_KINDS = frozenset({"recommend", "evaluate", "decide"})
BALLOT_KINDS = SECRET_KINDS | {"score"}


@dataclass(frozen=True)
class MeetingInfo:
    id: str
    title: str
    raw: dict[str, Any]
    plan: Plan

    def round_raw(self, round_id: str) -> dict[str, Any]:
        for r in self.raw["rounds"]:
            if r["id"] == round_id:
                return r
        raise KeyError(round_id)


def read_meeting_file(path: Path) -> tuple[dict[str, Any], Plan]:
    """The meeting file's mapping and its validated plan (PlanError on a bad file)."""
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
    data_dir.mkdir(parents=True, exist_ok=True)
    make_secrets(data_dir)
    identity = Identity.generate()
    save_private(data_dir / "secrets" / "tally.key", identity, key_passphrase)
    if store_key_passphrase:
        write_secret_file(data_dir / "secrets" / "key-passphrase", key_passphrase)
    url = database_url or f"sqlite:///{(data_dir / 'tally.db').resolve()}"
    dbm.upgrade(url)
    meeting_id = secrets.token_hex(8)
    engine = dbm.make_engine(url)
    try:
        with Session(engine) as s, s.begin():
            if s.scalar(select(Meeting.id)) is not None:
                raise ConfigError("the database already holds a meeting; use an empty database")
            s.add(Meeting(id=meeting_id, title=raw["meeting"]["title"],
                          plan_json=json.dumps(raw, ensure_ascii=False),
                          tally_public_key=identity.public_bytes()))
            for position, r in enumerate(raw["rounds"]):
                kind = r["kind"]
                key = RoundKey.generate()
                custody = scrutineer_passphrase if kind in SECRET_KINDS else key_passphrase
                s.add(Round(id=r["id"], position=position, kind=kind, title=r.get("title") or r["id"],
                            secret=kind in SECRET_KINDS, status="draft", public_key=key.public_bytes(),
                            wrapped_private=wrap_round_key(key, custody), expected=r.get("expected"),
                            accepted=0, chain_head=genesis(meeting_id, r["id"])))
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
    from keys.errors import KeyStoreError

    try:
        return load_private(data_dir / "secrets" / "tally.key", passphrase, Identity)
    except KeyStoreError as exc:
        raise ConfigError("cannot unlock secrets/tally.key: wrong TALLY_KEY_PASSPHRASE?") from exc


def meeting_info(s: Session) -> MeetingInfo:
    m = s.scalars(select(Meeting)).one()
    raw = json.loads(m.plan_json)
    return MeetingInfo(id=m.id, title=m.title, raw=raw, plan=parse_plan(raw, source="meeting"))
