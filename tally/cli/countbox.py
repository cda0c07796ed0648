"""`tally count-box`: the scrutineers count an exported round without the tally (离线开箱计票).

On any machine, offline, over a directory written by `tally export`: k scrutineers' share
files rebuild the round key (a wrong or damaged share is named, fewer than k refused), the
chain of the sealed box is recomputed and must end at the head and count in `public.json`,
every envelope's card must be on the scrutineers' card list (the export's `credentials.json`,
or their own copy given with `--credentials`, which must have the same fingerprint) or be one
the export names as a desk unlock, and be used once; every envelope is verified and opened with
the same function as the live count (`tally.box.opening`), and the rules engine counts.
`--json` prints the same document as `tally results --json --round ROUND` on the tally; what
was checked (the list's fingerprint, the ballots by desk unlock) goes to stderr. Needs neither
the tally, nor its database, nor the network.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tally.cli.count import Sheet, write_text
from tally.cli.meeting import share_line


def _read(directory: Path, name: str) -> Any:
    path = directory / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"{path} is missing or not JSON: is this a `tally export` directory?") from exc


def _card_list(directory: Path, meeting: str, own: Path | None) -> Any:
    """The scrutineers' card list: their own copy (which must be the export's list, by
    fingerprint) or the export's; None when neither exists."""
    from keys.credentials import parse_credentials
    from keys.errors import Malformed

    found = []
    for path in ([directory / "credentials.json"] if (directory / "credentials.json").exists() else []) + \
            ([own] if own is not None else []):
        try:
            card_list = parse_credentials(_read(path.parent, path.name))
        except Malformed as exc:
            raise click.ClickException(f"{path} is not a valid ballot card list / 不是有效的选票卡清单") from exc
        if card_list.meeting != meeting:
            raise click.ClickException(f"{path} is the card list of another meeting / 是另一次会议的选票卡清单")
        found.append(card_list)
    if len(found) == 2 and found[0].fingerprint != found[1].fingerprint:
        raise click.ClickException("credentials.json: the export's card list is not the scrutineers' card list "
                                   "(another fingerprint) / 导出的选票卡清单与监票人的清单不符")
    return found[-1] if found else None


def _check_cards(bodies: list[dict[str, Any]], round_id: str, card_list: Any, public: dict[str, Any]) -> int:
    """Every envelope's card is on the list for this round or a desk unlock the export names, and
    is used once; the number of ballots by desk unlock."""
    from keys.canonical import b64d
    from keys.envelope import parse_envelope
    from keys.errors import Malformed

    listed = card_list.rounds.get(round_id, frozenset()) if card_list is not None else frozenset()
    try:
        named = public.get("desk_cards", {}).get(round_id, [])
        desk = {b64d(k) for k in named if isinstance(k, str)}
        if not isinstance(named, list) or len(desk) != len(named) or any(len(k) != 32 for k in desk):
            raise Malformed("desk_cards")
    except (AttributeError, Malformed) as exc:
        raise click.ClickException("public.json: desk_cards cannot be read / 无法读取签到台解锁的选票卡") from exc
    if desk & listed:
        raise click.ClickException(f"public.json: round {round_id} names cards of the card list as desk unlocks / "
                                   "把清单中的选票卡说成签到台解锁")
    seen: set[bytes] = set()
    by_desk = 0
    for number, body in enumerate(bodies, start=1):
        card = parse_envelope(body).card_public
        if card in seen:
            raise click.ClickException(f"envelopes.jsonl line {number}: card used twice in this round / "
                                       "同一张选票卡在本轮次使用了两次")
        seen.add(card)
        if card in desk:
            by_desk += 1
        elif card not in listed:
            raise click.ClickException(f"envelopes.jsonl line {number}: card is not in the scrutineers' card list "
                                       "/ 选票卡不在监票人的选票卡清单中")
    return by_desk


def _envelopes(directory: Path, meeting: str, round_id: str, head: str, count: int) -> list[dict[str, Any]]:
    """The box's envelope bodies in chain order, after checking the chain ends at `head` with `count`."""
    from keys.chain import genesis, next_entry
    from keys.envelope import parse_envelope
    from keys.errors import KeysError

    entry, bodies = genesis(meeting, round_id), []
    try:
        lines = (directory / "envelopes.jsonl").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{directory / 'envelopes.jsonl'} cannot be read") from exc
    for number, text in enumerate(lines, start=1):
        try:
            line = json.loads(text)
            body = line["body"]
            entry = next_entry(entry, parse_envelope(body).envelope_hash)
        except (ValueError, KeyError, TypeError, KeysError) as exc:
            raise click.ClickException(f"envelopes.jsonl line {number} cannot be read: the box is damaged") from exc
        if line.get("round") != round_id or line.get("entry") != entry:
            raise click.ClickException(f"envelopes.jsonl line {number} does not follow the chain: the box was altered")
        bodies.append(body)
    if entry != head or len(bodies) != count:
        raise click.ClickException(f"the box ends at {entry} with {len(bodies)} envelopes, but public.json says "
                                   f"{head} with {count}: the box was altered / 票箱与公布的指纹不符")
    return bodies


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
    from keys.errors import Malformed, NotEnoughShares, ShareError
    from keys.shares import open_round_key, parse_custody, valid_shares
    from tally.box.opening import count_ballots, open_box, stored_result
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
        if public["meeting"] != meeting:
            raise ValueError("meeting")
    except (KeyError, TypeError, ValueError, Malformed) as exc:
        raise click.ClickException(f"{export_dir / 'public.json'} does not describe round {round_id}") from exc
    bodies = _envelopes(export_dir, meeting, round_id, entry["head"], entry["count"])
    card_list = _card_list(export_dir, meeting, credentials_file)
    by_desk = _check_cards(bodies, round_id, card_list, public)
    try:
        plan = load_plan(export_dir / "meeting.yaml")
    except PlanError as exc:
        raise click.ClickException(str(exc)) from exc
    ballots = open_box(plan, round_id, key, [(b, kiosks.get(json.loads(b64d(b["envelope"]))["kiosk"]))
                                             for b in bodies])
    del key
    result = json.loads(stored_result(count_ballots(plan, round_id, ballots, None)))
    doc = {"meeting": {"title": plan.title}, "rounds": [result]}
    if card_list is not None:
        click.echo(f"card list 选票卡清单: fingerprint {card_list.fingerprint}, {card_list.cards} cards: every card "
                   f"checked / 每张选票卡均已核对", err=True)
    else:
        click.echo("no card list: only desk unlocks are accepted / 没有选票卡清单：只接受签到台解锁", err=True)
    click.echo(f"round {round_id}: {by_desk} ballot(s) by desk unlock / 签到台解锁投票 {by_desk} 张", err=True)
    if as_json:
        # As `tally count --json` and `tally results --json` write it, byte for byte.
        write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        write_text(Sheet(plan, lang).render(doc))
