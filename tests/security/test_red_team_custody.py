"""Red team of key custody (issue 9): the operator of the tally, a holder of its database or an
export, one scrutineer or k − 1 of them, and a stranger on the LAN, against the scrutineers'
shares, the card list, the count without the tally and the keys at rest.

Each test is an attack that worked against the code before its fix (docs/security.md names
each one); where an attack is out of reach by design, docs/security.md says so plainly.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, update

from keys.canonical import b64d, b64e
from keys.cards import new_card
from keys.chain import next_entry
from keys.credentials import list_document
from keys.envelope import parse_envelope
from tally.services import services
from tally.store.models import Card
from tests.browser import wait_js
from tests.e2e.conftest import Fleet
from tests.harness import run_cli
from tests.security.conftest import ARTIFACTS
from tests.tally.conftest import issue_cards, load_forms, pair_kiosk, setup_meeting, shares_dir

D1 = "d1"


def error(resp: Any) -> tuple[int, str]:
    return resp.status_code, resp.get_json()["error"]["code"]


def keys_cli(*args: str) -> Any:
    from keys.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def spellings(secret: bytes) -> list[bytes]:
    """Every way a secret could travel or rest: raw, hex, base64 (both alphabets), base32."""
    b32 = base64.b32encode(secret).decode().rstrip("=")
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), b64e(secret).encode(),
            base64.b64encode(secret).rstrip(b"="), b32.encode(), b32.lower().encode()]


def tally_cli(*args: str) -> Any:
    from tally.cli.main import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def share_files(meeting_dir: Path, who: tuple[int, ...] = (1, 2)) -> list[str]:
    out = []
    for i in who:
        out += ["--share", str(shares_dir(meeting_dir) / f"scrutineer-{i}.txt")]
    return out


def vote_d1(client: Any, admin: dict[str, str], votes: list[str], *, close: bool = True) -> tuple[Any, list[Any]]:
    """A decision round with these votes (closed unless `close` is false): the kiosk and the
    cards left over."""
    setup_meeting(client, admin, open_rounds=(D1,))
    kiosk = pair_kiosk(client, admin)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin, kiosk.meeting, 6)
    for card, vote in zip(cards, votes, strict=False):
        resp = client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": D1, "votes": {"王五": vote}}))
        assert resp.status_code == 201, resp.get_json()
    if close:
        assert client.post(f"/api/v1/admin/rounds/{D1}/close", json={}, headers=admin).status_code == 200
    return kiosk, cards[len(votes):]


def export_to(client: Any, admin: dict[str, str], directory: Path) -> Path:
    from tally.cli.meeting import write_export

    resp = client.get(f"/api/v1/admin/rounds/{D1}/export", headers=admin)
    assert resp.status_code == 200, resp.get_json()
    write_export(resp.get_json(), directory)
    return directory


def append_envelope(directory: Path, body: dict[str, Any]) -> int:
    """What a tally with write access does to an export: one more envelope, the chain recomputed
    and public.json's head and count moved to match. Returns the new line's number."""
    lines = [json.loads(x) for x in (directory / "envelopes.jsonl").read_text(encoding="utf-8").splitlines()]
    public = json.loads((directory / "public.json").read_text(encoding="utf-8"))
    prev = lines[-1]["entry"] if lines else public["rounds"][D1]["head"]
    entry = next_entry(prev, parse_envelope(body).envelope_hash)
    lines.append({"round": D1, "body": body, "entry": entry})
    (directory / "envelopes.jsonl").write_text("".join(json.dumps(x, sort_keys=True) + "\n" for x in lines),
                                               encoding="utf-8")
    public["rounds"][D1].update(head=entry, count=len(lines))
    (directory / "public.json").write_text(json.dumps(public, indent=2, sort_keys=True), encoding="utf-8")
    return len(lines)


def agree(stdout: str) -> tuple[int, int]:
    nominee = json.loads(stdout)["rounds"][0]["nominees"][0]
    return nominee["agree"], nominee["disagree"]


def test_count_box_refuses_a_ballot_of_a_minted_card(client, admin_headers, meeting_dir: Path, tmp_path: Path):
    """The operator adds a ballot signed by a card it made to the exported box, chain and head
    recomputed: the scrutineers' count without the tally must not count it (it counted it)."""
    kiosk, _ = vote_d1(client, admin_headers, ["agree", "disagree", "disagree"])
    honest = export_to(client, admin_headers, tmp_path / "honest")
    counted = tally_cli("count-box", str(honest), *share_files(meeting_dir), "--json")
    assert counted.exit_code == 0, counted.output
    assert agree(counted.stdout) == (1, 2)

    forged = export_to(client, admin_headers, tmp_path / "forged")
    line = append_envelope(forged, kiosk.envelope(new_card(kiosk.meeting), {"round": D1, "votes": {"王五": "agree"}}))
    result = tally_cli("count-box", str(forged), *share_files(meeting_dir), "--json")
    assert result.exit_code != 0, result.output
    assert f"Envelope {line} (receipt" in result.output and "card list" in result.output
    assert "[box_tampered]" in result.output and '"agree"' not in result.output

    # Passed off as a desk unlock (a card the kiosk made), it was counted. The close record names
    # the round's desk-unlock keys (issue 10, item 4): refused too, and said why.
    public = json.loads((forged / "public.json").read_text())
    minted = parse_envelope(json.loads((forged / "envelopes.jsonl").read_text().splitlines()[-1])["body"]).card_public
    public["desk_cards"] = {D1: [b64e(minted)]}
    (forged / "public.json").write_text(json.dumps(public))
    result = tally_cli("count-box", str(forged), *share_files(meeting_dir), "--json")
    assert result.exit_code != 0, result.output
    assert "desk-unlock card keys; the close recorded 0" in result.output and '"agree"' not in result.output


