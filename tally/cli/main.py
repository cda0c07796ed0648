"""The `tally` command line: one click group; meeting set-up, serving, and a scripted meeting.

Everything the console does can be driven from here over the tally's admin API, so a whole
meeting can be automated: init, serve, pair kiosks, print cards, sign in, open, close, count,
show, results, export. User errors are `click.ClickException`: one line, non-zero exit.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from tally.cli.remote import remote
from tally.rules.kinds import RoundKind

DATA = click.option("--data", "data_dir", type=click.Path(file_okay=False), envvar="TALLY_DATA",
                    help="The meeting's data directory.")
URL = click.option("--url", default=None, help="The tally's address (default: from the data directory).")


def _secret(env_name: str, prompt: str) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.ClickException(f"set {env_name} (no terminal to ask on)")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _print_json(doc: object) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=1))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Scrutineer tally server: count, serve and run a meeting."""


@main.command()
@DATA
@click.option("--meeting", "meeting_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--database-url", default=None, envvar="TALLY_DATABASE_URL", help="PostgreSQL URL (default: SQLite in the data directory).")
@click.option("--store-key-passphrase", is_flag=True, help="Keep the key passphrase in the data directory (demos only).")
def init(data_dir: str | None, meeting_file: str, database_url: str | None, store_key_passphrase: bool) -> None:
    """Make a data directory for a meeting: secrets, keys, database, plan."""
    from tally.config import ConfigError
    from tally.setup.meeting import init_meeting
    from tally.plan import PlanError

    if not data_dir:
        raise click.ClickException("say where: --data DIR")
    key_pass = _secret("TALLY_KEY_PASSPHRASE", "Passphrase for the tally's signing key")
    scrutineer = _secret("TALLY_SCRUTINEER_PASSPHRASE", "Scrutineers' passphrase (opens the ballot boxes)")
    try:
        meeting_id = init_meeting(Path(data_dir), Path(meeting_file), key_passphrase=key_pass,
                                  scrutineer_passphrase=scrutineer, database_url=database_url,
                                  store_key_passphrase=store_key_passphrase)
    except (ConfigError, PlanError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"meeting {meeting_id} ready in {data_dir}")
    click.echo(f"chair token: {Path(data_dir) / 'secrets' / 'admin-token'}")


@main.command()
@DATA
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (the hall LAN address in a hall).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="More than one needs PostgreSQL and TALLY_MESSAGE_QUEUE.")
@click.option("--public-url", default=None, help="The address kiosks use, if not http://HOST:PORT.")
def serve(data_dir: str | None, host: str, port: int, workers: int, public_url: str | None) -> None:
    """Serve the tally (gunicorn, gevent worker)."""
    from tally.config import ConfigError, load_config
    from tally.setup.meeting import key_passphrase

    if not data_dir:
        raise click.ClickException("say which meeting: --data DIR")
    d = Path(data_dir)
    try:
        cfg = load_config(d)
        key_passphrase(d, dict(os.environ))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if workers > 1 and (cfg["DATABASE_URL"].startswith("sqlite") or not cfg["MESSAGE_QUEUE"]):
        raise click.ClickException("several workers need PostgreSQL (TALLY_DATABASE_URL) and Redis (TALLY_MESSAGE_QUEUE)")
    from tally.store.db import upgrade

    upgrade(cfg["DATABASE_URL"])  # bring an older data directory's schema up to date before serving
    url = public_url or f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    (d / "server.json").write_text(json.dumps({"url": url}))
    from tally.server import serve as run

    click.echo(f"tally serving {d} on http://{host}:{port}", err=True)
    run(str(d), host, port, workers)


@main.group()
def kiosks() -> None:
    """Pair, confirm and revoke kiosks."""


@kiosks.command("offer")
@DATA
@URL
@click.option("--count", default=1, show_default=True, type=int)
@click.option("--preconfirm", is_flag=True, help="Confirm on pairing (scripted meetings only).")
def kiosks_offer(data_dir: str | None, url: str | None, count: int, preconfirm: bool) -> None:
    """Print pairing offers (URLs), one per line."""
    out = remote(data_dir, url).call("POST", "/api/v1/admin/offers", {"count": count, "preconfirm": preconfirm})
    for o in out["offers"]:
        click.echo(o)


@kiosks.command("confirm")
@DATA
@URL
@click.argument("kiosk_id")
def kiosks_confirm(data_dir: str | None, url: str | None, kiosk_id: str) -> None:
    """Confirm a kiosk after comparing its fingerprint."""
    _print_json(remote(data_dir, url).call("POST", f"/api/v1/admin/kiosks/{kiosk_id}/confirm"))


