"""`tally count-box`: the scrutineers count an exported round without the tally (离线开箱计票).

On any machine, offline, over a directory written by `tally export`: k scrutineers' share
files rebuild the round key (a wrong or damaged share is named, fewer than k refused). The box
is held against the close record the tally signed when the round closed (in `audit.jsonl`),
exactly as the live count holds it (`tally.box.checking`): the chain recomputed from its genesis
must end at the recorded head with the recorded count and nothing outside it; `public.json`
must agree; the card list (the export's `credentials.json`, or the scrutineers' own copy given
with `--credentials`, which must then be the export's list too) must be the one recorded at the
close, the desk-unlock keys `public.json` names the ones recorded, and every card listed (or a
desk unlock) and used once; every envelope's signatures must verify and it must open
(`tally.box.opening`). Any problem exits 1 with the live count's own words (`box_tampered`),
Chinese first, and nothing is counted. Then the rules engine counts. `--json` prints the same
document as `tally results --json --round ROUND` on the tally; what was checked (the list's
fingerprint, the ballots by desk unlock) goes to stderr. Needs neither the tally, nor its
database, nor the network.
"""
from __future__ import annotations

import gettext
import json
from pathlib import Path
from typing import IO, Any

import click

from tally.cli.count import Sheet, write_text
from tally.cli.meeting import share_line

CATALOG_DIR = Path(__file__).resolve().parents[1] / "translations"


def _read(directory: Path, name: str) -> Any:
    path = directory / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"{path} is missing or not JSON: is this a `tally export` directory?") from exc


def _jsonl(path: Path) -> list[Any]:
    """Each line parsed, or its raw text when it is not JSON (the box check names it)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path} cannot be read") from exc
    out: list[Any] = []
    for text in lines:
        try:
            out.append(json.loads(text))
        except ValueError:
            out.append(text)
    return out


class Refused(click.ClickException):
    """`box_tampered`: the headline and each problem, in Chinese then in English, as text."""

    def __init__(self, round_id: str, details: tuple[tuple[str, dict[str, object]], ...]) -> None:
        from tally.box.checking import HEADLINE

        super().__init__(HEADLINE % {"round": round_id})
        self.round_id = round_id
        self.details = details

    def show(self, file: IO[Any] | None = None) -> None:
        from tally.box.checking import HEADLINE
        from tally.rules.names import escaped

        zh = gettext.translation("messages", localedir=CATALOG_DIR, languages=["zh"], fallback=True)
        for msgid, params in ((HEADLINE, {"round": self.round_id}), *self.details):
            click.echo(escaped(zh.gettext(msgid) % params), err=True)
            click.echo("  " + escaped(msgid % params), err=True)
        click.echo("[box_tampered]", err=True)


def _stored(lines: list[Any], meeting: str, round_id: str) -> list[Any]:
    """The export's lines of this round as the box check reads rows (`prev` defaults to the line
    before's `entry`, as an export written before lines carried it)."""
    from keys.chain import genesis
    from tally.box.checking import Stored

    out: list[Any] = []
    before: Any = genesis(meeting, round_id)
    for line in lines:
        if not isinstance(line, dict):
            out.append(Stored(body=line, prev=before, entry=None, receipt=None))
            continue
        if line.get("round") != round_id:
            continue
        out.append(Stored(body=line.get("body"), prev=line.get("prev", before), entry=line.get("entry"),
                          receipt=line.get("receipt")))
        before = line.get("entry")
    return out