def test_count_box_holds_the_export_to_the_scrutineers_own_card_list(client, admin_headers, meeting_dir: Path,
                                                                       tmp_path: Path):
    """The operator swaps one listed card for its own in the exported list (fingerprint recomputed):
    the scrutineers give their own credentials.json, and the swapped list is refused."""
    kiosk, _ = vote_d1(client, admin_headers, ["disagree", "disagree"])
    forged = export_to(client, admin_headers, tmp_path / "forged")
    theirs = tmp_path / "theirs.json"
    theirs.write_text((forged / "credentials.json").read_text())
    minted = new_card(kiosk.meeting)
    ours = json.loads(theirs.read_text())
    rounds = {r: [b64d(k) for k in keys] for r, keys in ours["rounds"].items()}
    used = {parse_envelope(json.loads(x)["body"]).card_public for x in (forged / "envelopes.jsonl").read_text().splitlines()}
    spare = next(k for k in rounds[D1] if k not in used)  # a card nobody voted with, swapped for the minted one
    rounds[D1] = [k for k in rounds[D1] if k != spare] + [minted.public_for(D1)]
    (forged / "credentials.json").write_text(json.dumps(list_document(ours["meeting"], ours["meeting_record"],
                                                                      ours["cards"], rounds)))
    append_envelope(forged, kiosk.envelope(minted, {"round": D1, "votes": {"王五": "agree"}}))
    # Against the export's own (swapped) list the ballot looked listed, and was counted; now the
    # close record the tally signed names the list it closed with (issue 10, item 4)...
    result = tally_cli("count-box", str(forged), *share_files(meeting_dir), "--json")
    assert result.exit_code != 0 and "The ballot card list gives the fingerprint" in result.output, result.output
    # ...and against the scrutineers' copy, the export is refused and nothing is counted.
    result = tally_cli("count-box", str(forged), *share_files(meeting_dir), "--credentials", str(theirs), "--json")
    assert result.exit_code != 0 and "not the scrutineers' card list" in result.output, result.output
    # An honest export passes against the scrutineers' copy.
    honest = export_to(client, admin_headers, tmp_path / "honest")
    result = tally_cli("count-box", str(honest), *share_files(meeting_dir), "--credentials", str(theirs), "--json")
    assert result.exit_code == 0 and agree(result.stdout) == (0, 2), result.output