@kiosks.command("revoke")
@DATA
@URL
@click.argument("kiosk_id")
def kiosks_revoke(data_dir: str | None, url: str | None, kiosk_id: str) -> None:
    """Revoke a lost or suspect kiosk."""
    _print_json(remote(data_dir, url).call("POST", f"/api/v1/admin/kiosks/{kiosk_id}/revoke"))


@main.group()
def cards() -> None:
    """Ballot cards."""


@cards.command("issue")
@DATA
@URL
@click.option("--count", required=True, type=int)
def cards_issue(data_dir: str | None, url: str | None, count: int) -> None:
    """Make COUNT cards already handed out and print their codes, one per line (scripted meetings)."""
    out = remote(data_dir, url).call("POST", "/api/v1/admin/cards", {"count": count, "issued": True})
    for c in out["cards"]:
        click.echo(c)


@main.group()
def checkin() -> None:
    """The roster and signing in."""


@checkin.command("import")
@DATA
@URL
@click.argument("roster", type=click.Path(exists=True, dir_okay=False))
def checkin_import(data_dir: str | None, url: str | None, roster: str) -> None:
    """Import the roster (CSV or Excel with 编号, 姓名 and optional 类别 columns)."""
    with open(roster, "rb") as f:
        out = remote(data_dir, url).call("POST", "/api/v1/admin/roster", files={"file": (Path(roster).name, f)})
    click.echo(f"imported {out['imported']}")


