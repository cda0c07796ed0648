"""The tally's tables: SQLAlchemy 2 typed models. Integrity lives in constraints, not in locks.

Anonymity (DESIGN.md): no table stores an arrival time, sequence number or auto-increment order
next to a secret ballot. Envelope and ballot ids are random; opened ballots keep no link to the
envelope they came from; check-in keeps a flag, not a time; cards are stored as public keys
only, one row per card and round with nothing linking a card's rows.
The audit log records the chair's actions with times, never ballots.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tally.rules.kinds import RoundKind


class Base(DeclarativeBase):
    pass


class Meeting(Base):
    __tablename__ = "meeting"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    plan_json: Mapped[str] = mapped_column(Text)
    tally_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The 监票人: how many hold a share of each secret round key, and how many open one together.
    scrutineers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quorum: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # May the desk unlock a kiosk for one voter (the kiosk makes the card)? The chair decides.
    desk_unlock: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("status in ('draft','open','closed','counted')", name="round_status"),
        CheckConstraint("accepted >= 0", name="round_accepted_nonneg"),
        CheckConstraint("present is null or accepted <= present", name="round_not_over_present"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # A secret round: its key wrapped under the round secret only k shares rebuild
    # (`keys.shares`), and one commitment per share (JSON list). A score round: its key wrapped
    # under the tally's key passphrase (`keys.store`), no commitments.
    wrapped_private: Mapped[bytes] = mapped_column(LargeBinary)
    share_commitments: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    present: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    chain_head: Mapped[str] = mapped_column(String(64))
    result_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_sig: Mapped[str | None] = mapped_column(Text, nullable=True)
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The number of the chair's latest "show" (投影公布) among all rounds: the projector shows the highest.
    reveal_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @property
    def round_kind(self) -> RoundKind:
        return RoundKind(self.kind)


class Kiosk(Base):
    __tablename__ = "kiosks"
    __table_args__ = (CheckConstraint("status in ('pending','active','revoked')", name="kiosk_status"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    outbox: Mapped[int] = mapped_column(Integer, default=0)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PairingOffer(Base):
    """A one-time pairing code (its hash): used once, and only until it expires."""

    __tablename__ = "pairing_offers"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    preconfirm: Mapped[bool] = mapped_column(Boolean, default=False)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    # None on an offer made before offers expired: such an offer is refused.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    """A signed-in console or desk session (server-side): the cookie carries only a random id,
    stored here as its hash. Ended by sign-out (the row is deleted), by its lifetime or idle time."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    seen_at: Mapped[datetime] = mapped_column(DateTime)


# SQLite keeps a hidden rowid in insertion order unless told not to; the tables below must not
# remember the order in which rows came.
UNORDERED = {"sqlite_with_rowid": False}


class Card(Base):
    """A ballot credential for one round: the public key a card's secret derives for that round.

    A card of the scrutineers' list has one row per ballot round and nothing ties its rows
    together: no card id, no time, no holder. Only the secret on the card derives all of them.
    `origin` is `list` (imported from the scrutineers' card list) or `desk` (a kiosk made the
    card for a desk unlock); the export and the result sheet count the second kind."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("status in ('printed','issued','void')", name="card_status"),
        # The target of card_uses' foreign key: a use must name the round its credential is for.
        UniqueConstraint("public_key", "round_id", name="card_round"),
        UNORDERED,
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"))
    status: Mapped[str] = mapped_column(String(16), default="printed")
    origin: Mapped[str] = mapped_column(String(8), default="list", server_default="list")


class CardUse(Base):
    """One row per card credential per round: the primary key is what makes a card count once."""

    __tablename__ = "card_uses"
    __table_args__ = (
        ForeignKeyConstraint(["card", "round_id"], ["cards.public_key", "cards.round_id"], name="card_use_credential"),
        UNORDERED,
    )
    card: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)


class SpareKey(Base):
    """A spare round key made and split at set-up, for a round added during the meeting.

    A round added live takes a spare's id as its own id and its key, commitments and card
    credentials (`tally.setup.custody.assign_spare`); `assigned` then says so."""

    __tablename__ = "spare_keys"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private: Mapped[bytes] = mapped_column(LargeBinary)
    share_commitments: Mapped[str] = mapped_column(Text)
    assigned: Mapped[bool] = mapped_column(Boolean, default=False)


class SpareCard(Base):
    """A card's credential for a spare round key, waiting for a round to take that key."""

    __tablename__ = "spare_cards"
    __table_args__ = (CheckConstraint("status in ('issued','void')", name="spare_card_status"), UNORDERED)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    spare_id: Mapped[str] = mapped_column(ForeignKey("spare_keys.id"))
    status: Mapped[str] = mapped_column(String(16), default="issued")