def test_the_live_count_refuses_card_rows_that_are_not_the_imported_list(client, app, admin_headers,
                                                                          meeting_dir: Path):
    """Someone with write access to the database adds a card row (as if listed) and votes with it;
    the live count counted the ballot. Now the count first checks that the card rows still give
    the imported list's fingerprint, and changes nothing."""
    from tally.store.models import Round

    kiosk, _ = vote_d1(client, admin_headers, ["disagree", "disagree"], close=False)
    minted = new_card(kiosk.meeting)
    with services(app).store.writer() as s, s.begin():
        s.execute(insert(Card).values(public_key=minted.public_for(D1), round_id=D1, status="issued", origin="list"))
    resp = client.post("/api/v1/envelopes", json=kiosk.envelope(minted, {"round": D1, "votes": {"王五": "agree"}}))
    assert resp.status_code == 201, resp.get_json()
    assert client.post(f"/api/v1/admin/rounds/{D1}/close", json={}, headers=admin_headers).status_code == 200
    body = {"shares": [ln for i in (1, 2) for ln in (shares_dir(meeting_dir) / f"scrutineer-{i}.txt")
                       .read_text().splitlines() if ln.startswith(f"SCRS1.{kiosk.meeting}.{D1}.")]}
    assert error(client.post(f"/api/v1/admin/rounds/{D1}/count", json=body, headers=admin_headers)) == (
        409, "box_tampered")
    with services(app).store.reader() as s:
        assert s.get(Round, D1).status == "closed" and s.get(Round, D1).result_json is None


def test_voiding_left_over_cards_shows_the_tally_no_card_code(client, app, admin_headers, tmp_path: Path):
    """The scrutineers voided left-over cards by scanning their codes into the console: the tally
    received every left-over card's secret, and its operator could set one back to issued in the
    database and vote with it: a listed card, which `keys verify-box` and `count-box` with the
    scrutineers' own list accept. Now the codes stay on the scrutineers' machine: `keys cards
    void` makes void lines (each card's key in each round, signed by that key), the tally voids
    by them, and a card code sent to the tally is refused."""
    from keys.cards import parse_card
    from keys.errors import Malformed

    kiosk, left = vote_d1(client, admin_headers, ["disagree", "disagree"], close=False)
    (tmp_path / "meeting.json").write_text(json.dumps(client.get("/api/v1/admin/meeting-record",
                                                                 headers=admin_headers).get_json()))
    (tmp_path / "left.txt").write_text("".join(c.qr_text + "\n" for c in left))
    made = keys_cli("cards", "void", "--meeting-record", str(tmp_path / "meeting.json"), str(tmp_path / "left.txt"),
                    "--out", str(tmp_path / "void.txt"))
    assert made.exit_code == 0, made.output
    body = {"lines": (tmp_path / "void.txt").read_text().split()}
    resp = client.post("/api/v1/admin/cards/void", json=body, headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["voided"], resp.get_json()["unknown"]) == (len(left), 0)

    # What the tally received holds no card's secret in any spelling, and no text in it reads as
    # a card: the operator has nothing to vote with, whatever it does to the database.
    received = json.dumps(body).encode()
    assert not [c for c in left if any(sp in received for sp in spellings(c.secret))]

    def reads_as_card(text: str) -> bool:
        try:
            parse_card(text)
        except Malformed:
            return False
        return True

    assert not [t for t in body["lines"] if reads_as_card(t)]
    # The voided cards no longer vote.
    resp = client.post("/api/v1/envelopes", json=kiosk.envelope(left[0], {"round": D1, "votes": {"王五": "agree"}}))
    assert error(resp) == (409, "card_void")

    # The old way in is closed: a card's code sent to the tally is refused, and that card still votes.
    (fresh,) = issue_cards(client, admin_headers, kiosk.meeting, 1)
    for refused in ({"cards": [fresh.qr_text]}, {"lines": [fresh.qr_text]}, {"lines": [*body["lines"], fresh.qr_text]}):
        assert error(client.post("/api/v1/admin/cards/void", json=refused, headers=admin_headers)) == (
            400, "card_code_refused")
    # A void line is signed by the card's own key: the chair cannot void a voter's card by its
    # public key (the list is public), nor move a line to another round.
    voter_key = fresh.public_for(D1)
    _, _, rid, key, sig = body["lines"][0].split(".")
    for forged in (f"SCRV1.{kiosk.meeting}.{D1}.{b64e(voter_key)}.{sig}",
                   f"SCRV1.{kiosk.meeting}.{'r1' if rid != 'r1' else 'e1'}.{key}.{sig}"):
        assert error(client.post("/api/v1/admin/cards/void", json={"lines": [forged]}, headers=admin_headers)) == (
            400, "bad_void_line")
    resp = client.post("/api/v1/envelopes", json=kiosk.envelope(fresh, {"round": D1, "votes": {"王五": "agree"}}))
    assert resp.status_code == 201, resp.get_json()


