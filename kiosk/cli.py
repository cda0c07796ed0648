"""The `kiosk` command line: pair a kiosk, serve its screens, or simulate many kiosks.

User errors are `click.ClickException` (one line, exit 1). Nothing here prints a card secret or
a passphrase; `pair` prints the kiosk's fingerprint for the chair to compare on the console.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import sys
from pathlib import Path

import click

from keys.errors import KeyStoreError
from kiosk.config import PASSPHRASE_ENV, ConfigError, Paths, load_pairing, passphrase_from

_PASSFILE = click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
                         help=f"File holding the key passphrase (else ${PASSPHRASE_ENV}, else a prompt).")
_DATA = click.option("--data", "data", required=True, type=click.Path(file_okay=False, path_type=Path),
                     help="The kiosk's data directory.")


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> str:
    try:
        value = passphrase_from(os.environ, passphrase_file)
    except (OSError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    if value is None:
        if not sys.stdin.isatty():
            raise click.ClickException(
                f"a passphrase is required: set {PASSPHRASE_ENV} or use --passphrase-file (no terminal to ask on)")
        value = click.prompt("Passphrase for the kiosk's key", hide_input=True,
                             confirmation_prompt=confirm, default="", show_default=False)
    if not value:
        raise click.ClickException(
            f"a passphrase is required (set {PASSPHRASE_ENV}, use --passphrase-file, or type one)")
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Scrutineer kiosk agent: runs beside each voting tablet."""
    os.umask(0o077)  # the data directory, the key, the outbox and its WAL: this kiosk's only
    # No core file (the soft limit a crash obeys): it would hold the key and a card's secret.
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("offer")
@_DATA
@click.option("--name", default="", help="A name for this kiosk shown on the console (e.g. 'Hall A 3').")
@_PASSFILE
def pair(offer: str, data: Path, name: str, passphrase_file: Path | None) -> None:
    """Pair this kiosk with the tally from a pairing offer URL (scrutineer-pair:?u=…&c=…&f=…)."""
    from kiosk.pairing import PairingFailed
    from kiosk.pairing import pair as do_pair

    secret = _passphrase(passphrase_file, confirm=True)
    try:
        paired = do_pair(offer, Paths(data), name, secret)
    except (PairingFailed, KeyStoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    p = paired.pairing
    click.echo(f"paired as kiosk {p.kiosk_id} for meeting {p.meeting} ({paired.status})")
    click.echo("kiosk fingerprint (the chair compares it on the console):")
    click.echo(f"  {paired.kiosk_fingerprint}")


@main.command()
@_DATA
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the tablet's browser connects to.")
@click.option("--port", default=8100, show_default=True, type=click.IntRange(1, 65535))
@click.option("--receipt-seconds", default=8, show_default=True, type=click.IntRange(2, 120),
              help="How long the receipt screen stays before it clears itself.")
@click.option("--heartbeat-seconds", default=5.0, show_default=True, type=click.FloatRange(1, 60))
@click.option("--box-check-seconds", default=15.0, show_default=True, type=click.FloatRange(1, 3600),
              help="How often to check this kiosk's receipts against each closed round's published box.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Another name or address the tablet's browser uses for this kiosk (the Host header); "
                   "loopback names and --host are always allowed.")
@_PASSFILE
def serve(data: Path, host: str, port: int, receipt_seconds: int, heartbeat_seconds: float,
          box_check_seconds: float, allow_hosts: tuple[str, ...], passphrase_file: Path | None) -> None:
    """Serve the voter screens for the tablet's browser (gunicorn), with the sender and heartbeat."""
    from kiosk.agent import Agent
    from kiosk.pairing import load_identity
    from kiosk.server import serve as run_server

    paths = Paths(data)
    try:
        pairing = load_pairing(paths)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    secret = _passphrase(passphrase_file, confirm=False)
    try:
        identity = load_identity(paths, secret)
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    del secret
    click.echo(f"kiosk {pairing.kiosk_id}: open http://{host}:{port}/ full screen on the tablet; "
               f"staff status at /status")
    run_server(lambda: Agent(paths, pairing, identity, heartbeat_seconds=heartbeat_seconds,
                             receipt_seconds=receipt_seconds, box_check_seconds=box_check_seconds),
               host, port, allow_hosts)


@main.command()
@click.option("--offers", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Pairing offer URLs, one per line (one simulated kiosk each).")
@click.option("--cards", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Card QR texts (SCR1.…), one per line (needed for ballot lines).")
@click.option("--judge-cards", "judge_cards", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="`tally judges cards` output: seat label, tab, card code (needed for score lines).")
@click.option("--ballots", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ballot file (JSON Lines, CONTRACT.md); judges' score lines may be among them.")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=None,
              help="Threads sealing ballots (default: one per kiosk).")
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep each simulated kiosk's outbox here (default: a temporary directory).")
@click.option("--timeout", type=click.FloatRange(1), default=300.0, show_default=True,
              help="Seconds to wait for every answer (per contestant for score lines).")
@click.option("--open-timeout", "open_timeout", type=click.FloatRange(1), default=600.0, show_default=True,
              help="Seconds to wait for the chair to open each contestant (score lines).")
def simulate(offers: Path, cards: Path | None, judge_cards: Path | None, ballots: Path, concurrency: int | None,
             data: Path | None, timeout: float, open_timeout: float) -> None:
    """Pair one simulated kiosk per offer and cast a ballot file over HTTP; print a JSON summary.

    Judges' score lines are played contestant by contestant: each contestant's seats score
    together once the chair has opened that contestant (`tally judges next`)."""
    from kiosk.pairing import PairingFailed
    from kiosk.simulate import SimulationError, read_ballots, read_lines
    from kiosk.simulate_judges import is_score_line, read_judge_cards, simulate_file

    logging.getLogger("kiosk").setLevel(logging.ERROR)
    try:
        lines = read_ballots(ballots)
        if cards is None and any(not is_score_line(ln) for ln in lines):
            raise SimulationError("the ballot file has ballot lines: give --cards")
        summary = simulate_file(read_lines(offers), read_lines(cards) if cards else [],
                                read_judge_cards(judge_cards) if judge_cards else {}, lines,
                                concurrency=concurrency, data_dir=data, timeout=timeout, open_timeout=open_timeout)
    except (SimulationError, PairingFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
