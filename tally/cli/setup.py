"""`tally init` and `tally serve`: make a meeting's data directory, and serve it.

The heavy imports (the database, the server) happen inside the commands, so that `tally count`
and `--help` start without loading them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from tally.cli.context import on_data_dir, secret


@click.command()
@click.option("--meeting", "meeting_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--database-url",
    default=None,
    envvar="TALLY_DATABASE_URL",
    help="PostgreSQL URL (default: SQLite in the data directory).",
)
@click.option(
    "--store-key-passphrase", is_flag=True, help="Keep the key passphrase in the data directory (demos only)."
)
@click.option("--tls-name", "tls_names", multiple=True, metavar="ADDRESS",
              help="Make a TLS certificate for this hall address (IP or host name; repeat for several) "
                   "for `tally serve --tls`.")
@on_data_dir
def init(data_dir: str, meeting_file: str, database_url: str | None, store_key_passphrase: bool,
         tls_names: tuple[str, ...]) -> None:
    """Make a data directory for a meeting: secrets, keys, database, plan."""
    from tally.config import ConfigError
    from tally.plan import PlanError
    from tally.setup.meeting import init_meeting

    if tls_names:
        from tally.setup.tls import check_names

        try:
            check_names(list(tls_names))  # refused before the data directory is made
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    key_pass = secret("TALLY_KEY_PASSPHRASE", "Passphrase for the tally's signing key")
    scrutineer = secret("TALLY_SCRUTINEER_PASSPHRASE", "Scrutineers' passphrase (opens the ballot boxes)")
    try:
        meeting_id = init_meeting(
            Path(data_dir),
            Path(meeting_file),
            key_passphrase=key_pass,
            scrutineer_passphrase=scrutineer,
            database_url=database_url,
            store_key_passphrase=store_key_passphrase,
        )
    except (ConfigError, PlanError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"meeting {meeting_id} ready in {data_dir}")
    click.echo(f"chair token: {Path(data_dir) / 'secrets' / 'admin-token'}")
    if tls_names:
        _make_tls(Path(data_dir), list(tls_names))


def _make_tls(data_dir: Path, names: list[str]) -> None:
    from datetime import UTC, datetime

    from tally.config import ConfigError
    from tally.setup.tls import make_certificate, shown

    try:
        fp = make_certificate(data_dir, names, now=datetime.now(UTC).replace(tzinfo=None))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"TLS certificate for {', '.join(names)} (and 127.0.0.1, localhost): serve with `tally serve --tls`")
    click.echo(f"TLS certificate fingerprint (SHA-256): {shown(fp)}")


@click.command()
@click.option("--name", "names", multiple=True, required=True, metavar="ADDRESS",
              help="A hall address of the tally (IP or host name); repeat for several.")
@on_data_dir
def tls(data_dir: str, names: tuple[str, ...]) -> None:
    """Make (or replace) the tally's TLS certificate; kiosks paired before must be paired again."""
    if not (Path(data_dir) / "meeting.json").exists():
        raise click.ClickException(f"{data_dir} holds no meeting: run `tally init` first")
    _make_tls(Path(data_dir), list(names))


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (the hall LAN address in a hall)."
)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=1, show_default=True, type=int, help="More than one needs PostgreSQL and TALLY_MESSAGE_QUEUE."
)
@click.option("--public-url", default=None, help="The address kiosks use, if not http(s)://HOST:PORT.")
@click.option("--tls", "use_tls", is_flag=True,
              help="Serve HTTPS with the certificate made by `tally init --tls-name` (or `tally tls`).")
@on_data_dir
def serve(data_dir: str, host: str, port: int, workers: int, public_url: str | None, use_tls: bool) -> None:
    """Serve the tally (gunicorn, gevent worker); plain HTTP unless --tls."""
    from tally.config import ConfigError, load_config
    from tally.setup.meeting import key_passphrase
    from tally.store.db import upgrade

    d = Path(data_dir)
    try:
        cfg = load_config(d)
        key_passphrase(d, dict(os.environ))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if workers > 1 and (cfg["DATABASE_URL"].startswith("sqlite") or not cfg["MESSAGE_QUEUE"]):
        raise click.ClickException(
            "several workers need PostgreSQL (TALLY_DATABASE_URL) and Redis (TALLY_MESSAGE_QUEUE)"
        )
    fp = None
    if use_tls:
        from tally.setup.tls import load_fingerprint, shown

        try:
            fp = load_fingerprint(d)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    scheme = "https" if use_tls else "http"
    if public_url is not None and not public_url.startswith(f"{scheme}://"):
        raise click.ClickException(f"--public-url must start with {scheme}://")
    upgrade(cfg["DATABASE_URL"])  # bring an older data directory's schema up to date before serving
    url = public_url or f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    (d / "server.json").write_text(json.dumps({"url": url}))
    from tally.server import serve as run  # gunicorn's gevent worker patches the standard library: import last

    click.echo(f"tally serving {d} on {scheme}://{host}:{port}", err=True)
    if fp:
        click.echo(f"TLS certificate fingerprint (SHA-256): {shown(fp)}", err=True)
    elif host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("plain HTTP on the network: the chair's session and the projector and desk links travel in "
                   "clear; serve with --tls (see `tally init --tls-name`) unless the LAN is the meeting's own", err=True)
    run(str(d), host, port, workers, public_url=public_url, tls=use_tls)
