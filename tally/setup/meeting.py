"""Setting up a meeting in a data directory, and reading its plan back.

`init_meeting` is what `tally init` does: validate the meeting file, make the per-purpose
secrets, the tally's signing key and one sealing key per round, split every secret round's key
(and a few spare keys) among the scrutineers k of n, migrate the database, store the plan,
write the public meeting record (`public/meeting.json`) and each scrutineer's share file and
sheet into a directory outside the data directory. The meeting file's own mapping is stored
(JSON) and parsed again when the tally starts; everything else reads the parsed `Plan` (forms,
counting, screens, sheets, exports), so the words and defaults are the plan's, in one place.
"""
from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.canonical import b64e
from keys.chain import genesis
from keys.errors import KeyStoreError, WeakPassphrase
from keys.identity import Identity
from keys.passphrase import check_passphrase
from keys.record import record_fingerprint, spare_id
from keys.sealing import RoundKey
from keys.shares import MAX_SCRUTINEERS, Custody, Share
from keys.store import load_private, save_private, upgrade_if_legacy
from tally.config import ConfigError, make_secrets, write_secret_file
from tally.plan import Plan, load_plan, parse_plan, read_mapping
from tally.rules.kinds import RoundKind
from tally.setup.custody import add_spares, split_key, wrap_score_key
from tally.setup.kits import write_kits
from tally.store import db as dbm
from tally.store.models import Meeting, Round, SpareKey

DEFAULT_SPARE_KEYS = 3
MAX_SPARE_KEYS = 10


@dataclass(frozen=True)
class MeetingInfo:
    """The meeting a tally serves: its id, its title and its parsed plan."""

    id: str
    title: str
    plan: Plan


@dataclass(frozen=True)
class InitDone:
    """What `init_meeting` made: the meeting's id, the record's fingerprint, the scrutineers' files."""

    meeting_id: str
    record_fingerprint: str
    kits: list[Path]


def read_meeting_file(path: Path) -> tuple[dict[str, Any], Plan]:
    """The meeting file's mapping (kept as the chair wrote it) and its validated plan (PlanError on a bad file)."""
    plan = load_plan(path)
    return read_mapping(path), plan


def weak_passphrase_message(exc: WeakPassphrase) -> str:
    return ("the passphrase is too weak (" + "; ".join(exc.reasons) + "): use at least 12 characters, "
            "a sentence of several unusual words / 口令太弱：至少 12 个字符，请用由几个不常见的词组成的一句话")


def check_shares_dir(data_dir: Path, shares_out: Path) -> None:
    """The scrutineers' files must not land in the data directory (the operator's), nor on old ones."""
    data, out = data_dir.resolve(), shares_out.resolve()
    if out == data or data in out.parents:
        raise ConfigError(f"{shares_out} is inside the data directory {data_dir}: the scrutineers' shares must "
                          "never rest where the tally's operator keeps the meeting; choose a directory outside it")
    if out in data.parents:
        raise ConfigError(f"{shares_out} holds the data directory {data_dir}: choose a directory of its own "
                          "for the scrutineers' shares")
    if out.exists() and any(out.glob("scrutineer-*")):
        raise ConfigError(f"{shares_out} already holds scrutineers' files: use a new directory")


def check_custody(scrutineers: int, quorum: int, spare_keys: int) -> None:
    if not 2 <= scrutineers <= MAX_SCRUTINEERS:
        raise ConfigError(f"--scrutineers must be between 2 and {MAX_SCRUTINEERS}")
    if quorum < 2:
        raise ConfigError("--quorum must be at least 2: one scrutineer alone must never open a round")
    if quorum > scrutineers:
        raise ConfigError("--quorum cannot be more than --scrutineers: no round could ever be opened")
    if not 0 <= spare_keys <= MAX_SPARE_KEYS:
        raise ConfigError(f"--spare-keys must be between 0 and {MAX_SPARE_KEYS}")


