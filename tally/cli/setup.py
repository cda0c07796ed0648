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
@on_data_dir
def init(data_dir: str, meeting_file: str, database_url: str | None, store_key_passphrase: bool) -> None:
    """Make a data directory for a meeting: secrets, keys, database, plan."""
    from tally.config import ConfigError
    from tally.plan import PlanError
    from tally.setup.meeting import init_meeting

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


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (the hall LAN address in a hall)."
)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=1, show_default=True, type=int, help="More than one needs PostgreSQL and TALLY_MESSAGE_QUEUE."
)
@click.option("--public-url", default=None, help="The address kiosks use, if not http://HOST:PORT.")
@on_data_dir
def serve(data_dir: str, host: str, port: int, workers: int, public_url: str | None) -> None:
    """Serve the tally (gunicorn, gevent worker)."""
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
    upgrade(cfg["DATABASE_URL"])  # bring an older data directory's schema up to date before serving
    url = public_url or f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    (d / "server.json").write_text(json.dumps({"url": url}))
    from tally.server import serve as run  # gunicorn's gevent worker patches the standard library: import last

    click.echo(f"tally serving {d} on http://{host}:{port}", err=True)
    run(str(d), host, port, workers)
