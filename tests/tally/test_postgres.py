"""The PostgreSQL path for real: migrations, intake under concurrency, counting, export."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tally.services import services
from tally.store.models import CardUse, Envelope, Round
from tests.services import fresh_postgres_database

from .conftest import KEY_PASS, MEETING, count_body, issue_cards, load_forms, pair_kiosk, setup_meeting, shares_dir

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tally import create_app
    from tally.setup.meeting import init_meeting

    for url in fresh_postgres_database():
        f = tmp_path / "meeting.yaml"
        f.write_text(MEETING, encoding="utf-8")
        d = tmp_path / "data"
        init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d), database_url=url)
        app = create_app({"DATA_DIR": str(d), "TESTING": True,
                          "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS, "TALLY_DATABASE_URL": url}})
        assert services(app).store.engine.dialect.name == "postgresql"
        yield app
        services(app).store.engine.dispose()


def test_postgres_meeting_with_racing_kiosks(pg_app, tmp_path):
    client = pg_app.test_client()
    admin = {"Authorization": "Bearer " + (tmp_path / "data" / "secrets" / "admin-token").read_text().strip()}
    setup_meeting(client, admin)
    k1 = pair_kiosk(client, admin, name="a")
    k2 = pair_kiosk(client, admin, name="b")
    load_forms(client, k1)
    k2.forms = k1.forms
    cards = issue_cards(client, admin, k1.meeting, 6)
    with services(pg_app).store.writer() as s:
        # A PostgreSQL heap keeps insertion order: the cards' rows went in by key (random), so
        # the physical order does not keep one card's three round credentials together.
        heap = [bytes(k) for k in s.scalars(text("SELECT public_key FROM cards ORDER BY ctid"))]
    assert len(heap) == 12 * 3 and heap == sorted(heap)
    results: list[int] = []
    lock = threading.Lock()

    def send(kiosk, card, name):  # type: ignore[no-untyped-def]
        code = (
            pg_app.test_client()
            .post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}}))
            .status_code
        )
        with lock:
            results.append(code)

    # Every card is sent by both kiosks at once, with different content: one of each pair wins.
    threads = [threading.Thread(target=send, args=(k, c, n)) for c in cards for k, n in ((k1, "张三"), (k2, "李四"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(201) == 6 and results.count(409) == 6
    with services(pg_app).store.writer() as s:
        assert s.scalar(select(func.count()).select_from(Envelope)) == 6
        assert s.scalar(select(func.count()).select_from(CardUse)) == 6
        assert s.get(Round, "r1").accepted == 6
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin).status_code == 200
    r = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin)
    assert r.status_code == 200, r.get_json()
    post = r.get_json()["result"]["posts"][0]
    assert post["valid"] == 6 and sum(c["votes"] for c in post["candidates"]) == 6
    doc = client.get("/api/v1/admin/rounds/r1/export", headers=admin).get_json()
    assert len(doc["files"]["envelopes.jsonl"].splitlines()) == 6
