"""A speech contest (演讲答辩, seed 003) end to end: a real tally process, 30 simulated judges on
kiosks scoring three contestants, a real Chromium showing the projector with the five highest and
five lowest scores struck through and the ranking; then the live result equals `tally count` over
the exported score lines. Screenshots go to test-artifacts/e2e/contest-*.png."""
from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser import launched
from tests.harness import TallyProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CONTESTANTS = ["王晓明", "李文静", "张建国"]
MEETING = f"""
meeting: {{title: 某镇竞争性选拔演讲答辩}}
rounds:
  - id: s1
    kind: score
    title: 演讲答辩
    judges: 30
    trim: 5
    min: 0
    max: 100
    step: "0.1"
    decimals: 2
    contestants: [{", ".join(CONTESTANTS)}]
"""
# RULES.md's worked example for the first contestant: mean of the 20 kept = 88.55.
WORKED = [88, 92, 85, 90, 87, 91, 86, 89, 93, 84, 90, 88, 87, 95, 82, 89, 90, 86, 88, 91, 94, 83, 87, 89, 90, 85, 88, 92, 96, 81]


def score_lines() -> list[dict[str, str]]:
    rng = random.Random(3)
    panels = [WORKED, [rng.randint(850, 930) / 10 for _ in range(30)], [rng.randint(800, 880) / 10 for _ in range(30)]]
    return [{"round": "s1", "judge": f"J{seat:02d}", "contestant": name, "score": str(Decimal(str(v)).quantize(Decimal("0.1")))}
            for name, panel in zip(CONTESTANTS, panels, strict=False) for seat, v in enumerate(panel, start=1)]


@pytest.fixture
def tally(tmp_path: Path):  # type: ignore[no-untyped-def]
    t = TallyProcess(tmp_path / "data", MEETING, cards=0)
    t.start()
    try:
        yield t
    finally:
        t.stop()


def test_thirty_judges_three_contestants_on_the_projector(tally, tmp_path):
    from kiosk.simulate_judges import simulate_judges

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pool = "编号,姓名,类别\n" + "".join(f"P{i:03d},评委{i},{'人大代表' if i % 2 else '政协委员'}\n" for i in range(1, 41))
    tally.call("POST", "/api/v1/admin/judges/pool", files={"file": ("pool.csv", io.BytesIO(pool.encode()))})
    record = tally.round("s1", "draw", {"seed": "contest-e2e"})
    assert len(record["seats"]) == 30 and record["pool_size"] == 40
    cards = {c["label"]: c["qr_text"] for c in tally.round("s1", "judge-cards")["cards"]}
    tally.round("s1", "open")
    tally.round("s1", "order", {"order": CONTESTANTS})
    offers = tally.offers(10)
    projector_url = tally.call("GET", "/api/v1/admin/links")["projector"]

    with launched() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(projector_url)
        page.wait_for_selector("#conn.up")
        seen_scoring: list[str] = []

        def open_next(name: str) -> None:
            tally.round("s1", "next", {"contestant": name})
            page.wait_for_selector(f".contestant:has-text('{name}')", timeout=5000)
            # While scoring, the projector shows only how many have scored, never a value.
            assert page.locator(".seat").count() == 0
            seen_scoring.append(name)
            if name == CONTESTANTS[0]:
                page.screenshot(path=str(ARTIFACTS / "contest-1-scoring.png"))

        summary = simulate_judges(offers, cards, score_lines(), open_next=open_next, data_dir=tmp_path / "kiosks")
        assert summary["accepted"] == 90 and summary["rejected"] == {} and summary["unacknowledged"] == 0
        assert seen_scoring == CONTESTANTS
        # The last contestant was revealed: all 30 seats shown, 10 struck, the mean large, the ranking.
        page.wait_for_selector(f".contestant:has-text('{CONTESTANTS[2]}')")
        page.wait_for_selector(".seat.struck")
        assert page.locator(".seat").count() == 30
        assert page.locator(".seat.struck.high").count() == 5 and page.locator(".seat.struck.low").count() == 5
        page.screenshot(path=str(ARTIFACTS / "contest-3-revealed.png"))
        ranking = page.locator(".judging-side table.result tbody tr")
        assert ranking.count() == 3
        rows = [ranking.nth(i).inner_text().split("\t") for i in range(3)]
        browser.close()

    state = tally.call("GET", "/api/v1/admin/rounds/s1/judging")
    means = {r["name"]: r["mean"] for r in state["ranking"]}
    assert means[CONTESTANTS[0]] == "88.55"
    assert [r[1] for r in rows] == [r["name"] for r in state["ranking"]]  # the projector shows the ranking order
    assert [r["rank"] for r in state["ranking"]] == sorted(r["rank"] for r in state["ranking"])

    tally.round("s1", "close")
    live = tally.round("s1", "count")["result"]
    export = tally.call("GET", "/api/v1/admin/rounds/s1/export")
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "meeting.yaml").write_text(export["files"]["meeting.yaml"], encoding="utf-8")
    (tmp_path / "exp" / "ballots.jsonl").write_text(export["files"]["ballots.jsonl"], encoding="utf-8")
    assert len(export["files"]["ballots.jsonl"].splitlines()) == 90
    out = subprocess.run([str(Path(sys.executable).parent / "tally"), "count", str(tmp_path / "exp" / "meeting.yaml"),
                          str(tmp_path / "exp" / "ballots.jsonl"), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["rounds"][0] == live
    first = next(c for c in live["contestants"] if c["name"] == CONTESTANTS[0])
    assert first["dropped_high"] == ["96.0", "95.0", "94.0", "93.0", "92.0"]
    assert first["dropped_low"] == ["81.0", "82.0", "83.0", "84.0", "85.0"]