def init_meeting(data_dir: Path, meeting_file: Path, *, key_passphrase: str, scrutineers: int, quorum: int,
                 shares_out: Path, spare_keys: int = DEFAULT_SPARE_KEYS, database_url: str | None = None,
                 store_key_passphrase: bool = False) -> InitDone:
    """Make a new meeting in `data_dir`. Refuses a directory that has one, a weak key passphrase,
    a quorum below 2 or above the number of scrutineers, and a shares directory inside `data_dir`."""
    if (data_dir / "meeting.json").exists():
        raise ConfigError(f"{data_dir} already holds a meeting; use a new data directory")
    check_custody(scrutineers, quorum, spare_keys)
    check_shares_dir(data_dir, shares_out)
    raw, plan = read_meeting_file(meeting_file)
    title = raw["meeting"]["title"]
    try:
        check_passphrase(key_passphrase, context=(title,))
    except WeakPassphrase as exc:
        raise ConfigError(weak_passphrase_message(exc)) from exc
    meeting_id = secrets.token_hex(8)
    identity = Identity.generate()
    rounds: list[tuple[Any, RoundKey, Custody | None]] = []
    shares: list[Share] = []
    for rp in plan.rounds:
        key = RoundKey.generate()
        custody = None
        if rp.kind.secret:
            custody, made = split_key(meeting_id, rp.id, key, quorum, scrutineers)
            shares += made
        rounds.append((rp, key, custody))
    spares: list[Custody] = []
    for n in range(1, spare_keys + 1):
        custody, made = split_key(meeting_id, spare_id(n), RoundKey.generate(), quorum, scrutineers)
        spares.append(custody)
        shares += made
    record = meeting_record_doc(meeting_id, title, identity.public_bytes(), scrutineers, quorum,
                                [(rp.id, rp.kind.value, rp.title or rp.id, rp.kind.takes_cards, key.public_bytes(),
                                  custody) for rp, key, custody in rounds], spares)
    fp = record_fingerprint(record)
    # The scrutineers' files first: if the disk is full, nothing of the meeting exists yet.
    titles = {rp.id: rp.title or rp.id for rp in plan.rounds}
    kits = write_kits(shares_out, title=title, meeting=meeting_id, record_fingerprint=fp, scrutineers=scrutineers,
                      quorum=quorum, shares=shares, titles=titles)
    del shares
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data_dir.chmod(0o700)  # the operator's only, whatever the umask
        make_secrets(data_dir)
        save_private(data_dir / "secrets" / "tally.key", identity, key_passphrase)
        if store_key_passphrase:
            write_secret_file(data_dir / "secrets" / "key-passphrase", key_passphrase)
        url = database_url or f"sqlite:///{(data_dir / 'tally.db').resolve()}"
        dbm.upgrade(url)
        if url.startswith("sqlite:///") and (data_dir / "tally.db").exists():
            (data_dir / "tally.db").chmod(0o600)
        engine = dbm.make_engine(url)
        try:
            with Session(engine) as s, s.begin():
                if s.scalar(select(Meeting.id)) is not None:
                    raise ConfigError("the database already holds a meeting; use an empty database")
                s.add(Meeting(id=meeting_id, title=title, plan_json=json.dumps(raw, ensure_ascii=False),
                              tally_public_key=identity.public_bytes(), scrutineers=scrutineers, quorum=quorum,
                              desk_unlock=False))
                for position, (rp, key, custody) in enumerate(rounds):
                    s.add(Round(id=rp.id, position=position, kind=rp.kind.value, title=rp.title or rp.id,
                                secret=rp.kind.secret, status="draft", public_key=key.public_bytes(),
                                wrapped_private=custody.wrapped if custody else wrap_score_key(key, key_passphrase),
                                share_commitments=json.dumps(list(custody.commitments)) if custody else None,
                                expected=getattr(rp, "expected", None), accepted=0,
                                chain_head=genesis(meeting_id, rp.id)))
                add_spares(s, meeting_id, spares)
        finally:
            engine.dispose()
        public = data_dir / "public"
        public.mkdir(exist_ok=True)
        (public / "meeting.json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (data_dir / "meeting.json").write_text(json.dumps({"id": meeting_id, "title": title,
                                                           "database": "sqlite" if url.startswith("sqlite") else "url"},
                                                          ensure_ascii=False))
    except BaseException:
        for kit in kits:
            kit.unlink(missing_ok=True)
        raise
    return InitDone(meeting_id, fp, kits)


