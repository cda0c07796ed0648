"""The scrutineers' side of the `keys` command line: cards they make, shares they check, and
`keys verify-box` holding the tally to the scrutineers' card list.

The attack of the issue: a tally with write access deleted a 不同意 envelope, minted a card
and cast an 同意, recomputed the chain. With the card list made by the scrutineers, the minted
card is not on it and `keys verify-box` refuses the box.
"""
from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from keys.canonical import b64e
from keys.cards import new_card, parse_card
from keys.chain import genesis
from keys.credentials import make_cards, parse_credentials
from keys.errors import Malformed
from keys.identity import Identity
from keys.record import parse_record, spare_id
from keys.sealing import RoundKey
from keys.shares import split_round_key

from .test_cli import MEETING, Export, run


def record_doc(rounds: dict[str, RoundKey], spares: int = 1) -> tuple[dict[str, Any], list[Any]]:
    """A meeting record as `tally init` writes one, and the shares it would hand out."""
    shares, entries = [], []
    for rid, key in rounds.items():
        custody, made = split_round_key(MEETING, rid, key, quorum=2, scrutineers=3)
        shares += made
        entries.append({"id": rid, "kind": "recommend", "title": f"轮次{rid}", "cards": True,
                        "public_key": b64e(key.public_bytes()), "commitments": list(custody.commitments)})
    spare_list = []
    for n in range(1, spares + 1):
        custody, made = split_round_key(MEETING, spare_id(n), RoundKey.generate(), quorum=2, scrutineers=3)
        shares += made
        spare_list.append({"id": custody.round_id, "public_key": b64e(custody.public_key),
                           "commitments": list(custody.commitments)})
    doc = {"v": 1, "type": "meeting-record", "meeting": MEETING, "title": "测试会议",
           "tally_public_key": b64e(Identity.generate().public_bytes()), "scrutineers": 3, "quorum": 2,
           "rounds": entries, "spares": spare_list}
    return doc, shares


