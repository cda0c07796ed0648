"""The `keys` command line: what the scrutineers (监票人) and an auditor (审计人员) run on their own machines.

`keys fingerprint PEMFILE` shows a key's fingerprint; `keys verify-receipt` checks a tally
receipt; `keys verify-box EXPORT_DIR` checks every signature of an exported ballot box, every
card against the scrutineers' card list, and recomputes each round's chain head, checks the
tally's signed result sheet when the export carries one, and the audit log's chain when it
carries `audit.jsonl`; `keys check-receipts KIOSK_DATA_DIR EXPORT_DIR` checks that every
receipt a kiosk holds is in the published box. `keys cards make` is the scrutineers' tool that
makes the ballot cards (the tally cannot), `keys cards void` turns left-over cards into void
lines that hold no card secret, and `keys shares check` checks a scrutineer's share file against
the public meeting record. Output goes through gettext (domain `keys`, catalogs in
`keys/locale`, language from LANGUAGE / LC_ALL / LC_MESSAGES / LANG). Only `keys cards make`
and `keys cards void` write, and only where they are told to.
"""
from __future__ import annotations

import gettext
import json
import os
import resource
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from keys import audit as audit_chain
from keys.canonical import b64d
from keys.cards import Card, parse_card
from keys.chain import genesis, next_entry
from keys.closing import desk_digest, find_close
from keys.credentials import CredentialList, make_cards, parse_credentials, void_lines
from keys.document import verify_document
from keys.envelope import parse_envelope, receipt_code, verify_envelope, verify_receipt
from keys.errors import BadEnvelope, BadReceipt, BadSignature, KeyStoreError, Malformed
from keys.fingerprint import fingerprint
from keys.ids import check_hash, check_meeting, check_name
from keys.published import PublishedBox, by_round, missing, parse_box, read_kiosk
from keys.record import MeetingRecord, parse_record
from keys.shares import commitment, parse_share
from keys.store import BEGIN, LEGACY_BEGIN, load_private, load_public_pem

LOCALE_DIR = Path(__file__).with_name("locale")


def _(message: str) -> str:
    """Translate now, with the language the environment asks for at this moment."""
    return gettext.translation("keys", localedir=LOCALE_DIR, fallback=True).gettext(message)