RoundEntry = tuple[str, str, str, bool, bytes, "Custody | None"]


def meeting_record_doc(meeting_id: str, title: str, tally_public: bytes, scrutineers: int, quorum: int,
                       rounds: list[RoundEntry], spares: list[Custody]) -> dict[str, Any]:
    """The public meeting record (`keys.record`): what anyone may know of the meeting's keys."""
    return {
        "v": 1, "type": "meeting-record", "meeting": meeting_id, "title": title,
        "tally_public_key": b64e(tally_public), "scrutineers": scrutineers, "quorum": quorum,
        "rounds": [{"id": rid, "kind": kind, "title": rtitle, "cards": cards, "public_key": b64e(public),
                    "commitments": list(custody.commitments) if custody else None}
                   for rid, kind, rtitle, cards, public, custody in rounds],
        "spares": [{"id": c.round_id, "public_key": b64e(c.public_key), "commitments": list(c.commitments)}
                   for c in spares],
    }


def meeting_record(s: Session) -> dict[str, Any]:
    """The public meeting record as set up, rebuilt from the database (a round added live from a
    spare key stays listed as the spare it was)."""
    m = s.scalars(select(Meeting)).one()
    spares = list(s.scalars(select(SpareKey).order_by(SpareKey.position)))
    spare_ids = {sp.id for sp in spares}
    rounds: list[RoundEntry] = []
    for r in s.scalars(select(Round).order_by(Round.position)):
        if r.id in spare_ids:
            continue
        custody = None
        if r.share_commitments is not None and m.quorum is not None:
            custody = Custody(r.id, r.public_key, r.wrapped_private, tuple(json.loads(r.share_commitments)), m.quorum)
        rounds.append((r.id, r.kind, r.title, RoundKind(r.kind).takes_cards, r.public_key, custody))
    return meeting_record_doc(m.id, m.title, m.tally_public_key, m.scrutineers or 0, m.quorum or 0, rounds,
                              [Custody(sp.id, sp.public_key, sp.wrapped_private, tuple(json.loads(sp.share_commitments)),
                                       m.quorum or 0) for sp in spares])


def key_passphrase(data_dir: Path, env: dict[str, str]) -> str:
    """The key passphrase for scripted meetings and tests (`TALLY_KEY_PASSPHRASE`) or a demo's
    stored one; in a hall `tally serve` asks on the terminal or reads the holder's file instead."""
    if env.get("TALLY_KEY_PASSPHRASE"):
        return env["TALLY_KEY_PASSPHRASE"]
    stored = data_dir / "secrets" / "key-passphrase"
    if stored.exists():
        return stored.read_text().strip()
    raise ConfigError("the tally's signing key needs its passphrase: type it when `tally serve` asks, "
                      "or give --key-passphrase-file FILE")


def load_identity(data_dir: Path, passphrase: str) -> Identity:
    """The tally's signing key; a key file of version 0.1 (PBKDF2) is rewritten with scrypt."""
    path = data_dir / "secrets" / "tally.key"
    try:
        identity = load_private(path, passphrase, Identity)
    except KeyStoreError as exc:
        raise ConfigError("cannot unlock secrets/tally.key: wrong key passphrase?") from exc
    with contextlib.suppress(KeyStoreError):  # a read-only data directory keeps its old file
        upgrade_if_legacy(path, passphrase)
    return identity


def meeting_info(s: Session) -> MeetingInfo:
    m = s.scalars(select(Meeting)).one()
    return MeetingInfo(id=m.id, title=m.title, plan=parse_plan(json.loads(m.plan_json), source="meeting"))
