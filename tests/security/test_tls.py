"""The console from another machine: `tally serve --tls` with a certificate made at `tally init`, pinned by kiosks.

Real processes over HTTPS on loopback. `tally init --tls-name 127.0.0.1` makes the certificate and
prints its SHA-256 fingerprint; `tally serve --tls` serves HTTPS with it (plain HTTP is refused on
that port), prints the fingerprint again, shows it on the console and puts it in every pairing
offer; the chair's cookie is `Secure`. A kiosk pairs from such an offer, pins the certificate and
votes through it; an offer whose pin is not the tally's certificate pairs nothing. The command
line trusts the data directory's own certificate. The projector's live feed runs over wss.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from keys.pairing import PairingOffer
from tests.e2e.conftest import Fleet
from tests.e2e.support import wait_drained, wait_for
from tests.harness import KioskProcess, TallyProcess

MEETING = """
meeting:
  title: 加密连接测试
rounds:
  - id: r1
    kind: recommend
    title: 推荐
    expected: 3
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四]}
"""


@pytest.fixture(scope="module")
def tally(module_fleet: Fleet) -> TallyProcess:
    t = TallyProcess(module_fleet.root / "tally", MEETING, tls=True)
    module_fleet.members.append(t)
    return t.start()


def pin_of(tally: TallyProcess) -> str:
    cert = x509.load_pem_x509_certificate((tally.data / "tls-cert.pem").read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex()


def test_the_certificate_is_made_at_init_and_its_fingerprint_printed_and_shown(tally: TallyProcess) -> None:
    pin = pin_of(tally)
    shown = ":".join(pin[i:i + 2] for i in range(0, 64, 2)).upper()
    assert f"TLS certificate fingerprint (SHA-256): {shown}" in tally.init_output
    assert shown in (tally.data / "serve.log").read_text(encoding="utf-8")
    cert = x509.load_pem_x509_certificate((tally.data / "tls-cert.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    assert oct((tally.data / "secrets" / "tls-key.pem").stat().st_mode & 0o777) == "0o600"
    # Plain HTTP on the TLS port gets no page.
    with pytest.raises(requests.RequestException):
        requests.get(tally.url.replace("https://", "http://") + "/console/login", timeout=5).raise_for_status()
    # The chair signs in over HTTPS: the console shows the fingerprint, the cookie is Secure.
    chair = requests.Session()
    r = chair.post(tally.url + "/console/login", data={"token": (tally.data / "secrets" / "admin-token").read_text()},
                   verify=tally.verify)
    assert r.status_code == 200 and shown in r.text
    cookie = next(c for c in chair.cookies if c.name == "scrutineer_session")
    assert cookie.secure
    assert json.loads((tally.data / "server.json").read_text())["url"].startswith("https://")


def test_a_kiosk_pins_the_certificate_from_the_offer_and_votes_through_it(tally: TallyProcess,
                                                                          module_fleet: Fleet) -> None:
    offer_text = tally.offers(1)[0]
    offer = PairingOffer.parse(offer_text)
    assert offer.url == tally.url and offer.tls == pin_of(tally)
    # The command line talks to it through the data directory's own certificate.
    tally.cli("checkin", "import", "--data", str(tally.data), str(_roster(tally.data.parent)))
    tally.cli("checkin", "sign-in", "--data", str(tally.data), "--all")
    tally.cli("rounds", "open", "--data", str(tally.data), "r1")
    kiosk: KioskProcess = module_fleet.kiosk("kiosk")
    assert kiosk.pair(offer_text, "大厅1号") == "active"
    assert json.loads((kiosk.data / "kiosk.json").read_text())["tls_fingerprint"] == offer.tls
    kiosk.start()
    card = tally.cards(1)[0]
    wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 1, "the kiosk to see r1 over HTTPS", 30)
    assert len(kiosk.vote(card, {"r1": {"sections": {"mayor": ["张三"]}}})) == 1
    wait_drained(kiosk, 1)
    assert next(r for r in tally.call("GET", "/api/v1/admin/state")["rounds"] if r["id"] == "r1")["cast"] == 1


def test_an_offer_whose_pin_is_not_the_tallys_certificate_pairs_nothing(tally: TallyProcess, tmp_path: Path) -> None:
    real = PairingOffer.parse(tally.offers(1)[0])
    forged = PairingOffer(url=real.url, code=real.code, fingerprint=real.fingerprint, tls="ab" * 32).to_url()
    with pytest.raises(RuntimeError, match="cannot reach the tally"):
        KioskProcess(tmp_path / "kiosk").pair(forged, "假冒")
    assert not (tmp_path / "kiosk" / "kiosk.json").exists()
    # The code was not spent: the tally never saw the request. The real pin still pairs.
    assert KioskProcess(tmp_path / "kiosk2").pair(real.to_url(), "真") == "active"


@pytest.mark.browser
def test_the_projector_follows_the_live_feed_over_tls(tally: TallyProcess, browser: Any) -> None:
    ctx = browser.new_context(ignore_https_errors=True)  # a browser that accepted the certificate
    try:
        page = ctx.new_page()
        page.goto(tally.call("GET", "/api/v1/admin/links")["projector"])
        page.wait_for_selector("#conn.up", timeout=15000)
        assert page.url.startswith("https://")
        assert re.search(r"加密连接测试", page.inner_text("header"))
    finally:
        ctx.close()


def _roster(where: Path) -> Path:
    f = where / "roster.csv"
    f.write_text("编号,姓名\n1,甲\n2,乙\n3,丙\n", encoding="utf-8")
    return f


def test_old_offers_still_parse() -> None:
    old = "scrutineer-pair:?u=http%3A%2F%2F10.0.0.5%3A8000&c=abcdefgh&f=" + "A" * 32
    assert PairingOffer.parse(old).tls is None
    with pytest.raises(ValueError):
        PairingOffer.parse(old + "&t=" + "ab" * 32)  # a pin goes only with https
    pinned = PairingOffer(url="https://10.0.0.5:8000", code="abcdefgh", fingerprint="A" * 32, tls=":".join(["AB"] * 32))
    assert pinned.tls == "ab" * 32 and PairingOffer.parse(pinned.to_url()) == pinned
    for bad in ("ab" * 31, "zz" * 32, "ab" * 33):
        with pytest.raises(ValueError):
            PairingOffer(url="https://10.0.0.5:8000", code="abcdefgh", fingerprint="A" * 32, tls=bad)