def _card_list(path: Path, meeting: str, round_id: str) -> tuple[str | None, str | None, frozenset[bytes]]:
    """The fingerprint a card list's contents give (whatever it states: a list rebuilt from card
    rows someone added to is exported as it is, and held to the close record), the meeting record
    it names, and its keys for the round; nothing when there is no list."""
    from keys.canonical import b64d
    from keys.credentials import list_fingerprint
    from keys.errors import Malformed
    from keys.fingerprint import normalize

    if not path.exists():
        return None, None, frozenset()
    doc = _read(path.parent, path.name)
    try:
        fp = list_fingerprint(doc)
        keys = frozenset(b64d(k) for k in doc["rounds"][round_id])
        record = normalize(doc["meeting_record"])
        other = doc["meeting"] != meeting
    except (Malformed, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise click.ClickException(f"{path} is not a valid ballot card list / 不是有效的选票卡清单") from exc
    if other:
        raise click.ClickException(f"{path} is the card list of another meeting / 是另一次会议的选票卡清单")
    return fp, record, keys


def _desk_cards(public: dict[str, Any], round_id: str) -> list[bytes]:
    """The keys `public.json` names as this round's desk unlocks (cards kiosks made)."""
    from keys.canonical import b64d
    from keys.errors import Malformed

    try:
        named = public.get("desk_cards", {}).get(round_id, [])
        desk = [b64d(k) for k in named if isinstance(k, str)]
        if not isinstance(named, list) or len(set(desk)) != len(named) or any(len(k) != 32 for k in desk):
            raise Malformed("desk_cards")
    except (AttributeError, Malformed) as exc:
        raise click.ClickException("public.json: desk_cards cannot be read / 无法读取签到台解锁的选票卡") from exc
    return desk


def _record(directory: Path) -> Any:
    from keys.errors import Malformed
    from keys.record import parse_record

    try:
        return parse_record(_read(directory, "meeting-record.json"))
    except Malformed as exc:
        raise click.ClickException(f"{directory / 'meeting-record.json'} is not a meeting record") from exc


@click.command("count-box")
@click.argument("export_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--share", "share_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A scrutineer's share file (scrutineer-<i>.txt); one per scrutineer present.")
@click.option("--credentials", "credentials_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The scrutineers' own copy of credentials.json (default: the export's copy).")
@click.option("--json/--sheet", "as_json", default=False, show_default=True,
              help="The document of `tally results --json` for this round, or a result sheet.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the result sheet.")
def count_box(export_dir: Path, share_files: tuple[str, ...], credentials_file: Path | None, as_json: bool,
              lang: str) -> None:
    """Open and count an exported round (EXPORT_DIR) with the scrutineers' share files, offline."""
    from keys.canonical import b64d
    from keys.closing import find_close
    from keys.errors import Malformed, NotEnoughShares, ShareError
    from keys.shares import open_round_key, parse_custody, valid_shares
    from tally.box import checking
    from tally.box.opening import OpenContext, count_ballots, open_box, readable, stored_result
    from tally.plan import PlanError, load_plan

    try:
        meeting, custody = parse_custody(_read(export_dir, "key.json"))
    except Malformed as exc:
        raise click.ClickException(f"{export_dir / 'key.json'} is not a round key") from exc
    round_id = custody.round_id
    if not share_files:
        raise click.ClickException("give the scrutineers' share files: --share FILE --share FILE …")
    try:
        key = open_round_key(meeting, custody, valid_shares(meeting, custody,
                                                            [share_line(f, round_id) for f in share_files]))
    except NotEnoughShares as exc:
        raise click.ClickException(
            f"round {round_id} opens with {exc.need} scrutineers' shares; {exc.have} valid given: "
            f"{exc.need - exc.have} more needed / 还需要 {exc.need - exc.have} 位监票人的分片") from exc
    except ShareError as exc:
        who = f"scrutineer {exc.scrutineer}" if exc.scrutineer is not None else "a share"
        raise click.ClickException(f"the share of {who} for round {round_id} is not usable ({exc.reason}) / "
                                   f"监票人 {exc.scrutineer or '?'} 的分片不符") from exc
    public = _read(export_dir, "public.json")
    try:
        entry = public["rounds"][round_id]
        kiosks = {k: b64d(v) for k, v in public["kiosks"].items()}
        tally_public = b64d(public["tally_public_key"])
        count, head = entry["count"], entry["head"]
        if public["meeting"] != meeting or type(count) is not int or not isinstance(head, str):
            raise ValueError("meeting")
    except (KeyError, TypeError, ValueError, AttributeError, Malformed) as exc:
        raise click.ClickException(f"{export_dir / 'public.json'} does not describe round {round_id}") from exc
    desk = _desk_cards(public, round_id)
    try:
        plan = load_plan(export_dir / "meeting.yaml")
    except PlanError as exc:
        raise click.ClickException(str(exc)) from exc

    # The same checks as the live count, in the same order, with the same words.
    audit_lines = _jsonl(export_dir / "audit.jsonl") if (export_dir / "audit.jsonl").exists() else []
    found = find_close(audit_lines, meeting, round_id, tally_public)
    record, problems = checking.close_problems(found, round_id, count=count, head=head,
                                               present=getattr(plan.round(round_id), "present", None))
    if record is None:
        raise Refused(round_id, checking.ordered(problems))
    exported = _card_list(export_dir / "credentials.json", meeting, round_id)
    fingerprint, list_record, listed = (_card_list(credentials_file, meeting, round_id) if credentials_file is not None
                                        else exported)
    if credentials_file is not None and exported[0] is not None and exported[0] != fingerprint:
        problems.append((checking.N_("The export's ballot card list (fingerprint %(found)s) is not the scrutineers' "
                                     "card list (%(theirs)s)."), {"found": exported[0], "theirs": fingerprint}))
    if set(desk) & listed:
        problems.append((checking.N_("public.json names cards of the ballot card list as desk unlocks of round "
                                     "%(round)s."), {"round": round_id}))
    problems += checking.card_list_problems(record, fingerprint, desk)
    if (export_dir / "meeting-record.json").exists():
        meeting_record = _record(export_dir)
        problems += checking.tally_key_problems(list_record, meeting_record.fingerprint,
                                                meeting_record.tally_public_key, tally_public)
    placed, walked = checking.walk(meeting, round_id, _stored(_jsonl(export_dir / "envelopes.jsonl"), meeting,
                                                               round_id), record)
    if walked:
        walked += checking.receipt_problems(placed, tally_public, meeting, round_id)
    problems += walked
    problems += checking.card_use_problems(placed, listed, frozenset(desk))
    try:
        ballots = open_box(OpenContext(meeting=meeting, round_id=round_id, tally_public=tally_public,
                                       kiosks=kiosks, key=key), placed, problems)
    except checking.BoxTampered as exc:
        raise Refused(round_id, exc.details) from exc
    finally:
        del key
    ballots = [readable(plan, round_id, b) for b in ballots]
    result = json.loads(stored_result(count_ballots(plan, round_id, ballots, None)))
    doc = {"meeting": {"title": plan.title}, "rounds": [result]}
    by_desk = sum(1 for item in placed if item.header.card_public in set(desk))
    if fingerprint is not None:
        click.echo(f"card list 选票卡清单: fingerprint {fingerprint}: every card checked / 每张选票卡均已核对", err=True)
    else:
        click.echo("no card list: only desk unlocks are accepted / 没有选票卡清单：只接受签到台解锁", err=True)
    click.echo(f"round {round_id}: {by_desk} ballot(s) by desk unlock / 签到台解锁投票 {by_desk} 张", err=True)
    if as_json:
        # As `tally count --json` and `tally results --json` write it, byte for byte.
        write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        write_text(Sheet(plan, lang).render(doc))