class CredentialList(Base):
    """The scrutineers' card list as imported: its fingerprint, its size and the meeting record it
    names. The keys themselves are the `cards` and `spare_cards` rows (one per row, so no row
    holds two rounds' keys); the list is rebuilt from them for the export, and must give the
    same fingerprint. Frozen once the first round opens."""

    __tablename__ = "credential_list"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    cards: Mapped[int] = mapped_column(Integer)
    meeting_record: Mapped[str] = mapped_column(String(64))


class UnlockGrant(Base):
    """A desk unlock of one kiosk for one voter, waiting for the kiosk to claim it."""

    __tablename__ = "unlock_grants"
    __table_args__ = (UNORDERED,)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"), unique=True)


class Envelope(Base):
    """An accepted envelope, as it travelled, with the tally's receipt. Append-only."""

    __tablename__ = "envelopes"
    __table_args__ = (
        UniqueConstraint("round_id", "kiosk_id", "nonce", name="envelope_nonce_once"),
        UniqueConstraint("round_id", "prev_hash", name="chain_no_fork"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"))
    nonce: Mapped[str] = mapped_column(String(32))
    envelope_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    receipt: Mapped[str] = mapped_column(Text)


class Ballot(Base):
    """An opened ballot (plaintext, CONTRACT.md ballot line). Random id, no link to its envelope."""

    __tablename__ = "ballots"
    __table_args__ = (UNORDERED,)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    content: Mapped[str] = mapped_column(Text)


class Attendee(Base):
    """A roster entry. `checked_in` is a flag, never a time (签到 must not date a ballot)."""

    __tablename__ = "attendees"
    __table_args__ = (UNORDERED,)
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    group: Mapped[str] = mapped_column(String(80), default="")
    checked_in: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """What the chair and staff did, when: open, close, count, reveal, pair, revoke. Never ballots."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="{}")


# --- judge scoring (评分, 演讲答辩) ------------------------------------------------------------

class JudgePoolMember(Base):
    """Someone who may be drawn as a judge (两代表一委员, leaders). Named only in the draw record."""

    __tablename__ = "judge_pool"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    group: Mapped[str] = mapped_column(String(80), default="")


class JudgeDraw(Base):
    """The recorded random draw of a score round's panel: seed, pool size, seat → pool number."""

    __tablename__ = "judge_draws"
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    seed: Mapped[str] = mapped_column(String(64))
    record_json: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)


class JudgeSeat(Base):
    """A seat on a panel and the public key of its judge card. Shown everywhere as its number."""

    __tablename__ = "judge_seats"
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    seat: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_public: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True, nullable=True)


class ScoringProgress(Base):
    """Where a score round is: the speaking order and the contestant being scored."""

    __tablename__ = "scoring_progress"
    __table_args__ = (CheckConstraint("phase in ('idle','scoring','revealed')", name="scoring_phase"),)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    order_json: Mapped[str] = mapped_column(Text, default="[]")
    current: Mapped[str | None] = mapped_column(String(80), nullable=True)
    phase: Mapped[str] = mapped_column(String(16), default="idle")


class Score(Base):
    """One judge's score for one contestant, as a version: a correction voids and re-enters, never edits."""

    __tablename__ = "scores"
    __table_args__ = (
        CheckConstraint("status in ('active','void')", name="score_status"),
        UniqueConstraint("round_id", "contestant", "seat", "version", name="score_version_once"),
        Index("score_one_active", "round_id", "contestant", "seat", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"))
    contestant: Mapped[str] = mapped_column(String(80))
    seat: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default="active")
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    envelope_hash: Mapped[str] = mapped_column(String(64), unique=True)


class ContestantResult(Base):
    """A contestant's revealed result (亮分): frozen once shown."""

    __tablename__ = "contestant_results"
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    contestant: Mapped[str] = mapped_column(String(80), primary_key=True)
    result_json: Mapped[str] = mapped_column(Text)