def _quoted(value: object) -> str:
    """A value read from the files being checked, as the terminal may print it: a control or format
    character (an escape sequence's start, a bidi override) is written as its escape, never sent."""
    text = value if isinstance(value, str) else json.dumps(value)
    return "".join(c if c.isprintable() or unicodedata.category(c) == "Zs" else c.encode("unicode_escape").decode()
                   for c in text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Scrutineer keys: fingerprints and audit checks (指纹与审计校验)."""
    # No core file (the soft limit a crash obeys): it would hold cards' secrets or shares.
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


@main.command("fingerprint")
@click.argument("pemfile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the passphrase of an encrypted private key from this file.")
def fingerprint_command(pemfile: Path, passphrase_file: Path | None) -> None:
    """Print the fingerprint of a public key or of an encrypted private key file."""
    data = pemfile.read_bytes()
    try:
        if LEGACY_BEGIN in data or BEGIN in data:
            if passphrase_file is not None:
                passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
            else:
                passphrase = click.prompt(_("Passphrase"), hide_input=True, err=True)
            public = load_private(pemfile, passphrase).public_bytes()
        elif b"-----BEGIN PUBLIC KEY-----" in data:
            public = load_public_pem(data)
        else:
            message = _("{path} is neither a public key nor an encrypted private key")
            raise click.ClickException(message.format(path=pemfile))
    except KeyStoreError as exc:
        raise click.ClickException(_("cannot read the key: wrong passphrase or damaged file")) from exc
    click.echo(fingerprint(public))


def _read_json(path: str) -> Any:
    try:
        text = click.open_file(path, "r", encoding="utf-8").read()
        return json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(_("{path} is not a readable JSON file").format(path=path)) from exc


def _key(value: object, what: str) -> bytes:
    try:
        data = b64d(value)  # type: ignore[arg-type]
        if len(data) != 32:
            raise Malformed("wrong size")
    except Malformed as exc:
        raise click.ClickException(_("{what} is not a base64url public key").format(what=what)) from exc
    return data


@main.command("verify-receipt")
@click.argument("receipt", metavar="RECEIPT_JSON")
@click.option("--tally-key", help="The tally's public key (base64url).")
@click.option("--public", "public_json", type=click.Path(exists=True, dir_okay=False),
              help="An export's public.json: take the tally key and meeting from it.")
@click.option("--envelope", "envelope_json", type=click.Path(exists=True, dir_okay=False),
              help="The envelope body (JSON) that the receipt should acknowledge.")
@click.option("--envelope-hash", help="Or the envelope's hash (64 hex characters).")
def verify_receipt_command(receipt: str, tally_key: str | None, public_json: str | None,
                           envelope_json: str | None, envelope_hash: str | None) -> None:
    """Check that RECEIPT_JSON ('-' for stdin) is the tally's signed receipt for an envelope."""
    meeting = None
    if (tally_key is None) == (public_json is None):
        raise click.UsageError(_("give exactly one of --tally-key and --public"))
    if (envelope_json is None) == (envelope_hash is None):
        raise click.UsageError(_("give exactly one of --envelope and --envelope-hash"))
    if public_json is not None:
        public = _read_json(public_json)
        if not isinstance(public, dict):
            raise click.ClickException(_("{path} is not a ballot box export").format(path=public_json))
        tally_key, meeting = public.get("tally_public_key"), public.get("meeting")
    tally_public = _key(tally_key, _("the tally key"))
    if envelope_json is not None:
        try:
            envelope_hash = parse_envelope(_read_json(envelope_json)).envelope_hash
        except BadEnvelope as exc:
            raise click.ClickException(_("{path} is not an envelope").format(path=envelope_json)) from exc
    if envelope_hash is None:  # unreachable after the usage checks; keeps the type narrow
        raise click.UsageError(_("give exactly one of --envelope and --envelope-hash"))
    try:
        check_hash(envelope_hash, "envelope hash")
        fields = verify_receipt(_read_json(receipt), tally_public, envelope_hash, meeting=meeting)
    except (Malformed, BadReceipt) as exc:
        raise click.ClickException(_("the receipt does not verify")) from exc
    click.echo(_("Receipt verified."))
    click.echo(_("Tally key: {fp}").format(fp=fingerprint(tally_public)))
    click.echo(_("Meeting: {meeting}  Round: {round}").format(meeting=fields["meeting"], round=fields["round"]))
    click.echo(_("Envelope: {hash}  Receipt code: {code}").format(
        hash=fields["envelope"], code=receipt_code(fields["envelope"])))
    click.echo(_("Chain entry: {entry}").format(entry=fields["entry"]))


@dataclass
class _RoundState:
    head: str
    count: int
    entry: str
    kind: str | None = None
    seen: int = 0
    outside: int = 0
    desk: int = 0
    contestants: int | None = None
    cards: set[bytes] = field(default_factory=set)
    desk_cards: set[bytes] = field(default_factory=set)
    judge_cards: set[bytes] | None = None
    judge_seats: dict[bytes, int] = field(default_factory=dict)  # every judge card ever issued -> its seat
    judge_envelopes: dict[bytes, int] = field(default_factory=dict)  # judge card -> envelopes it signed


@dataclass
class _Export:
    meeting: str
    tally_public: bytes
    kiosks: dict[str, bytes]
    rounds: dict[str, _RoundState]
    cards: set[bytes] | None
    card_list: CredentialList | None = None
    audit: list[Any] | None = None  # audit.jsonl's lines, when the export has it


def _keys(value: object, what: str) -> set[bytes]:
    if not isinstance(value, list):
        raise Malformed(what)
    return {_key(c, what) for c in value}


def _load_public(directory: Path) -> _Export:
    path = directory / "public.json"
    doc = _read_json(str(path))
    bad = click.ClickException(_("{path} is not a ballot box export").format(path=path))
    if not isinstance(doc, dict) or not {"meeting", "tally_public_key", "kiosks", "rounds"} <= set(doc):
        raise bad
    try:
        meeting = check_meeting(doc["meeting"])
        kiosks, rounds = doc["kiosks"], doc["rounds"]
        if not isinstance(kiosks, dict) or not isinstance(rounds, dict):
            raise Malformed("kiosks and rounds are objects")
        kiosk_keys = {check_name(k, "kiosk"): _key(v, k) for k, v in kiosks.items()}
        states = {}
        for round_id, info in rounds.items():
            check_name(round_id, "round")
            if not isinstance(info, dict) or type(info.get("count")) is not int or info["count"] < 0:
                raise Malformed("round entry")
            kind, contestants = info.get("kind"), info.get("contestants")
            states[round_id] = _RoundState(head=check_hash(info.get("head"), "head"), count=info["count"],
                                           entry=genesis(meeting, round_id), kind=kind if isinstance(kind, str) else None,
                                           contestants=contestants if type(contestants) is int else None)
        cards = None
        if "cards" in doc:  # version 0.1: one flat list of every card key
            cards = _keys(doc["cards"], "card")
        for field_name in ("desk_cards", "judge_cards"):
            per_round = doc.get(field_name, {})
            if not isinstance(per_round, dict):
                raise Malformed(field_name)
            for round_id, listed in per_round.items():
                if round_id not in states:
                    raise Malformed(field_name)
                if field_name == "desk_cards":
                    states[round_id].desk_cards = _keys(listed, "card")
                else:
                    states[round_id].judge_cards = _keys(listed, "card")
        seats = doc.get("judge_seats", {})
        if not isinstance(seats, dict) or not set(seats) <= set(states):
            raise Malformed("judge_seats")
        for round_id, by_seat in seats.items():
            if not isinstance(by_seat, dict) or not all(isinstance(n, str) and n.isdigit() for n in by_seat):
                raise Malformed("judge_seats")
            states[round_id].judge_seats.update({_key(k, "card"): int(n) for n, k in by_seat.items()})
    except Malformed as exc:
        raise bad from exc
    return _Export(meeting, _key(doc["tally_public_key"], _("the tally key")), kiosk_keys, states, cards)


def _load_card_list(path: Path, export: _Export) -> CredentialList:
    """The scrutineers' card list, checked: its fingerprint, its meeting, and that the tally's
    desk-unlock keys are not in it."""
    try:
        found = parse_credentials(_read_json(str(path)))
    except Malformed as exc:
        raise click.ClickException(_("{path} is not a valid ballot card list").format(path=path)) from exc
    if found.meeting != export.meeting:
        raise click.ClickException(_("{path} is the card list of another meeting").format(path=path))
    return found


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8") as handle:
            yield from enumerate(handle, start=1)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(_("{path} cannot be read").format(path=path)) from exc


def _resync(state: _RoundState, claimed: object, fallback: str | None) -> None:
    try:
        state.entry = check_hash(claimed, "entry")
    except Malformed:
        if fallback is not None:
            state.entry = fallback


LINE_KEYS = frozenset({"round", "body", "entry"})
LINE_OPTIONAL = frozenset({"prev", "receipt", "outside"})


def _check_line(export: _Export, text: str, seen_envelopes: set[str]) -> str | None:
    """Check one line of envelopes.jsonl; return a problem, or None if it is sound."""
    try:
        line = json.loads(text)
    except json.JSONDecodeError:
        return _("not JSON")
    if not isinstance(line, dict) or not LINE_KEYS <= set(line) <= LINE_KEYS | LINE_OPTIONAL:
        return _("a line has round, body, entry and the tally's receipt")
    state = export.rounds.get(line["round"]) if isinstance(line["round"], str) else None
    if state is None:
        return _("round {round} is not in public.json").format(round=_quoted(line["round"]))
    if line.get("outside") is True:
        # The tally's box holds this row, but its chain from the genesis does not reach it.
        state.outside += 1
        return _("outside the chain: the chain from its genesis does not reach this envelope (one before it "
                 "was deleted, or it was inserted)")
    state.seen += 1
    try:
        header = parse_envelope(line["body"])
    except BadEnvelope:
        _resync(state, line["entry"], None)
        return _("malformed envelope")
    # Follow the file's chain after a mismatch, so one bad line is reported once rather than
    # making every later entry fail; the head check at the end still catches a forged tail.
    expected = next_entry(state.entry, header.envelope_hash)
    if line["entry"] != expected:
        _resync(state, line["entry"], expected)
        return _("chain entry does not match")
    state.entry = expected
    if header.meeting != export.meeting:
        return _("envelope is for another meeting")
    if header.round_id != line["round"]:
        return _("envelope is for round {round}, filed under {filed}").format(
            round=header.round_id, filed=line["round"])
    kiosk_public = export.kiosks.get(header.kiosk_id)
    if kiosk_public is None:
        return _("unknown kiosk {kiosk}").format(kiosk=header.kiosk_id)
    try:
        verify_envelope(header, kiosk_public)
    except BadEnvelope:
        return _("kiosk or card signature does not verify")
    if header.envelope_hash in seen_envelopes:
        return _("envelope appears twice")
    seen_envelopes.add(header.envelope_hash)
    problem = _check_receipt(export, line, header.envelope_hash, expected)
    return problem or _check_card(export, line["round"], state, header.card_public)


def _check_receipt(export: _Export, line: dict[str, Any], envelope_hash: str, entry: str) -> str | None:
    """The tally signed a receipt for this envelope at this very chain entry (what its kiosk holds)."""
    if "receipt" not in line:
        return _("no receipt of the tally for this envelope")
    try:
        fields = verify_receipt(line["receipt"], export.tally_public, envelope_hash, meeting=export.meeting,
                                round_id=line["round"])
    except BadReceipt:
        return _("the tally's receipt for this envelope does not verify")
    if fields["entry"] != entry:
        return _("the tally received this envelope at chain entry {received}, not at {entry}: an envelope before "
                 "it was deleted, inserted or moved").format(received=fields["entry"][:16], entry=entry[:16])
    return None


def _check_card(export: _Export, round_id: str, state: _RoundState, card: bytes) -> str | None:
    if state.kind == "score":
        # A judge card signs one envelope per contestant (and one more per correction): no double
        # use here, only membership of the round's panel; the envelopes per seat are counted at the end.
        state.judge_envelopes[card] = state.judge_envelopes.get(card, 0) + 1
        known = (state.judge_cards or set()) | set(state.judge_seats)
        if (state.judge_cards is not None or state.judge_seats) and card not in known:
            return _("card is not one of this round's judge cards")
        return None
    if card in state.cards:
        return _("card used twice in this round")
    state.cards.add(card)
    if export.card_list is not None:
        listed = export.card_list.rounds.get(round_id)
        if listed is not None and card in listed:
            return None
        if card in state.desk_cards:
            state.desk += 1
            return None
        return _("card is not in the scrutineers' card list")
    if export.cards is not None and card not in export.cards and card not in state.desk_cards:
        return _("card is not one of the meeting's cards")
    if card in state.desk_cards:
        state.desk += 1
    return None


def _check_result(directory: Path, export: _Export) -> tuple[str | None, list[str], dict[str, Any] | None]:
    """Check `result.signed.json` when the export has one: `(round checked, problems, document)`.
    Its chain head and count must be the box's, as recomputed, and its audit head must be in the
    log, at or after the round's close."""
    path = directory / "result.signed.json"
    if not path.exists():
        return None, [], None
    try:
        doc = verify_document(_read_json(str(path)), export.tally_public)
    except BadSignature:
        return None, [_("the tally's signature does not verify")], None
    round_id = doc.get("round")
    state = export.rounds.get(round_id) if isinstance(round_id, str) else None
    if doc.get("meeting") != export.meeting or state is None or not isinstance(round_id, str):
        return None, [_("it is for another meeting or round")], None
    problems = []
    if doc.get("chain_head") != state.head:
        problems.append(_("it names another chain head than public.json"))
    elif doc.get("chain_head") != state.entry:
        problems.append(_("it names chain head {signed}, but the box's chain ends at {head}").format(
            signed=_quoted(doc.get("chain_head")), head=state.entry))
    if "count" in doc and doc["count"] != state.seen:
        problems.append(_("it counts {signed} envelopes, but the box holds {n}").format(
            signed=_quoted(doc["count"]), n=state.seen))
    closed = _close_position(export, round_id)
    signed_head = doc.get("audit_head")
    if export.audit is not None and closed is not None and isinstance(signed_head, str):
        after = {line.get("entry") for line in export.audit[closed - 1:] if isinstance(line, dict)}
        if signed_head not in after:
            problems.append(_("the audit log head it signs is not at or after the round's close"))
    return round_id, problems, doc


def _close_position(export: _Export, round_id: str) -> int | None:
    found = find_close(export.audit or [], export.meeting, round_id, export.tally_public)
    return found.records[0][0] if len(found.records) == 1 else None


def _check_close(export: _Export, round_id: str, state: _RoundState) -> list[str]:
    """The close record the tally signed when the round closed (in audit.jsonl): one, chained after
    the audit head it names, and the box as it says (count, head, card list, desk-unlock keys)."""
    if export.audit is None:
        return []
    found = find_close(export.audit, export.meeting, round_id, export.tally_public)
    if found.unsigned or len(found.records) != 1:
        return [_("audit.jsonl holds no close record of round {round} signed by the tally, or more than one").format(
            round=round_id)]
    _position, prev, record = found.records[0]
    problems = []
    if prev != record.audit_head:
        problems.append(_("round {round}: the close record was signed after audit entry {signed}, but follows "
                          "{found}").format(round=round_id, signed=record.audit_head[:16], found=_quoted(prev)))
    if (record.count, record.chain_head) != (state.count, state.head) or record.count != state.seen \
            or record.chain_head != state.entry:
        problems.append(_("round {round}: the close record says {count} envelopes ending at {head}; the box holds "
                          "{n} ending at {entry}").format(round=round_id, count=record.count,
                                                          head=record.chain_head[:16], n=state.seen,
                                                          entry=state.entry[:16]))
    if export.card_list is not None and record.credentials_fingerprint is not None \
            and record.credentials_fingerprint != export.card_list.fingerprint:
        problems.append(_("round {round}: the card list at the close was {signed}, not this list ({fp})").format(
            round=round_id, signed=record.credentials_fingerprint, fp=export.card_list.fingerprint))
    if record.desk_cards != len(state.desk_cards) or record.desk_cards_digest != desk_digest(state.desk_cards):
        problems.append(_("round {round}: the desk-unlock card keys are not the {n} recorded at the close").format(
            round=round_id, n=record.desk_cards))
    return problems


def _check_judges(directory: Path, export: _Export, round_id: str, state: _RoundState) -> list[str]:
    """One envelope per seat and contestant, and one more per correction the audit log records:
    exactly, against the counted score lines (ballots.jsonl) once the round is counted; before,
    at most the round's contestants plus the corrections."""
    seats = dict(state.judge_seats)
    voids: dict[int, int] = {}
    for line in export.audit or []:
        detail = line.get("detail") if isinstance(line, dict) else None
        if not isinstance(detail, dict) or detail.get("round") != round_id:
            continue
        if line.get("action") == "judge_cards_issued" and isinstance(detail.get("cards"), dict):
            for n, key in detail["cards"].items():
                try:
                    seats[b64d(key)] = int(n)
                except (Malformed, TypeError, ValueError):
                    continue
        elif line.get("action") == "score_voided" and type(detail.get("seat")) is int:
            voids[detail["seat"]] = voids.get(detail["seat"], 0) + 1
    signed: dict[int, int] = {}
    for card, n in state.judge_envelopes.items():
        if card in seats:
            signed[seats[card]] = signed.get(seats[card], 0) + n
    scored: dict[int, int] | None = None
    ballots = directory / "ballots.jsonl"
    if ballots.exists():
        scored = {}
        for _number, text in _lines(ballots):
            try:
                line = json.loads(text)
                label = line.get("judge") if line.get("round") == round_id else None
            except (json.JSONDecodeError, AttributeError):
                continue
            if isinstance(label, str) and label[:1] == "J" and label[1:].isdigit():
                scored[int(label[1:])] = scored.get(int(label[1:]), 0) + 1
    problems = []
    for seat in sorted(set(signed) | set(scored or {})):
        n, corrected = signed.get(seat, 0), voids.get(seat, 0)
        if scored is not None and n != scored.get(seat, 0) + corrected:
            problems.append(_("round {round}: seat {seat} signed {n} envelopes, but {scored} scores were counted and "
                              "{voids} corrected: one envelope per seat and contestant").format(
                round=round_id, seat=seat, n=n, scored=scored.get(seat, 0), voids=corrected))
        elif scored is None and state.contestants is not None and n > state.contestants + corrected:
            problems.append(_("round {round}: seat {seat} signed {n} envelopes, more than {contestants} contestants "
                              "and {voids} corrections: one envelope per seat and contestant").format(
                round=round_id, seat=seat, n=n, contestants=state.contestants, voids=corrected))
    return problems


def _check_record(directory: Path, export: _Export) -> list[str]:
    """The export's meeting record names the tally key of public.json, and is the record the card
    list (the scrutineers' own copy, with --credentials) was made from."""
    path = directory / "meeting-record.json"
    if not path.exists():
        return []
    try:
        record = parse_record(_read_json(str(path)))
    except Malformed:
        return [_("meeting-record.json is not a meeting record")]
    problems = []
    if record.meeting != export.meeting or record.tally_public_key != export.tally_public:
        problems.append(_("meeting-record.json names another meeting or tally key than public.json"))
    if export.card_list is not None and export.card_list.meeting_record != record.fingerprint:
        problems.append(_("the card list was made from another meeting record than the export's"))
    return problems


def _audit_problem(kind: str) -> str:
    return {
        "shape": _("not an audit log line"),
        "gap": _("the entry before it is not the one it names: a line was deleted, inserted or moved"),
        "edited": _("its entry does not match what it records: the line was edited"),
        "record": _("its record cannot be hashed"),
    }[kind]


def _load_audit(directory: Path) -> list[Any] | None:
    """audit.jsonl's lines (a line that is not JSON as None), or None when the export has none."""
    path = directory / "audit.jsonl"
    if not path.exists():
        return None
    lines: list[Any] = []
    for _number, text in _lines(path):
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            lines.append(None)
    return lines


def _check_audit(export: _Export, signed: dict[str, Any] | None) -> int:
    """Walk `audit.jsonl` when the export has one; print each problem; return how many."""
    if export.audit is None:
        click.echo(_("No audit log in the export: the close records and the log not checked"), err=True)
        return 0
    walked = audit_chain.replay(export.meeting, export.audit)
    for number, kind in walked.problems:
        click.echo(_("audit.jsonl line {line}: {problem}").format(line=number, problem=_audit_problem(kind)),
                   err=True)
    problems = len(walked.problems)
    signed_head = signed.get("audit_head") if signed else None
    if signed_head is not None and signed_head not in walked.entries and signed_head != audit_chain.genesis(export.meeting):
        problems += 1
        click.echo(_("result.signed.json: the audit log head it signs is not in audit.jsonl"), err=True)
    status = _("OK") if not problems else _("MISMATCH")
    click.echo(_("Audit log: {n} entries, head {head}: {status}").format(n=walked.count, head=walked.head, status=status))
    return problems


def _problem(text: str) -> int:
    click.echo(text, err=True)
    return 1


@main.command("verify-box")
@click.argument("export_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--credentials", "credentials_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The scrutineers' own copy of credentials.json (default: the export's copy).")
@click.pass_context
def verify_box_command(ctx: click.Context, export_dir: Path, credentials_file: Path | None) -> None:
    """Verify an exported ballot box: every signature and receipt, every card against the card
    list, each round's chain head and count against the close record the tally signed, the
    signed result, a judges' round's envelopes per seat, and the audit log."""
    export = _load_public(export_dir)
    export.audit = _load_audit(export_dir)
    problems = 0
    list_path = credentials_file or export_dir / "credentials.json"
    if list_path.exists():
        export.card_list = _load_card_list(list_path, export)
        if credentials_file is not None and (export_dir / "credentials.json").exists():
            try:
                theirs = _load_card_list(export_dir / "credentials.json", export)
            except click.ClickException:
                theirs = None
            if theirs is None or theirs.fingerprint != export.card_list.fingerprint:
                problems += _problem(_("credentials.json: the export's card list is not the scrutineers' list"))
        for desk_round, state in export.rounds.items():
            listed = export.card_list.rounds.get(desk_round, frozenset())
            if state.desk_cards & listed:
                problems += _problem(_("public.json: round {round} names cards of the card list as desk unlocks").format(
                    round=desk_round))
    seen: set[str] = set()
    for number, text in _lines(export_dir / "envelopes.jsonl"):
        problem = _check_line(export, text, seen)
        if problem is not None:
            problems += _problem(_("envelopes.jsonl line {line}: {problem}").format(line=number, problem=problem))
    click.echo(_("Meeting: {meeting}").format(meeting=export.meeting))
    click.echo(_("Tally key: {fp}").format(fp=fingerprint(export.tally_public)))
    if export.card_list is not None:
        click.echo(_("Card list: fingerprint {fp}, {n} cards").format(fp=export.card_list.fingerprint,
                                                                       n=export.card_list.cards))
    else:
        click.echo(_("No card list in the export: card membership not checked"), err=True)
    for text in _check_record(export_dir, export):
        problems += _problem(_("meeting-record.json: {problem}").format(problem=text))
    for round_id, state in export.rounds.items():
        if state.kind == "composite":
            click.echo(_("Round {round}: a composite has no ballot box of its own; it is computed from the rounds "
                         "it draws on").format(round=round_id))
            if state.seen or state.outside or state.count:
                problems += _problem(_("Round {round}: a composite takes no envelopes").format(round=round_id))
            continue
        ok = state.seen == state.count and state.entry == state.head and not state.outside
        if not ok:
            problems += 1
        status = _("OK") if ok else _("MISMATCH")
        click.echo(_("Round {round}: {seen} envelopes (expected {count}), head {head}: {status}").format(
            round=round_id, seen=state.seen, count=state.count, head=state.entry, status=status))
        if state.outside:
            click.echo(_("Round {round}: {n} envelopes outside the chain").format(round=round_id, n=state.outside),
                       err=True)
        for text in _check_close(export, round_id, state):
            problems += _problem(text)
        if state.kind == "score":
            for text in _check_judges(export_dir, export, round_id, state):
                problems += _problem(text)
        else:
            click.echo(_("Round {round}: {n} ballots by desk unlock (a card the kiosk made)").format(
                round=round_id, n=state.desk))
    signed_round, result_problems, signed = _check_result(export_dir, export)
    for text in result_problems:
        problems += _problem(_("result.signed.json: {problem}").format(problem=text))
    if signed_round is not None and not result_problems:
        click.echo(_("Signed result of round {round}: tally signature, chain head, count and audit head OK").format(
            round=signed_round))
    problems += _check_audit(export, signed)
    total = sum(state.seen for state in export.rounds.values())
    if problems:
        click.echo(_("FAILED: {n} problem(s) found.").format(n=problems), err=True)
        ctx.exit(1)
    click.echo(_("All {n} envelopes verified; every chain head matches.").format(n=total))


def _read_record(path: Path) -> MeetingRecord:
    try:
        return parse_record(_read_json(str(path)))
    except Malformed as exc:
        raise click.ClickException(_("{path} is not a meeting record (public/meeting.json)").format(path=path)) from exc


def _write_private(path: Path, data: bytes) -> None:
    """A file only its owner reads (card codes are secrets), never replacing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@main.group("cards")
def cards_group() -> None:
    """Ballot cards, made by the scrutineers on their own machine (选票卡)."""


@cards_group.command("make")
@click.option("--meeting-record", "record_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The meeting's public record (public/meeting.json of the tally's data directory).")
@click.option("--count", required=True, type=click.IntRange(1, 20000), help="How many cards.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new directory for cards.pdf, cards.txt and credentials.json.")
@click.option("--no-pdf", is_flag=True, help="Skip cards.pdf (scripted meetings and benchmarks).")
def cards_make(record_path: Path, count: int, out_dir: Path, no_pdf: bool) -> None:
    """Make COUNT ballot cards: cards.pdf to print, cards.txt (one card code per line) and
    credentials.json (the public list the tally imports)."""
    record = _read_record(record_path)
    names = ("cards.pdf", "cards.txt", "credentials.json")
    if any((out_dir / n).exists() or (out_dir / n).is_symlink() for n in names):
        raise click.ClickException(_("{path} already holds cards: use a new directory").format(path=out_dir))
    try:
        cards, doc = make_cards(record, count)
    except ValueError as exc:
        raise click.ClickException(_("this meeting has no round that takes ballot cards")) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_private(out_dir / "cards.txt", "".join(c.qr_text + "\n" for c in cards).encode("ascii"))
    if not no_pdf:
        from keys.printing import cards_sheet  # reportlab loads only when a sheet is printed

        _write_private(out_dir / "cards.pdf", cards_sheet(title=record.title, meeting=record.meeting,
                                                          list_fingerprint=doc["fingerprint"], cards=cards))
    (out_dir / "credentials.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    del cards
    click.echo(_("{n} ballot cards for meeting {meeting} in {path}").format(n=count, meeting=record.meeting,
                                                                          path=out_dir))
    click.echo(_("Card list fingerprint: {fp}").format(fp=doc["fingerprint"]))
    click.echo(_("Give credentials.json to the tally (tally cards import); print cards.pdf, then delete "
                 "cards.pdf and cards.txt."))


@cards_group.command("void")
@click.option("--meeting-record", "record_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The meeting's public record (public/meeting.json of the tally's data directory).")
@click.argument("codes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A new file for the void lines (void.txt), which the chair gives the tally.")
def cards_void(record_path: Path, codes_file: Path, out_file: Path) -> None:
    """Void left-over cards without showing the tally their codes: CODES_FILE holds the codes of
    the cards (one per line, as scanned or typed); the void lines written to --out name each
    card's public key in each round, signed by that key, and hold no card secret."""
    record = _read_record(record_path)
    cards: dict[bytes, Card] = {}
    for number, line in _lines(codes_file):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            meeting, secret = parse_card(line)
        except Malformed as exc:
            raise click.ClickException(_("line {line} is not a ballot card code; nothing was written").format(
                line=number)) from exc
        if meeting != record.meeting:
            raise click.ClickException(_("line {line} is a card of another meeting; nothing was written").format(
                line=number))
        cards[secret] = Card(meeting, secret)
    if not cards:
        raise click.ClickException(_("{path} holds no card code").format(path=codes_file))
    lines = void_lines(list(cards.values()), record.card_rounds)
    try:
        _write_private(out_file, "".join(line + "\n" for line in lines).encode("ascii"))
    except FileExistsError as exc:
        raise click.ClickException(_("{path} already exists: use a new file").format(path=out_file)) from exc
    cards.clear()
    click.echo(_("{n} cards to void: {lines} void lines in {path}").format(n=len(lines) // len(record.card_rounds),
                                                                          lines=len(lines), path=out_file))
    click.echo(_("Give this file to the chair (console: void left-over cards; or tally cards void). It holds "
                 "no card code."))


@main.group("shares")
def shares_group() -> None:
    """A scrutineer's key shares (监票人密钥分片)."""


@shares_group.command("check")
@click.option("--meeting-record", "record_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("share_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def shares_check(ctx: click.Context, record_path: Path, share_file: Path) -> None:
    """Check every share line of SHARE_FILE against the meeting record's commitments; print
    each round's check code (compare it with your printed sheet)."""
    record = _read_record(record_path)
    problems = 0
    for number, line in enumerate(share_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            share = parse_share(line)
        except Malformed:
            problems += 1
            click.echo(_("line {line}: not a share").format(line=number), err=True)
            continue
        try:
            entry = record.key_round(share.round_id)
        except KeyError:
            entry = None
        if share.meeting != record.meeting or entry is None or entry.commitments is None \
                or share.index > len(entry.commitments) \
                or commitment(share.meeting, share.round_id, share.index, share.value) != entry.commitments[share.index - 1]:
            problems += 1
            click.echo(_("line {line}: the share of scrutineer {n} for round {round} does not match").format(
                line=number, n=share.index, round=share.round_id), err=True)
            continue
        click.echo(_("Round {round}: scrutineer {n}, check code {code}: OK").format(
            round=share.round_id, n=share.index, code=share.check_code))
    click.echo(_("Meeting fingerprint: {fp}").format(fp=record.fingerprint))
    if problems:
        ctx.exit(1)


def _boxes(directory: Path, export: _Export) -> dict[str, PublishedBox]:
    """The published box of each exported round, from `receipts.json` (one box, or a list)."""
    path = directory / "receipts.json"
    doc = _read_json(str(path))
    bad = click.ClickException(_("{path} is not a published box").format(path=path))
    try:
        boxes = [parse_box(d) for d in (doc if isinstance(doc, list) else [doc])]
    except Malformed as exc:
        raise bad from exc
    if any(b.meeting != export.meeting for b in boxes):
        raise bad
    return {b.round_id: b for b in boxes}


def _exported_envelopes(directory: Path) -> dict[str, str] | None:
    """Envelope hash -> chain entry of every line of `envelopes.jsonl`, or None without one."""
    path = directory / "envelopes.jsonl"
    if not path.exists():
        return None
    out: dict[str, str] = {}
    for _number, text in _lines(path):
        try:
            line = json.loads(text)
            out[parse_envelope(line["body"]).envelope_hash] = str(line.get("entry"))
        except (json.JSONDecodeError, BadEnvelope, KeyError, TypeError):
            continue  # `keys verify-box` reports a bad line; here it just holds no receipt
    return out


@main.command("check-receipts")
@click.argument("kiosk_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("export_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def check_receipts_command(ctx: click.Context, kiosk_dir: Path, export_dir: Path) -> None:
    """Check that every receipt a kiosk holds (KIOSK_DATA_DIR) is in an exported box (EXPORT_DIR)."""
    export = _load_public(export_dir)
    boxes = _boxes(export_dir, export)
    exported = _exported_envelopes(export_dir)
    try:
        kiosk = read_kiosk(kiosk_dir)
    except (Malformed, OSError) as exc:
        raise click.ClickException(_("{path} is not a kiosk's data directory").format(path=kiosk_dir)) from exc
    if kiosk.meeting != export.meeting:
        raise click.ClickException(_("the kiosk and the export belong to different meetings"))
    if kiosk.tally_public != export.tally_public:
        raise click.ClickException(_("the kiosk was paired with another tally key than the export's"))
    click.echo(_("Kiosk: {kiosk}  Meeting: {meeting}").format(kiosk=kiosk.kiosk_id, meeting=export.meeting))
    failed = 0
    for round_id, held in sorted(by_round(kiosk.held).items()):
        box = boxes.get(round_id)
        if box is None:
            click.echo(_("Round {round}: not in this export, not checked").format(round=round_id))
            continue
        sent = [h for h in held if h.state == "sent"]
        absent = set(missing((h.code for h in sent), box))
        for h in sent:
            try:
                fields = verify_receipt(h.receipt, kiosk.tally_public, h.envelope_hash,
                                        meeting=kiosk.meeting, round_id=round_id)
            except BadReceipt:
                failed += 1
                click.echo(_("Round {round}: {code}: the receipt this kiosk holds does not verify").format(
                    round=round_id, code=h.code), err=True)
                continue
            in_export = exported is None or exported.get(h.envelope_hash) == fields["entry"]
            if h.code in absent or not in_export:
                failed += 1
                click.echo(_("MISSING: round {round} receipt {code} (envelope {hash}, chain entry {entry}): "
                             "the tally signed a receipt for it, and the box does not hold it").format(
                    round=round_id, code=h.code, hash=h.envelope_hash, entry=fields["entry"]), err=True)
        waiting = sum(1 for h in held if h.state == "pending")
        if waiting:
            click.echo(_("Round {round}: {n} envelope(s) never acknowledged by the tally").format(
                round=round_id, n=waiting), err=True)
        click.echo(_("Round {round}: {n} receipt(s) checked against the published box ({count} envelopes)").format(
            round=round_id, n=len(sent), count=box.count))
    if failed:
        click.echo(_("FAILED: {n} receipt(s) missing from the box or not verifiable.").format(n=failed), err=True)
        ctx.exit(1)
    click.echo(_("Every receipt this kiosk holds is in the box."))


if __name__ == "__main__":  # python -m keys.cli
    main()