def test_keys_cards_make_writes_the_sheet_the_codes_and_the_public_list(tmp_path: Path) -> None:
    doc, _ = record_doc({"r1": RoundKey.generate(), "d1": RoundKey.generate()})
    (tmp_path / "meeting.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "cards"
    result = run("cards", "make", "--meeting-record", str(tmp_path / "meeting.json"), "--count", "5", "--out", str(out))
    assert result.exit_code == 0, result.output
    codes = (out / "cards.txt").read_text().split()
    listed = parse_credentials(json.loads((out / "credentials.json").read_text()))
    assert len(codes) == 5 and listed.cards == 5 and listed.fingerprint in result.output
    assert listed.meeting_record == parse_record(doc).fingerprint
    assert set(listed.rounds) == {"r1", "d1", "spare-1"}
    for code in codes:
        meeting, secret = parse_card(code)
        from keys.cards import card_key

        for rid in listed.rounds:
            assert card_key(secret, meeting, rid).public_bytes() in listed.rounds[rid]
    # The codes are secrets: only the scrutineers' account reads them; the list is public.
    assert stat.S_IMODE((out / "cards.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "cards.pdf").stat().st_mode) == 0o600
    text = (out / "credentials.json").read_text()
    assert not any(code.split(".")[-1] in text for code in codes)
    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", str(out / "cards.pdf"), "-"], capture_output=True, text=True).stdout
        from keys.cards import Card

        assert all(Card(*parse_card(c)).check_code in pdf for c in codes) and "选票卡" in pdf and "测试会议" in pdf
        # Each card prints its number (what the kiosk's scan screen asks a voter to type when the
        # QR code cannot be read), and that printed text, spaces and all, opens the card.
        flat = " ".join(pdf.split())
        from keys.cards import printed_number

        for c in codes:
            number = printed_number(c)
            assert " ".join(number.split()) in flat and parse_card(number) == parse_card(c)
    # Never over an earlier batch; never from something that is not a meeting record.
    again = run("cards", "make", "--meeting-record", str(tmp_path / "meeting.json"), "--count", "5", "--out", str(out))
    assert again.exit_code == 1 and "already holds cards" in again.output
    (tmp_path / "bad.json").write_text('{"v": 1}')
    bad = run("cards", "make", "--meeting-record", str(tmp_path / "bad.json"), "--count", "5", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 1 and "not a meeting record" in bad.output and not (tmp_path / "x").exists()


@pytest.mark.parametrize("field, value", [("meeting", 1.5), ("v", 1.0), ("meeting_record", "\ud800"),
                                          ("meeting", "\udc00")])
def test_a_card_list_or_record_without_canonical_bytes_is_malformed_not_a_crash(tmp_path: Path, field: str,
                                                                                value: Any) -> None:
    """A fraction or a lone surrogate where the fingerprint is computed: `Malformed` (the tally's
    400 `bad_card_list`, the tool's one-line error), never a TypeError or ValueError (a 500 at
    `POST /api/v1/admin/cards/import`, a traceback in `keys verify-box` or `keys cards make`)."""
    doc, _ = record_doc({"r1": RoundKey.generate()})
    _cards, listed = make_cards(parse_record(doc), 2)
    with pytest.raises(Malformed):
        parse_credentials({**listed, field: value})
    bad_record = {**doc, "title": "\ud800"} if isinstance(value, str) else {**doc, "v": 1.0}
    with pytest.raises(Malformed):
        parse_record(bad_record)
    (tmp_path / "meeting.json").write_text(json.dumps(bad_record), encoding="utf-8")
    result = run("cards", "make", "--meeting-record", str(tmp_path / "meeting.json"), "--count", "2",
                 "--out", str(tmp_path / "cards"), "--no-pdf")
    assert result.exit_code == 1 and "not a meeting record" in result.output, result.output
    assert not (tmp_path / "cards").exists()


def test_keys_shares_check_finds_a_damaged_line(tmp_path: Path) -> None:
    doc, shares = record_doc({"r1": RoundKey.generate()})
    (tmp_path / "meeting.json").write_text(json.dumps(doc), encoding="utf-8")
    mine = [s for s in shares if s.index == 2]
    good = tmp_path / "scrutineer-2.txt"
    good.write_text("# comment\n" + "\n".join(s.text for s in mine) + "\n")
    result = run("shares", "check", "--meeting-record", str(tmp_path / "meeting.json"), str(good))
    assert result.exit_code == 0, result.output
    assert f"Round r1: scrutineer 2, check code {mine[0].check_code}: OK" in result.output
    bad = tmp_path / "bad.txt"
    line = mine[0].text
    bad.write_text(line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:] + "\n")
    result = run("shares", "check", "--meeting-record", str(tmp_path / "meeting.json"), str(bad))
    assert result.exit_code == 1 and "the share of scrutineer 2 for round r1 does not match" in result.output


class ListedExport(Export):
    """The export of `test_cli`, with cards made by the scrutineers' tool and their list."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        doc, _ = record_doc({r: k for r, k in self.round_keys.items()}, spares=0)
        self.cards, self.list_doc = make_cards(parse_record(doc), 3)
        self.lines = []
        for round_id, count in (("r1", 3), ("r2", 2)):
            for index in range(count):
                kiosk_id = "kiosk-a" if index % 2 == 0 else "kiosk-b"
                self.lines.append({"round": round_id, "body": self.seal(round_id, kiosk_id, self.cards[index]).body})
        self.rechain()

    def write(self) -> Path:
        super().write()
        (self.directory / "credentials.json").write_text(json.dumps(self.list_doc), encoding="utf-8")
        return self.directory


@pytest.fixture
def listed(tmp_path: Path) -> ListedExport:
    return ListedExport(tmp_path)


def test_verify_box_checks_every_card_against_the_list(listed: ListedExport) -> None:
    result = run("verify-box", str(listed.write()))
    assert result.exit_code == 0, result.output
    assert f"Card list: fingerprint {listed.list_doc['fingerprint']}, 3 cards" in result.output
    assert "Round r1: 0 ballots by desk unlock" in result.output


def test_a_minted_card_is_refused_even_with_a_recomputed_chain(listed: ListedExport) -> None:
    """The attack of the issue: drop an envelope, mint a card, cast, recompute chain and heads."""
    del listed.lines[1]
    listed.lines.insert(1, {"round": "r1", "body": listed.seal("r1", "kiosk-b", new_card(MEETING)).body})
    listed.rechain()
    result = run("verify-box", str(listed.write()))
    assert result.exit_code == 1
    assert "line 2: card is not in the scrutineers' card list" in result.output


def test_a_card_used_twice_in_a_round_is_refused(listed: ListedExport) -> None:
    listed.lines.append({"round": "r2", "body": listed.seal("r2", "kiosk-a", listed.cards[0]).body})
    listed.rechain()
    result = run("verify-box", str(listed.write()))
    assert result.exit_code == 1 and "line 6: card used twice in this round" in result.output


def test_desk_unlock_ballots_are_counted_apart_and_only_off_the_list(listed: ListedExport) -> None:
    kiosk_made = new_card(MEETING)
    listed.lines.append({"round": "r1", "body": listed.seal("r1", "kiosk-a", kiosk_made).body})
    listed.rechain()
    listed.public["desk_cards"] = {"r1": [b64e(kiosk_made.public_for("r1"))]}
    result = run("verify-box", str(listed.write()))
    assert result.exit_code == 0, result.output
    assert "Round r1: 1 ballots by desk unlock" in result.output and "Round r2: 0 ballots by desk unlock" in result.output
    # A tally that calls a listed card a desk unlock is caught.
    listed.public["desk_cards"] = {"r1": [b64e(listed.cards[0].public_for("r1"))]}
    result = run("verify-box", str(listed.write()))
    assert result.exit_code == 1 and "names cards of the card list as desk unlocks" in result.output


def test_the_scrutineers_own_copy_of_the_list_wins(listed: ListedExport, tmp_path: Path) -> None:
    """A tally that swaps the exported list for one holding its minted card is caught by the
    scrutineers' own copy (`--credentials`)."""
    theirs = tmp_path / "theirs.json"
    theirs.write_text(json.dumps(listed.list_doc), encoding="utf-8")
    minted = new_card(MEETING)
    listed.lines.append({"round": "r1", "body": listed.seal("r1", "kiosk-a", minted).body})
    listed.rechain()
    from keys.canonical import b64d
    from keys.credentials import list_document

    ours = listed.list_doc
    rounds = {r: [b64d(k) for k in keys] for r, keys in ours["rounds"].items()}
    rounds["r1"] = [*rounds["r1"][1:], minted.public_for("r1")]  # one listed card swapped for the minted one
    listed.list_doc = list_document(MEETING, ours["meeting_record"], ours["cards"], rounds)
    result = run("verify-box", str(listed.write()), "--credentials", str(theirs))
    assert result.exit_code == 1
    assert "the export's card list is not the scrutineers' list" in result.output
    assert "card is not in the scrutineers' card list" in result.output


def test_a_judge_round_takes_one_envelope_per_contestant_from_each_seat(tmp_path: Path) -> None:
    export = Export(tmp_path)
    judge = new_card(MEETING)
    export.lines = [{"round": "r3", "body": export.seal("r3", "kiosk-a", judge).body} for _ in range(3)]
    export.rechain()
    export.public["rounds"]["r3"]["kind"] = "score"
    export.public["judge_cards"] = {"r3": [b64e(judge.public_for("r3"))]}
    result = run("verify-box", str(export.write()))
    assert result.exit_code == 0, result.output
    export.public["judge_cards"] = {"r3": [b64e(new_card(MEETING).public_for("r3"))]}
    result = run("verify-box", str(export.write()))
    assert result.exit_code == 1 and "not one of this round's judge cards" in result.output
    # Seat 4's card signed three envelopes: fine for three contestants, one too many for two
    # (no correction recorded); once counted, exactly its score lines plus its corrections.
    export.public["judge_cards"] = {"r3": [b64e(judge.public_for("r3"))]}
    export.public["judge_seats"] = {"r3": {"4": b64e(judge.public_for("r3"))}}
    export.public["rounds"]["r3"]["contestants"] = 3
    assert run("verify-box", str(export.write())).exit_code == 0
    export.public["rounds"]["r3"]["contestants"] = 2
    result = run("verify-box", str(export.write()))
    assert result.exit_code == 1
    assert ("round r3: seat 4 signed 3 envelopes, more than 2 contestants and 0 corrections: one envelope per seat "
            "and contestant") in result.output
    lines = [{"round": "r3", "judge": "J04", "contestant": c, "score": "80"} for c in ("甲", "乙")]
    (tmp_path / "ballots.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    result = run("verify-box", str(export.write()))
    assert "seat 4 signed 3 envelopes, but 2 scores were counted and 0 corrected" in result.output
    from keys.audit import next_entry as audit_next

    export.audit = export.audit_log()
    void = {"at": "2026-12-01T10:00:00.000000Z", "actor": "chair", "action": "score_voided",
            "detail": {"round": "r3", "contestant": "甲", "seat": 4, "version": 1, "reason": "按错键"}}
    export.audit.append({**void, "prev": export.audit[-1]["entry"], "entry": audit_next(export.audit[-1]["entry"], void)})
    assert run("verify-box", str(export.write())).exit_code == 0  # two scores and one correction: three


def test_keys_cards_void_writes_signed_lines_that_hold_no_card_code(tmp_path: Path) -> None:
    """Left-over cards become void lines on the scrutineers' machine: each card's key in each
    round, signed by it, each round's lines in key order; no line holds a code. A code that
    cannot be read, or of another meeting, writes nothing."""
    from keys.credentials import parse_void_line, verify_void

    doc, _ = record_doc({"r1": RoundKey.generate(), "d1": RoundKey.generate()})
    (tmp_path / "meeting.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    cards, _listed = make_cards(parse_record(doc), 3)
    codes = tmp_path / "left.txt"
    codes.write_text("# left over\n" + "".join(c.qr_text.lower() + "\n\n" for c in cards))
    result = run("cards", "void", "--meeting-record", str(tmp_path / "meeting.json"), str(codes),
                 "--out", str(tmp_path / "void.txt"))
    assert result.exit_code == 0, result.output
    assert "3 cards to void: 9 void lines" in result.output
    lines = (tmp_path / "void.txt").read_text().split()
    parsed = [parse_void_line(x) for x in lines]
    for line in parsed:
        verify_void(line)
    assert [p.round_id for p in parsed] == ["r1"] * 3 + ["d1"] * 3 + ["spare-1"] * 3
    for rid in ("r1", "d1", "spare-1"):
        keys = [p.card for p in parsed if p.round_id == rid]
        assert keys == sorted(keys) and set(keys) == {c.public_for(rid) for c in cards}
    text = (tmp_path / "void.txt").read_text()
    assert not any(c.qr_text.split(".")[-1] in text for c in cards)
    again = run("cards", "void", "--meeting-record", str(tmp_path / "meeting.json"), str(codes),
                "--out", str(tmp_path / "void.txt"))
    assert again.exit_code == 1 and "already exists" in again.output
    for bad, said in [(cards[0].qr_text + "\nSCR1.nonsense\n", "line 2 is not a ballot card code"),
                      (new_card("fedcba9876543210").qr_text + "\n", "line 1 is a card of another meeting")]:
        codes.write_text(bad)
        refused = run("cards", "void", "--meeting-record", str(tmp_path / "meeting.json"), str(codes),
                      "--out", str(tmp_path / "never.txt"))
        assert refused.exit_code == 1 and said in refused.output, refused.output
        assert not (tmp_path / "never.txt").exists()


def test_keys_cards_make_never_writes_card_codes_through_a_link(tmp_path: Path) -> None:
    """Someone places a dangling link `cards.txt -> a file they can read` in the scrutineers'
    output directory: the codes are never written through it (O_EXCL), and the tool says so in
    one line instead of a traceback."""
    doc, _ = record_doc({"r1": RoundKey.generate()})
    (tmp_path / "meeting.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "cards"
    out.mkdir()
    (out / "cards.txt").symlink_to(tmp_path / "where-they-read.txt")
    result = run("cards", "make", "--meeting-record", str(tmp_path / "meeting.json"), "--count", "2", "--out",
                 str(out), "--no-pdf")
    assert result.exit_code == 1 and "already holds cards" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "where-they-read.txt").exists() and not (out / "credentials.json").exists()


def test_a_composite_has_no_box_of_its_own(tmp_path: Path) -> None:
    export = Export(tmp_path)
    export.public["rounds"]["c1"] = {"head": genesis(MEETING, "c1"), "count": 0, "kind": "composite"}
    result = run("verify-box", str(export.write()))
    assert result.exit_code == 0, result.output
    assert "Round c1: a composite has no ballot box of its own; it is computed from the rounds it draws on" in result.output
