"""A scripted meeting: everything the chair's console does, from the command line.

Each command talks to a running tally through its admin API (`@to_tally`), so a whole meeting
can be automated: pair kiosks, import the scrutineers' card list, sign in, open, close, count
with the scrutineers' share files, show, results, export.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tally.cli.context import print_json, to_tally
from tally.cli.count import Sheet, write_text
from tally.cli.remote import Remote
from tally.plan import parse_plan
from tally.rules.kinds import RoundKind


@click.group()
def kiosks() -> None:
    """Pair, confirm and revoke kiosks."""


@kiosks.command("offer")
@click.option("--count", default=1, show_default=True, type=int)
@click.option("--preconfirm", is_flag=True, help="Confirm on pairing (scripted meetings only).")
@to_tally
def kiosks_offer(tally: Remote, count: int, preconfirm: bool) -> None:
    """Print pairing offers (URLs), one per line."""
    for o in tally.call("POST", "/api/v1/admin/offers", {"count": count, "preconfirm": preconfirm})["offers"]:
        click.echo(o)


@kiosks.command("confirm")
@click.argument("kiosk_id")
@to_tally
def kiosks_confirm(tally: Remote, kiosk_id: str) -> None:
    """Confirm a kiosk after comparing its fingerprint."""
    print_json(tally.call("POST", f"/api/v1/admin/kiosks/{kiosk_id}/confirm"))


@kiosks.command("revoke")
@click.argument("kiosk_id")
@to_tally
def kiosks_revoke(tally: Remote, kiosk_id: str) -> None:
    """Revoke a lost or suspect kiosk."""
    print_json(tally.call("POST", f"/api/v1/admin/kiosks/{kiosk_id}/revoke"))


@click.group()
def cards() -> None:
    """Ballot cards: the scrutineers make them (`keys cards make`); the tally imports their list."""


@cards.command("import")
@click.argument("credentials_file", type=click.Path(exists=True, dir_okay=False))
@to_tally
def cards_import(tally: Remote, credentials_file: str) -> None:
    """Import the scrutineers' card list (credentials.json); refused once a round has opened."""
    with open(credentials_file, "rb") as f:
        out = tally.call("POST", "/api/v1/admin/cards/import", files={"file": ("credentials.json", f)})
    click.echo(f"imported {out['cards']} cards; card list fingerprint 选票卡清单指纹: {out['fingerprint']}")


@cards.command("void")
@click.argument("void_file", type=click.Path(exists=True, dir_okay=False))
@to_tally
def cards_void(tally: Remote, void_file: str) -> None:
    """Void left-over cards: VOID_FILE holds the void lines the scrutineers made from their codes
    with `keys cards void` (never the codes themselves: the tally must not see a card's code)."""
    lines = [line.strip() for line in Path(void_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise click.ClickException(f"{void_file} holds no void line")
    from keys.credentials import parse_void_line
    from keys.errors import Malformed

    for number, line in enumerate(lines, start=1):
        try:
            parse_void_line(line)
        except Malformed as exc:  # refused here, so a card's code is never sent to the tally
            raise click.ClickException(f"{void_file}: line {number} is not a void line (a card code? make void lines "
                                       "with `keys cards void` on the scrutineers' machine); nothing was sent / "
                                       f"第 {number} 行不是作废行，未发送") from exc
    out = tally.call("POST", "/api/v1/admin/cards/void", {"lines": lines})
    click.echo(f"voided {out['voided']}; already void {out['already_void']}; not this meeting's cards {out['unknown']}; "
               f"already used in a round {out['used']}")


@cards.command("desk-unlock")
@click.option("--allow/--forbid", required=True, help="May the desk unlock a kiosk for one voter?")
@to_tally
def cards_desk_unlock(tally: Remote, allow: bool) -> None:
    """Allow or forbid desk unlocks (the kiosk makes the card; the sheet counts them apart)."""
    print_json(tally.call("POST", "/api/v1/admin/settings", {"desk_unlock": allow}))


@click.group()
def checkin() -> None:
    """The roster and signing in."""


@checkin.command("import")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False))
@to_tally
def checkin_import(tally: Remote, roster: str) -> None:
    """Import the roster (CSV or Excel with 编号, 姓名 and optional 类别 columns)."""
    with open(roster, "rb") as f:
        out = tally.call("POST", "/api/v1/admin/roster", files={"file": (Path(roster).name, f)})
    click.echo(f"imported {out['imported']}")


