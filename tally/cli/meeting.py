"""A scripted meeting: everything the chair's console does, from the command line.

Each command talks to a running tally through its admin API (`@to_tally`), so a whole meeting
can be automated: pair kiosks, print cards, sign in, open, close, count, show, results, export.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tally.cli.context import print_json, secret, to_tally
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
    """Ballot cards."""


@cards.command("issue")
@click.option("--count", required=True, type=int)
@to_tally
def cards_issue(tally: Remote, count: int) -> None:
    """Make COUNT cards already handed out and print their codes, one per line (scripted meetings)."""
    for c in tally.call("POST", "/api/v1/admin/cards", {"count": count, "issued": True})["cards"]:
        click.echo(c)


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


def _round_action(tally: Remote, action: str, round_id: str, body: dict[str, str] | None = None) -> None:
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
@to_tally
def rounds_count(tally: Remote, round_id: str) -> None:
    """Open the ballot box of a closed round and count it."""
    kinds = {r["id"]: RoundKind(r["kind"]) for r in tally.call("GET", "/api/v1/admin/state")["rounds"]}
    body = {}
    if round_id in kinds and kinds[round_id].secret:
        body = {"passphrase": secret("TALLY_SCRUTINEER_PASSPHRASE", "Scrutineers' passphrase")}
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
              help="Only this round (repeatable): the document `tally count --json` prints over its export, "
                   "byte for byte (for a composite, name it and the rounds it draws on).")
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
            raise click.ClickException(f'round "{missing[0]}" is not counted, or not in this meeting')
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
    """Export a counted round: meeting.yaml, ballots.jsonl, envelopes.jsonl, public.json.

    A composite exports with the rounds it draws on, so that `tally count` recomputes it."""
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
    files = {"meeting.yaml": doc["meeting_yaml"], "ballots.jsonl": doc["ballots_jsonl"],
             "envelopes.jsonl": doc["envelopes_jsonl"], "public.json": doc["public_json"],
             "result.signed.json": json.dumps(doc["result_signed"], ensure_ascii=False, indent=2, sort_keys=True)}
    written = []
    for name, text in files.items():
        p = out / name
        p.write_text(text, encoding="utf-8")
        written.append(p)
    return written


COMMANDS = (kiosks, cards, checkin, rounds, results, sheet, export, audit, links, state)