MEETING = """
meeting:
  title: 作废剩余选票卡
rounds:
  - id: d1
    kind: decide
    title: 票决
    expected: 4
    nominees: [王五]
"""


@pytest.mark.browser
@pytest.mark.slow
def test_the_consoles_void_form_never_sends_a_card_code(module_fleet: Fleet, browser: Any, tmp_path: Path):
    """In Debian's Chromium: the chair pastes the codes of left-over cards (as the console once
    asked) into "作废剩余选票卡": the page refuses them and sends nothing. The void lines that
    `keys cards void` made from the same codes void the cards."""
    tally = module_fleet.tally(MEETING, name="void-form", cards=6)
    codes = tally.cards(2)
    (tmp_path / "left.txt").write_text("\n".join(codes) + "\n")
    run_cli(["keys", "cards", "void", "--meeting-record", str(tally.data / "public" / "meeting.json"),
             str(tmp_path / "left.txt"), "--out", str(tmp_path / "void.txt")], tally.env)
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/cards/void") else None)
    said: list[str] = []

    def answer(dialog: Any) -> None:
        said.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.goto(tally.url + "/console")
    page.fill('input[name="token"]', (tally.data / "secrets" / "admin-token").read_text().strip())
    page.click('button[type="submit"]')
    page.wait_for_selector('body[data-ready="1"]')
    page.fill("#cards-void textarea", "\n".join(codes))
    page.click("#cards-void button[type=submit]")
    wait_js(page, "document.querySelector('#cards-void textarea').value === ''")
    assert sent == [] and said and "keys cards void" in said[-1], said
    assert not any(c.split(".")[-1] in page.content() for c in codes)
    page.fill("#cards-void textarea", (tmp_path / "void.txt").read_text())
    page.click("#cards-void button[type=submit]")
    page.wait_for_selector('[data-k="void"]:text("2")')
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-void-lines.png"))
    assert len(sent) == 1 and not any(c.split(".")[-1] in sent[0] for c in codes)
    assert tally.call("GET", "/api/v1/admin/state")["cards"]["void"] == 2
    ctx.close()


@pytest.mark.parametrize("passphrase", ["correct horse 123456\nbattery staple", "correct horse 2024\nbattery staple",
                                        "correct horse battery\tstaple 9",
                                        "correct horse battery staple\x00", "correct\rhorse battery staple"])
def test_a_passphrase_with_a_line_break_or_control_character_is_refused_not_a_traceback(
        passphrase: str, tmp_path: Path) -> None:
    """The strength estimator crashed on a passphrase with a line break after five digits or more
    (a ValueError: `tally init` and `kiosk pair` ended in a traceback instead of a refusal) and
    took other line breaks and control characters (which no terminal prompt can type back); a
    passphrase is one line of printable text, and anything else is refused with a reason."""
    from keys.errors import WeakPassphrase
    from keys.identity import Identity
    from keys.pairing import PairingOffer
    from keys.passphrase import check_passphrase
    from kiosk.cli import main as kiosk_main

    with pytest.raises(WeakPassphrase) as caught:
        check_passphrase(passphrase)
    assert any("control character" in r for r in caught.value.reasons), caught.value.reasons

    meeting = tmp_path / "m.yaml"
    meeting.write_text(MEETING, encoding="utf-8")
    from tally.cli.main import main as tally_main

    (tmp_path / "pass").write_text(passphrase + "\n", encoding="utf-8")
    given = (["--key-passphrase-file", str(tmp_path / "pass")] if "\x00" in passphrase else [])  # no NUL in the env
    done = CliRunner().invoke(tally_main, ["init", "--data", str(tmp_path / "d"), "--meeting", str(meeting),
                                           "--scrutineers", "3", "--quorum", "2", "--shares-out",
                                           str(tmp_path / "s"), *given],
                              env={"TALLY_KEY_PASSPHRASE": "" if given else passphrase})
    assert done.exit_code == 1 and "too weak" in done.output, done.output
    assert not (tmp_path / "d").exists() and not (tmp_path / "s").exists()

    from keys.fingerprint import fingerprint

    offer = PairingOffer("http://127.0.0.1:9", "abcdefgh", fingerprint(Identity.generate().public_bytes()))
    done = CliRunner().invoke(kiosk_main, ["pair", offer.to_url(), "--data", str(tmp_path / "k"),
                                           "--passphrase-file", str(tmp_path / "pass")], env={"KIOSK_PASSPHRASE": ""})
    assert done.exit_code == 1 and "too weak" in done.output, done.output
    assert not (tmp_path / "k" / "kiosk.key").exists()


