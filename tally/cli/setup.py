"""`tally init` and `tally serve`: make a meeting's data directory, and serve it.

The heavy imports (the database, the server) happen inside the commands, so that `tally count`
and `--help` start without loading them. The key passphrase is typed on the terminal or read
from a file its holder brings (`--key-passphrase-file`); `TALLY_KEY_PASSPHRASE` is for
scripted meetings and tests only.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from tally.cli.context import on_data_dir, passphrase_from_file, secret


@click.command()
@click.option("--meeting", "meeting_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--scrutineers", required=True, type=int, help="How many scrutineers (监票人) hold a share of each round key.")
@click.option("--quorum", required=True, type=int, help="How many of them together open a round (at least 2).")
@click.option("--shares-out", "shares_out", required=True, type=click.Path(file_okay=False),
              help="A new directory, outside the data directory, for each scrutineer's share file and sheet.")
@click.option("--spare-keys", default=3, show_default=True, type=int,
              help="Spare round keys, split now, for rounds added during the meeting.")
@click.option("--key-passphrase-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Read the tally key's passphrase from this file (else it is asked for).")
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
def init(data_dir: str, meeting_file: str, scrutineers: int, quorum: int, shares_out: str, spare_keys: int,
         key_passphrase_file: str | None, database_url: str | None, store_key_passphrase: bool,
         tls_names: tuple[str, ...]) -> None:
    """Make a data directory for a meeting: secrets, keys (split among the scrutineers), database, plan."""
    from tally.config import ConfigError
    from tally.plan import PlanError
    from tally.setup.meeting import check_custody, check_shares_dir, init_meeting

    try:  # refuse a bad set-up before asking for anything
        check_custody(scrutineers, quorum, spare_keys)
        check_shares_dir(Path(data_dir), Path(shares_out))
        if tls_names:
            from tally.setup.tls import check_names

            check_names(list(tls_names))  # refused before the data directory is made
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    key_pass = (passphrase_from_file(key_passphrase_file) if key_passphrase_file else
                secret("TALLY_KEY_PASSPHRASE", "Passphrase for the tally's signing key (at least 12 characters) "
                       "/ 签名密钥口令（至少 12 个字符）"))
    try:
        done = init_meeting(Path(data_dir), Path(meeting_file), key_passphrase=key_pass, scrutineers=scrutineers,
                            quorum=quorum, shares_out=Path(shares_out), spare_keys=spare_keys,
                            database_url=database_url, store_key_passphrase=store_key_passphrase)
    except (ConfigError, PlanError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"meeting {done.meeting_id} ready in {data_dir}")
    click.echo(f"meeting fingerprint 会议指纹: {done.record_fingerprint}")
    click.echo(f"public meeting record 公开记录: {Path(data_dir) / 'public' / 'meeting.json'}")
    click.echo(f"scrutineers' shares 监票人分片 ({quorum} of {scrutineers}): {Path(shares_out)}")
    click.echo("  print each scrutineer-<i>.pdf and hand it (and scrutineer-<i>.txt) to scrutineer i; "
               "then delete them from this machine / 打印后交给各监票人，并从本机删除")
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
@click.option("--key-passphrase-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Read the tally key's passphrase from this file (else it is asked for).")
@on_data_dir
def serve(data_dir: str, host: str, port: int, workers: int, public_url: str | None, use_tls: bool,
          key_passphrase_file: str | None) -> None:
    """Serve the tally (gunicorn, gevent worker); plain HTTP unless --tls."""
    from tally.config import ConfigError, Secret, load_config
    from tally.setup.meeting import key_passphrase, load_identity
    from tally.store.db import upgrade

    d = Path(data_dir)
    try:
        cfg = load_config(d)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if key_passphrase_file:
        passphrase = passphrase_from_file(key_passphrase_file)
    else:
        try:
            passphrase = key_passphrase(d, dict(os.environ))
        except ConfigError:
            passphrase = secret("TALLY_KEY_PASSPHRASE", "Passphrase for the tally's signing key / 签名密钥口令",
                                confirm=False)
    try:
        load_identity(d, passphrase)  # a wrong passphrase stops here, before the server starts
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
    run(str(d), host, port, workers, public_url=public_url, tls=use_tls, passphrase=Secret(passphrase))