@checkin.command("sign-in")
@click.argument("numbers", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Sign in everyone on the roster.")
@to_tally
def checkin_sign_in(tally: Remote, numbers: tuple[str, ...], everyone: bool) -> None:
    """Sign attendees in by roster number."""
    if not numbers and not everyone:
        raise click.ClickException("give roster numbers, or --all")
    body = {"all": True} if everyone else {"numbers": list(numbers)}
    out = tally.call("POST", "/api/v1/desk/signin", body)
    click.echo(f"expected {out['totals']['expected']} present {out['totals']['present']}")


@click.group("rounds")
def rounds() -> None:
    """Open, close, count and show rounds."""


def share_line(path: str, round_id: str) -> str:
    """The line of a scrutineer's share file for this round (lines are `SCRS1.<meeting>.<round>.…`)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the share file {path}") from exc
    found = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")
             and ln.strip().split(".")[2:3] == [round_id]]
    if len(found) != 1:
        raise click.ClickException(f"{path} has no share for round {round_id} / 该文件中没有轮次 {round_id} 的分片")
    return found[0]


def _round_action(tally: Remote, action: str, round_id: str, body: dict[str, Any] | None = None) -> None:
    print_json(tally.call("POST", f"/api/v1/admin/rounds/{round_id}/{action}", body or {}))


@rounds.command("open")
@click.argument("round_id")
@to_tally
def rounds_open(tally: Remote, round_id: str) -> None:
    """Open a round (takes 实到 from check-in)."""
    _round_action(tally, "open", round_id)


@rounds.command("close")
@click.argument("round_id")
@to_tally
def rounds_close(tally: Remote, round_id: str) -> None:
    """Close a round: no more ballots."""
    _round_action(tally, "close", round_id)


@rounds.command("count")
@click.argument("round_id")
@click.option("--share", "share_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A scrutineer's share file (scrutineer-<i>.txt); one per scrutineer present.")
@to_tally
def rounds_count(tally: Remote, round_id: str, share_files: tuple[str, ...]) -> None:
    """Open the ballot box of a closed round and count it, with k scrutineers' share files."""
    kinds = {r["id"]: RoundKind(r["kind"]) for r in tally.call("GET", "/api/v1/admin/state")["rounds"]}
    body: dict[str, Any] = {}
    if round_id in kinds and kinds[round_id].secret:
        if not share_files:
            raise click.ClickException("a secret round opens with the scrutineers' shares: --share FILE --share FILE …")
        body = {"shares": [share_line(f, round_id) for f in share_files]}
    _round_action(tally, "count", round_id, body)


@rounds.command("reveal")
@click.argument("round_id")
@to_tally
def rounds_reveal(tally: Remote, round_id: str) -> None:
    """Show a counted round's result on the projector."""
    _round_action(tally, "reveal", round_id)


@click.command()
@click.option("--json/--sheet", "as_json", default=True, show_default=True,
              help="The document of `tally count --json`, or a result sheet as `tally count` prints one.")
@click.option("--round", "round_ids", multiple=True,
              help="Only this round (repeatable): the document `tally count --json` (or `tally count-box`) "
                   "prints over its export, byte for byte (for a composite, name it and the rounds it draws on).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the result sheet.")
@to_tally
def results(tally: Remote, as_json: bool, round_ids: tuple[str, ...], lang: str) -> None:
    """Print the counted rounds' results: the JSON document of `tally count --json`, or a sheet."""
    doc = tally.call("GET", "/api/v1/admin/results")
    if round_ids:
        counted = {r["id"] for r in doc["rounds"]}
        missing = [r for r in round_ids if r not in counted]
        if missing:
            raise click.ClickException(f'round "{missing[0]}" has not been counted, or is not in this meeting')
        doc["rounds"] = [r for r in doc["rounds"] if r["id"] in round_ids]
    if as_json:
        # As `tally count --json` writes it: same key order (the meeting file's), same layout.
        write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    plan = parse_plan(tally.call("GET", "/api/v1/admin/meeting"), source="the tally's meeting file")
    write_text(Sheet(plan, lang).render(doc))


SHEET_FORMATS = ("pdf", "xlsx", "html")


@click.command()
@click.argument("round_id")
@click.option("--format", "fmt", type=click.Choice(SHEET_FORMATS), default="pdf", show_default=True)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the sheet.")
@to_tally
def sheet(tally: Remote, round_id: str, fmt: str, out_file: str, lang: str) -> None:
    """Save the signed result sheet (结果报告单) of a counted round of any kind: PDF, Excel or HTML.

    The same sheet as the console's buttons: the tally renders it; an HTML sheet stands alone
    (its style inside) so it opens and prints from the file."""
    query = f"?lang={lang}" + ("&file=1" if fmt == "html" else "")
    data = tally.download(f"/api/v1/admin/rounds/{round_id}/sheet.{fmt}{query}")
    Path(out_file).write_bytes(data)
    click.echo(out_file)


@click.command()
@click.argument("round_id")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@to_tally
def export(tally: Remote, round_id: str, out_dir: str) -> None:
    """Export a closed round: the sealed box, its wrapped key and commitments, the card list, the
    public keys, meeting.yaml, receipts.json (the published box) and audit.jsonl (the audit log
    chain); once counted also ballots.jsonl and the signed result. A counted composite exports
    with the rounds it draws on, so that `tally count` recomputes it."""
    for p in write_export(tally.call("GET", f"/api/v1/admin/rounds/{round_id}/export"), Path(out_dir)):
        click.echo(str(p))


@click.command()
@to_tally
def audit(tally: Remote) -> None:
    """Print the audit log (全程纪实) as JSON lines, oldest first."""
    for e in tally.call("GET", "/api/v1/admin/audit")["entries"]:
        click.echo(json.dumps(e, ensure_ascii=False, sort_keys=True))


@click.command()
@to_tally
def links(tally: Remote) -> None:
    """Print the console, projector and check-in desk links."""
    for k, v in tally.call("GET", "/api/v1/admin/links").items():
        click.echo(f"{k}: {v}")


@click.command()
@to_tally
def state(tally: Remote) -> None:
    """Print the console's state: attendance, rounds, kiosks, cards."""
    print_json(tally.call("GET", "/api/v1/admin/state"))


def write_export(doc: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(doc["files"].items()):
        if "/" in name or name.startswith("."):
            raise click.ClickException(f"the tally sent an unexpected file name {name!r}")
        p = out / name
        p.write_text(text, encoding="utf-8")
        written.append(p)
    return written


COMMANDS = (kiosks, cards, checkin, rounds, results, sheet, export, audit, links, state)
