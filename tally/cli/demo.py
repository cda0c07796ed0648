"""`tally demo` (what `make run` starts): a demo meeting, a tally and one local kiosk, on this machine.

It makes the data directory on first use (a random key passphrase, kept in the directory
because this is a demo), splits the round keys among three demo scrutineers (any two open a
round) into `<data>-shares/` beside the data directory, makes 30 ballot cards with the
scrutineers' own tool (`keys cards make`, into `<data>-cards/`) and imports their list, allows
desk unlocks, imports a 30-person roster and signs everyone in, pairs one kiosk agent and prints
the addresses and files to use. Ctrl-C stops everything; running it again resumes the meeting.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from tally.cli.remote import Remote, remote

HERE = Path(__file__).resolve().parent / "demo_meeting"


def _wait_up(url: str, proc: subprocess.Popen[bytes], what: str, path: str) -> None:
    import requests

    for _ in range(300):
        if proc.poll() is not None:
            raise click.ClickException(f"the {what} stopped while starting (exit {proc.returncode})")
        try:
            if requests.get(url + path, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise click.ClickException(f"the {what} did not start at {url}")


def _bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


@click.command()
@click.option("--data", "data_dir", default="var/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--kiosk-port", default=8100, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
def demo(data_dir: str, port: int, kiosk_port: int, host: str) -> None:
    """Run a demo meeting: tally + one local kiosk; prints where to look."""
    d = Path(data_dir)
    env = dict(os.environ)
    shares_dir = d.parent / f"{d.name}-shares"
    cards_dir = d.parent / f"{d.name}-cards"
    if (d / "meeting.json").exists() and not (d / "public" / "meeting.json").exists():
        raise click.ClickException(
            f"{d} was made by an older version of Scrutineer (one scrutineers' passphrase, cards made by the "
            f"tally): move it away (or `make clean`) and run the demo again / {d} 由旧版本创建，请移走后重新运行")
    if not (d / "meeting.json").exists():
        from tally.config import ConfigError
        from tally.setup.meeting import init_meeting

        try:
            init_meeting(d, HERE / "meeting.yaml", key_passphrase=secrets.token_urlsafe(24), scrutineers=3, quorum=2,
                         shares_out=shares_dir, store_key_passphrase=True)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    procs: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    def terminated(*_: object) -> None:
        stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, terminated)
    try:
        tally = subprocess.Popen([_bin("tally"), "serve", "--data", str(d), "--host", host, "--port", str(port)], env=env)
        procs.append(tally)
        base = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
        _wait_up(base, tally, "tally", "/api/v1/ballot")
        r: Remote = remote(str(d), base)
        state = r.call("GET", "/api/v1/admin/state")
        if state["attendance"]["expected"] == 0:
            with open(HERE / "roster.csv", "rb") as f:
                r.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", f)})
            r.call("POST", "/api/v1/desk/signin", {"all": True})
        cards_file = cards_dir / "cards.txt"
        if not (cards_dir / "credentials.json").exists():
            # The scrutineers' tool makes the cards; the tally only gets their public list.
            subprocess.run([_bin("keys"), "cards", "make", "--meeting-record", str(d / "public" / "meeting.json"),
                            "--count", "30", "--out", str(cards_dir)], env=env, check=True)
        if state.get("card_list") is None:
            with open(cards_dir / "credentials.json", "rb") as f:
                r.call("POST", "/api/v1/admin/cards/import", files={"file": ("credentials.json", f)})
            r.call("POST", "/api/v1/admin/settings", {"desk_unlock": True})
        judge_file = d / "demo-judge-cards.txt"
        if not judge_file.exists():
            # The roster doubles as the judge pool of the demo's interview round.
            with open(HERE / "roster.csv", "rb") as f:
                r.call("POST", "/api/v1/admin/judges/pool", files={"file": ("pool.csv", f)})
            r.call("POST", "/api/v1/admin/rounds/s1/draw", {})
            made = r.call("POST", "/api/v1/admin/rounds/s1/judge-cards", {})["cards"]
            judge_file.write_text("".join(f"{c['label']}\t{c['qr_text']}\n" for c in made))
        kdir = d / "kiosk1"
        kenv = dict(env, KIOSK_PASSPHRASE=_kiosk_passphrase(kdir))
        if not (kdir / "kiosk.json").exists():
            offer = r.call("POST", "/api/v1/admin/offers", {"count": 1, "preconfirm": True})["offers"][0]
            subprocess.run([_bin("kiosk"), "pair", offer, "--data", str(kdir), "--name", "演示平板 Demo tablet"],
                           env=kenv, check=True)
        kiosk = subprocess.Popen([_bin("kiosk"), "serve", "--data", str(kdir), "--host", "127.0.0.1",
                                  "--port", str(kiosk_port)], env=kenv)
        procs.append(kiosk)
        _wait_up(f"http://127.0.0.1:{kiosk_port}", kiosk, "kiosk", "/")
        links = r.call("GET", "/api/v1/admin/links")
        token = (d / "secrets" / "admin-token").read_text().strip()
        click.echo("\n".join([
            "",
            "Scrutineer demo is running. 演示会议已启动。",
            f"  Chair console 主持人控制台: {links['console']}",
            f"      chair token 登录口令:   {token}",
            f"  Projector 投影:             {links['projector']}",
            f"  Check-in desk 签到台:       {links['desk']}",
            f"  Kiosk 投票平板:             http://127.0.0.1:{kiosk_port}/",
            f"  Ballot cards 选票卡 (type one on the kiosk; cards.pdf to print): {cards_file}",
            f"  Judge cards 评委卡 (interview round s1): {judge_file}",
            f"  Scrutineers' shares 监票人分片 (any 2 of 3 count a round): {shares_dir}/scrutineer-1.txt … -3.txt",
            "Open a round on the console, vote on the kiosk, close, then 计票: give two scrutineers' lines for the",
            "round (scan their sheet's QR code or paste the line). Ctrl-C stops. 按 Ctrl-C 退出。",
            "For judging: open s1, press 下一位选手, type a judge card on the kiosk and score.",
            "",
        ]))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        raise click.ClickException("a demo process stopped; see the messages above")
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def _kiosk_passphrase(kdir: Path) -> str:
    kdir.mkdir(parents=True, exist_ok=True)
    f = kdir / "DEMO-kiosk-passphrase"
    if not f.exists():
        f.write_text(secrets.token_urlsafe(18))
        os.chmod(f, 0o600)
    return f.read_text().strip()