@checkin.command("sign-in")
@DATA
@URL
@click.argument("numbers", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Sign in everyone on the roster.")
def checkin_sign_in(data_dir: str | None, url: str | None, numbers: tuple[str, ...], everyone: bool) -> None:
    """Sign attendees in by roster number."""
    if not numbers and not everyone:
        raise click.ClickException("give roster numbers, or --all")
    body = {"all": True} if everyone else {"numbers": list(numbers)}
    out = remote(data_dir, url).call("POST", "/api/v1/desk/signin", body)
    click.echo(f"expected {out['totals']['expected']} present {out['totals']['present']}")


@main.group("rounds")
def rounds_group() -> None:
    """Open, close, count and show rounds."""


def _round_action(action: str):  # type: ignore[no-untyped-def]
    @rounds_group.command(action)
    @DATA
    @URL
    @click.argument("round_id")
    def cmd(data_dir: str | None, url: str | None, round_id: str) -> None:
        body = {}
        if action == "count":
            state = remote(data_dir, url).call("GET", "/api/v1/admin/state")
            kinds = {r["id"]: RoundKind(r["kind"]) for r in state["rounds"]}
            if round_id in kinds and kinds[round_id].secret:
                body = {"passphrase": _secret("TALLY_SCRUTINEER_PASSPHRASE", "Scrutineers' passphrase")}
        _print_json(remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/{action}", body))

    cmd.__doc__ = {"open": "Open a round (takes 实到 from check-in).", "close": "Close a round: no more ballots.",
                   "count": "Open the ballot box of a closed round and count it.",
                   "reveal": "Show a counted round's result on the projector."}[action]
    return cmd


for _action in ("open", "close", "count", "reveal"):
    _round_action(_action)


@main.command()
@DATA
@URL
@click.option("--json", "as_json", is_flag=True, help="The document of `tally count --json` (the default).")
def results(data_dir: str | None, url: str | None, as_json: bool) -> None:
    """Print the counted rounds' results in the shape of `tally count --json`."""
    _print_json(remote(data_dir, url).call("GET", "/api/v1/admin/results"))


@main.command()
@DATA
@URL
@click.argument("round_id")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def export(data_dir: str | None, url: str | None, round_id: str, out_dir: str) -> None:
    """Export a counted round: meeting.yaml, ballots.jsonl, envelopes.jsonl, public.json."""
    from tally.box.export import write_export

    doc = remote(data_dir, url).call("GET", f"/api/v1/admin/rounds/{round_id}/export")
    for p in write_export(doc, Path(out_dir)):
        click.echo(str(p))


@main.command()
@DATA
@URL
def audit(data_dir: str | None, url: str | None) -> None:
    """Print the audit log (全程纪实) as JSON lines, oldest first."""
    for e in remote(data_dir, url).call("GET", "/api/v1/admin/audit")["entries"]:
        click.echo(json.dumps(e, ensure_ascii=False, sort_keys=True))


@main.command()
@DATA
@URL
def links(data_dir: str | None, url: str | None) -> None:
    """Print the console, projector and check-in desk links."""
    for k, v in remote(data_dir, url).call("GET", "/api/v1/admin/links").items():
        click.echo(f"{k}: {v}")


@main.group()
def judges() -> None:
    """Judge scoring: pool, draw, cards, order, next contestant, void, show, score sheets."""


@judges.command("pool")
@DATA
@URL
@click.argument("pool_file", type=click.Path(exists=True, dir_okay=False))
def judges_pool(data_dir: str | None, url: str | None, pool_file: str) -> None:
    """Import the judge pool (CSV or Excel: 编号, 姓名, 类别)."""
    with open(pool_file, "rb") as f:
        out = remote(data_dir, url).call("POST", "/api/v1/admin/judges/pool", files={"file": (Path(pool_file).name, f)})
    click.echo(f"imported {out['imported']}")


@judges.command("draw")
@DATA
@URL
@click.argument("round_id")
@click.option("--seed", default=None, help="Use this seed (default: a random one, recorded).")
def judges_draw(data_dir: str | None, url: str | None, round_id: str, seed: str | None) -> None:
    """Draw the panel at random from the pool; prints the draw record."""
    _print_json(remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/draw", {"seed": seed} if seed else {}))


@judges.command("cards")
@DATA
@URL
@click.argument("round_id")
@click.option("--seat", "seats", multiple=True, type=int, help="Only these seats (replaces their cards).")
def judges_cards(data_dir: str | None, url: str | None, round_id: str, seats: tuple[int, ...]) -> None:
    """Issue judge cards; prints `seat<TAB>card code` lines (scripted contests)."""
    out = remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/judge-cards",
                                     {"seats": list(seats)} if seats else {})
    for c in out["cards"]:
        click.echo(f"{c['label']}\t{c['qr_text']}")


@judges.command("order")
@DATA
@URL
@click.argument("round_id")
@click.argument("names", nargs=-1)
def judges_order(data_dir: str | None, url: str | None, round_id: str, names: tuple[str, ...]) -> None:
    """Set the speaking order (NAMES), or draw it when no names are given."""
    out = remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/order", {"order": list(names)} if names else {})
    click.echo(" → ".join(out["order"]))


@judges.command("next")
@DATA
@URL
@click.argument("round_id")
@click.option("--contestant", default=None)
def judges_next(data_dir: str | None, url: str | None, round_id: str, contestant: str | None) -> None:
    """Open scoring for the next contestant in the speaking order (or the one named)."""
    out = remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/next",
                                     {"contestant": contestant} if contestant else {})
    click.echo(out["current"])


@judges.command("void")
@DATA
@URL
@click.argument("round_id")
@click.argument("seat", type=int)
@click.option("--reason", required=True)
def judges_void(data_dir: str | None, url: str | None, round_id: str, seat: int, reason: str) -> None:
    """Void one seat's score for the current contestant (before 亮分); the judge enters it again."""
    remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/void", {"seat": seat, "reason": reason})
    click.echo(f"voided seat {seat}")


@judges.command("show")
@DATA
@URL
@click.argument("round_id")
def judges_show(data_dir: str | None, url: str | None, round_id: str) -> None:
    """Show the current contestant's result now (needs at least 2k+1 scores)."""
    _print_json(remote(data_dir, url).call("POST", f"/api/v1/admin/rounds/{round_id}/show", {}))


@judges.command("state")
@DATA
@URL
@click.argument("round_id")
def judges_state(data_dir: str | None, url: str | None, round_id: str) -> None:
    """Print the console's view of a score round (progress, flags, ranking)."""
    _print_json(remote(data_dir, url).call("GET", f"/api/v1/admin/rounds/{round_id}/judging"))


@judges.command("sheet")
@DATA
@URL
@click.argument("round_id")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx", show_default=True)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False))
def judges_sheet(data_dir: str | None, url: str | None, round_id: str, fmt: str, out_file: str) -> None:
    """Save the score sheet (Excel or PDF)."""
    r = remote(data_dir, url)
    resp = r.http.get(f"{r.url}/api/v1/admin/rounds/{round_id}/scoresheet.{fmt}", timeout=60)
    if resp.status_code != 200:
        raise click.ClickException(resp.json().get("error", {}).get("message", "refused"))
    Path(out_file).write_bytes(resp.content)
    click.echo(out_file)


@main.command()
@DATA
@URL
def state(data_dir: str | None, url: str | None) -> None:
    """Print the console's state: attendance, rounds, kiosks, cards."""
    _print_json(remote(data_dir, url).call("GET", "/api/v1/admin/state"))


def _register() -> None:
    from tally.cli.count import count
    from tally.cli.demo import demo

    main.add_command(count)
    main.add_command(demo)


_register()
