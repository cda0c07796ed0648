"""`tally judges …`: judge scoring from the command line (pool, draw, cards, order, next, void, show, sheets)."""
from __future__ import annotations

from pathlib import Path

import click

from tally.cli.context import print_json, to_tally
from tally.cli.remote import Remote


@click.group()
def judges() -> None:
    """Judge scoring: pool, draw, cards, order, next contestant, void, show, score sheets."""


@judges.command("pool")
@click.argument("pool_file", type=click.Path(exists=True, dir_okay=False))
@to_tally
def judges_pool(tally: Remote, pool_file: str) -> None:
    """Import the judge pool (CSV or Excel: 编号, 姓名, 类别)."""
    with open(pool_file, "rb") as f:
        out = tally.call("POST", "/api/v1/admin/judges/pool", files={"file": (Path(pool_file).name, f)})
    click.echo(f"imported {out['imported']}")


@judges.command("draw")
@click.argument("round_id")
@click.option("--seed", default=None, help="Use this seed (default: a random one, recorded).")
@to_tally
def judges_draw(tally: Remote, round_id: str, seed: str | None) -> None:
    """Draw the panel at random from the pool; prints the draw record."""
    print_json(tally.call("POST", f"/api/v1/admin/rounds/{round_id}/draw", {"seed": seed} if seed else {}))


@judges.command("cards")
@click.argument("round_id")
@click.option("--seat", "seats", multiple=True, type=int, help="Only these seats (replaces their cards).")
@to_tally
def judges_cards(tally: Remote, round_id: str, seats: tuple[int, ...]) -> None:
    """Issue judge cards; prints `seat<TAB>card code` lines (scripted contests)."""
    out = tally.call("POST", f"/api/v1/admin/rounds/{round_id}/judge-cards", {"seats": list(seats)} if seats else {})
    for c in out["cards"]:
        click.echo(f"{c['label']}\t{c['qr_text']}")


@judges.command("order")
@click.argument("round_id")
@click.argument("names", nargs=-1)
@to_tally
def judges_order(tally: Remote, round_id: str, names: tuple[str, ...]) -> None:
    """Set the speaking order (NAMES), or draw it when no names are given."""
    out = tally.call("POST", f"/api/v1/admin/rounds/{round_id}/order", {"order": list(names)} if names else {})
    click.echo(" → ".join(out["order"]))


@judges.command("next")
@click.argument("round_id")
@click.option("--contestant", default=None)
@to_tally
def judges_next(tally: Remote, round_id: str, contestant: str | None) -> None:
    """Open scoring for the next contestant in the speaking order (or the one named)."""
    out = tally.call("POST", f"/api/v1/admin/rounds/{round_id}/next", {"contestant": contestant} if contestant else {})
    click.echo(out["current"])


@judges.command("void")
@click.argument("round_id")
@click.argument("seat", type=int)
@click.option("--reason", required=True)
@to_tally
def judges_void(tally: Remote, round_id: str, seat: int, reason: str) -> None:
    """Void one seat's score for the current contestant (before 亮分); the judge enters it again."""
    tally.call("POST", f"/api/v1/admin/rounds/{round_id}/void", {"seat": seat, "reason": reason})
    click.echo(f"voided seat {seat}")


@judges.command("show")
@click.argument("round_id")
@to_tally
def judges_show(tally: Remote, round_id: str) -> None:
    """Show the current contestant's result now (needs at least 2k+1 scores)."""
    print_json(tally.call("POST", f"/api/v1/admin/rounds/{round_id}/show", {}))


@judges.command("state")
@click.argument("round_id")
@to_tally
def judges_state(tally: Remote, round_id: str) -> None:
    """Print the console's view of a score round (progress, flags, ranking)."""
    print_json(tally.call("GET", f"/api/v1/admin/rounds/{round_id}/judging"))


@judges.command("sheet")
@click.argument("round_id")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx", show_default=True)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False))
@to_tally
def judges_sheet(tally: Remote, round_id: str, fmt: str, out_file: str) -> None:
    """Save the score sheet (Excel or PDF)."""
    Path(out_file).write_bytes(tally.download(f"/api/v1/admin/rounds/{round_id}/scoresheet.{fmt}"))
    click.echo(out_file)
