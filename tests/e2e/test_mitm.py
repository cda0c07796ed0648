"""A man in the middle on the hall LAN swaps a round's key in the ballot form: the kiosk refuses it.

Real processes over loopback: `tally serve`, and a `kiosk serve` agent paired *through* a proxy
(`tests.mitm`) that forwards every call to the tally and rewrites the answers of
`GET /api/v1/ballot`. When the proxy puts its own key into a round's form (in the plain copy and
in the signed bytes alike), the kiosk refuses the form, keeps its last good one, says so on its
status page, and seals nothing to the false key. When the proxy changes only the plain copy,
the kiosk reads the key from the signed bytes, and the ballot opens at the count as cast.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests

from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.envelope import open_envelope, parse_envelope
from keys.errors import BadEnvelope
from keys.pairing import PairingOffer
from keys.sealing import RoundKey
from tests.mitm import proxy_to

from .conftest import Fleet
from .support import wait_drained, wait_for

pytestmark = pytest.mark.slow

MEETING = """
meeting:
  title: 中间人测试会议
rounds:
  - id: r1
    kind: recommend
    title: 镇长人选会议推荐
    expected: 4
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四]}
  - id: d1
    kind: decide
    title: 任职票决
    expected: 4
    nominees: [王五]
"""


def sealed_bodies(kiosk_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    con = sqlite3.connect(f"file:{kiosk_dir / 'outbox.sqlite'}?mode=ro", uri=True)
    try:
        return [(r, json.loads(b)) for r, b in con.execute("SELECT round, body FROM envelopes ORDER BY id")]
    finally:
        con.close()


def test_a_swapped_round_key_is_refused_and_nothing_is_sealed_to_it(fleet: Fleet) -> None:
    tally = fleet.tally(MEETING)
    tally.roster(4)
    cards = tally.cards(4)
    tally.round("r1", "open")
    attacker = RoundKey.generate()
    false_key = b64e(attacker.public_bytes())
    with proxy_to(tally.url) as mitm:
        real = PairingOffer.parse(tally.offers(1)[0])
        kiosk = fleet.kiosk("kiosk", heartbeat_seconds=1)
        assert kiosk.pair(PairingOffer(mitm.url, real.code, real.fingerprint).to_url(), "大厅1号") == "active"
        kiosk.start()
        wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 1, "the kiosk to show r1", 30)

        def swap_everywhere(path: str, doc: Any) -> Any:
            """The attacker's key in every round's form: the plain copy and the signed bytes."""
            if path != "/api/v1/ballot":
                return None
            for entry in doc["rounds"]:
                entry["public_key"] = false_key
                signed = parse_canonical(b64d(entry["signed"]["document"]))
                signed["public_key"] = false_key
                entry["signed"]["document"] = b64e(canonical(signed))
            return doc

        mitm.rewrite = swap_everywhere
        tally.round("d1", "open")
        before = mitm.count("/api/v1/ballot")
        wait_for(lambda: mitm.count("/api/v1/ballot") >= before + 2, "the kiosk to fetch the swapped form twice", 30)
        # Refused: the last good form (r1, with its real key) stays; d1 is never offered.
        assert kiosk.call("GET", "/api/state")[1]["rounds"] == 1
        status = requests.get(kiosk.url + "/status?lang=en", timeout=10).text
        assert "REFUSED: the tally" in status
        assert kiosk.vote(cards[0], {"r1": {"sections": {"mayor": ["张三"]}}}) and len(kiosk.vote(
            cards[1], {"r1": {"sections": {"mayor": ["李四"]}}})) == 1
        wait_drained(kiosk, sent=2)

        # Only the plain copy swapped: the signature holds, and the kiosk seals to the signed key.
        def swap_plain(path: str, doc: Any) -> Any:
            if path != "/api/v1/ballot":
                return None
            for entry in doc["rounds"]:
                entry["public_key"] = false_key
            return doc

        mitm.rewrite = swap_plain
        wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 2, "the kiosk to take the signed form", 30)
        assert "REFUSED" not in requests.get(kiosk.url + "/status?lang=en", timeout=10).text
        assert len(kiosk.vote(cards[2], {"r1": {"sections": {"mayor": ["张三"]}}, "d1": {"votes": {"王五": "agree"}}})) == 2
        wait_drained(kiosk, sent=4)

    bodies = sealed_bodies(kiosk.data)
    assert [r for r, _ in bodies] == ["r1", "r1", "r1", "d1"]
    for _round, body in bodies:  # nothing on this kiosk opens with the attacker's key
        with pytest.raises(BadEnvelope):
            open_envelope(parse_envelope(body), attacker)
    tally.round("d1", "close")
    d1 = tally.count("d1")["result"]
    (wang,) = d1["nominees"]
    assert (d1["returned"], wang["agree"]) == (1, 1)  # the ballot sealed behind the plain swap opened as cast