@pytest.fixture
def pg_app(tmp_path: Path) -> Any:
    """The tally on a fresh PostgreSQL database (as tests/tally/test_postgres.py)."""
    from tally import create_app
    from tally.setup.meeting import init_meeting
    from tests.services import fresh_postgres_database
    from tests.tally.conftest import KEY_PASS
    from tests.tally.conftest import MEETING as TALLY_MEETING

    for url in fresh_postgres_database():
        f = tmp_path / "meeting.yaml"
        f.write_text(TALLY_MEETING, encoding="utf-8")
        d = tmp_path / "data"
        init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d), database_url=url)
        app = create_app({"DATA_DIR": str(d), "TESTING": True,
                          "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS, "TALLY_DATABASE_URL": url}})
        app.config["PG_URL"] = url
        yield app
        services(app).store.engine.dispose()


@pytest.mark.postgres
def test_a_card_list_import_racing_the_first_open_never_lands_after_it(pg_app: Any, tmp_path: Path):
    """On PostgreSQL, an import that had checked "no round is open" and was still writing when the
    chair opened the first round committed after the open: the list changed under an open round
    (its fingerprint already on the projector). The import now locks the rounds first, so an
    open waits for it, or the import finds the round open and is refused."""
    import threading

    import psycopg

    from keys.credentials import make_cards
    from keys.record import parse_record

    client = pg_app.test_client()
    admin = {"Authorization": "Bearer " + (tmp_path / "data" / "secrets" / "admin-token").read_text().strip()}
    setup_meeting(client, admin, open_rounds=(), cards=3)
    _, second = make_cards(parse_record(client.get("/api/v1/admin/meeting-record", headers=admin).get_json()), 4)
    plain = pg_app.config["PG_URL"].replace("postgresql+psycopg://", "postgresql://")
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    answers: dict[str, int] = {}

    def post(name: str, path: str, body: dict[str, Any]) -> None:
        answers[name] = pg_app.test_client().post(path, json=body, headers=admin).status_code

    with psycopg.connect(plain) as holder, psycopg.connect(plain, autocommit=True) as watch:
        # Another transaction holds the list's row: the import stops there, mid-way.
        holder.execute("SELECT * FROM credential_list FOR UPDATE")
        importing = threading.Thread(target=post, args=("import", "/api/v1/admin/cards/import", second))
        importing.start()
        wait_until(lambda: watch.execute(waiting).fetchone()[0] >= 1, "the import to wait")
        opening = threading.Thread(target=post, args=("open", "/api/v1/admin/rounds/r1/open", {}))
        opening.start()
        wait_until(lambda: not opening.is_alive() or watch.execute(waiting).fetchone()[0] >= 2,
                   "the open to finish or wait")
        opened_first = not opening.is_alive()
        holder.rollback()
        importing.join(60)
        opening.join(60)
    assert answers["open"] == 200, answers
    if opened_first:
        # The round opened while the import was still pending: the import must not land.
        assert answers["import"] == 409, answers
    else:
        # The open waited for the import: the new list is the one the round opened with.
        assert answers["import"] == 200, answers
        state = client.get("/api/v1/admin/state", headers=admin).get_json()
        assert state["card_list"]["fingerprint"] == second["fingerprint"]
    assert client.post("/api/v1/admin/cards/import", json=second, headers=admin).status_code == 409

def wait_until(probe: Any, what: str) -> None:
    import time

    for _ in range(600):
        if probe():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def core_limits(pid: int) -> tuple[str, str]:
    """The soft and hard core-file size of a running process, as /proc says."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            soft, hard = line.split()[4:6]
            return soft, hard
    raise AssertionError("no core limit in /proc")


def process_group(pid: int) -> list[int]:
    """A process and every process of its group (gunicorn's master and its worker)."""
    import os

    group = os.getpgid(pid)
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    out.append(int(entry.name))
            except ProcessLookupError:
                continue
    return out


@pytest.mark.slow
def test_the_tally_and_the_kiosk_never_dump_a_core(module_fleet: Fleet):
    """A crash of `tally serve` during a count (the round key and k shares in memory) or of a kiosk
    (its key, a scanned card's secret) wrote them into a core file wherever the machine allows
    core dumps (a service manager's LimitCORE=infinity, `ulimit -c unlimited`): a copy of the
    disk then held what opens a round. Every `tally`, `kiosk` and `keys` process sets its core
    size to 0 (the soft limit, which a core dump obeys), whatever it inherited."""
    import os
    import resource

    before = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (before[1], before[1]))  # the machine allows cores
    try:
        assert core_limits(os.getpid())[0] != "0"
        tally = module_fleet.tally(MEETING, name="cores", cards=0)
        kiosk = module_fleet.kiosk("cores-kiosk")
        kiosk.pair(tally.offers(1)[0], "k")
        kiosk.start()
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, before)
    for proc in (tally.proc, kiosk.proc):
        assert proc is not None
        pids = process_group(proc.pid)
        assert pids and all(core_limits(p)[0] == "0" for p in pids), [(p, core_limits(p)) for p in pids]
    # The scrutineers' tool (all the cards' secrets in memory while it makes them).
    import subprocess
    import sys

    script = ("import resource\nfrom keys.cli import main\ntry:\n    main(['shares', 'check', '--help'])\n"
              "except SystemExit:\n    pass\nprint(*resource.getrlimit(resource.RLIMIT_CORE))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (before[1], before[1])))
    assert done.stdout.split()[-2] == "0", done.stdout + done.stderr


def test_the_database_cannot_lower_the_quorum_or_swap_a_rounds_custody(client, app, admin_headers, meeting_dir: Path):
    """Held: with write access to the database, the operator sets the quorum to 1, or gives d1
    the custody (wrapped key and commitments) of another round, or of a spare whose shares it
    hopes to see first. One share still opens nothing, another round's shares are named as such,
    and nothing is counted (the joined secret is checked by the AEAD, whose data is the round)."""
    from sqlalchemy import select

    from tally.store.models import Meeting, Round, SpareKey

    kiosk, _ = vote_d1(client, admin_headers, ["agree", "disagree"])

    def shares(round_id: str, who: tuple[int, ...]) -> dict[str, list[str]]:
        return {"shares": [ln for i in who for ln in (shares_dir(meeting_dir) / f"scrutineer-{i}.txt")
                           .read_text().splitlines() if ln.startswith(f"SCRS1.{kiosk.meeting}.{round_id}.")]}

    with services(app).store.writer() as s, s.begin():
        s.execute(update(Meeting).values(quorum=1))
    assert error(client.post(f"/api/v1/admin/rounds/{D1}/count", json=shares(D1, (2,)), headers=admin_headers)) == (
        409, "round_key_damaged")
    with services(app).store.writer() as s, s.begin():
        s.execute(update(Meeting).values(quorum=2))
        original = s.get(Round, D1)
        saved = (original.public_key, original.wrapped_private, original.share_commitments)
        spare = s.get(SpareKey, "spare-1")
        s.execute(update(Round).where(Round.id == D1).values(
            public_key=spare.public_key, wrapped_private=spare.wrapped_private,
            share_commitments=spare.share_commitments))
    # The spare's shares are refused as another round's; d1's own do not match the spare's commitments.
    assert error(client.post(f"/api/v1/admin/rounds/{D1}/count", json=shares("spare-1", (1, 2)),
                             headers=admin_headers)) == (400, "share_wrong_round")
    assert error(client.post(f"/api/v1/admin/rounds/{D1}/count", json=shares(D1, (1, 2)), headers=admin_headers)) == (
        400, "share_mismatch")
    with services(app).store.writer() as s, s.begin():
        s.execute(update(Round).where(Round.id == D1).values(
            public_key=saved[0], wrapped_private=saved[1], share_commitments=saved[2]))
        assert s.scalars(select(Round.result_json).where(Round.id == D1)).one() is None
    resp = client.post(f"/api/v1/admin/rounds/{D1}/count", json=shares(D1, (1, 3)), headers=admin_headers)
    assert resp.status_code == 200 and agree_of(resp.get_json()["result"]) == (1, 1)


def agree_of(result: dict[str, Any]) -> tuple[int, int]:
    return result["nominees"][0]["agree"], result["nominees"][0]["disagree"]


@pytest.mark.parametrize("trick", ["dangling link into it", "through ..", "the directory itself", "a link to it"])
def test_shares_out_cannot_land_in_the_data_directory_by_a_path_trick(tmp_path: Path, trick: str) -> None:
    """Held: `tally init --shares-out` resolves links (dangling ones too) and `..` before it
    compares, so no spelling puts the scrutineers' shares inside the data directory."""
    meeting = tmp_path / "m.yaml"
    meeting.write_text(MEETING, encoding="utf-8")
    data = tmp_path / "data"
    out = {"dangling link into it": tmp_path / "link", "through ..": data / ".." / "data" / "shares",
           "the directory itself": Path(str(data) + "/"), "a link to it": tmp_path / "alias"}[trick]
    if trick == "dangling link into it":
        out.symlink_to(data / "shares")  # the data directory does not exist yet
    if trick == "a link to it":
        data.mkdir()
        out.symlink_to(data)
    done = tally_cli("init", "--data", str(data), "--meeting", str(meeting), "--scrutineers", "3", "--quorum", "2",
                     "--shares-out", str(out))
    assert done.exit_code == 1 and "inside the data directory" in done.output, done.output
    assert not (data / "meeting.json").exists() and not list(tmp_path.rglob("scrutineer-*"))


def test_a_desk_unlock_cannot_pass_the_present_cap_nor_take_a_spare_cards_key(client, app, admin_headers):
    """A kiosk with a desk-unlock grant registered as its card's key the public key a listed card
    holds for a spare round (the list is public): adding a round live from that spare then ended
    in a 500 (the key was already a card row). Now such a key is refused. And desk unlocks, like
    cards, stop at the round's 实到."""
    from tally.rules.kinds import RoundKind
    from tally.setup.custody import assign_spare

    setup_meeting(client, admin_headers, open_rounds=(D1,), sign_in=2)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    assert client.post("/api/v1/admin/settings", json={"desk_unlock": True}, headers=admin_headers).status_code == 200
    (listed,) = issue_cards(client, admin_headers, kiosk.meeting, 1)

    def claim(key: bytes) -> Any:
        """Register `key` with the kiosk's pending grant (the desk unlocks it first if none waits)."""
        beat = client.post("/api/v1/kiosks/heartbeat", json=kiosk.signed({"outbox": 0, "sent": 0})).get_json()
        if not beat.get("unlock"):
            assert client.post("/api/v1/desk/unlock", json={"kiosk": kiosk.kiosk_id},
                               headers=admin_headers).status_code == 200
            beat = client.post("/api/v1/kiosks/heartbeat", json=kiosk.signed({"outbox": 0, "sent": 0})).get_json()
        return client.post("/api/v1/kiosks/unlock", json=kiosk.signed({"grant": beat["unlock"]["grant"],
                                                                         "cards": {D1: b64e(key)}}))

    assert error(claim(listed.public_for("spare-1"))) == (400, "malformed")
    with services(app).store.writer() as s, s.begin():
        assert assign_spare(s, kind=RoundKind.DECIDE, title="重新投票").id == "spare-1"
    # 实到 is 2: a card and one desk unlock fill the round; a second unlock's ballot is refused.
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(listed, {"round": D1, "votes": {"王五": "agree"}})
                       ).status_code == 201
    for expected in (201, 409):
        card = new_card(kiosk.meeting)
        assert claim(card.public_for(D1)).status_code == 200
        sent = client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": D1, "votes": {"王五": "agree"}}))
        assert sent.status_code == expected, sent.get_json()
    assert error(sent) == (409, "round_full")
