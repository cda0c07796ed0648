"""`pip install .` without `-e`: the wheel carries everything a hall machine needs, and works from there.

The wheel is built from this checkout with pip (hatchling is the build backend, fetched by pip
like any build requirement). It must hold the three packages, their migrations, compiled
catalogs and demo meeting, the shared templates and vendored static files (as
`scrutineer_assets`) and the three commands. Installed with `--target` into an empty folder,
imported from there with the working directory outside the checkout, the tally must find its
templates inside that folder and serve its Chinese sign-in page from them.
"""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NO_BACKEND = ("No matching distribution found for hatchling", "Could not find a version that satisfies the requirement hatchling",
              "Failed to establish a new connection", "Network is unreachable", "Temporary failure in name resolution")

# Run from the installed folder: where each package and its assets were found, and the chair's
# sign-in page of a fresh meeting rendered by the installed tally (templates and catalog).
PROBE = """
import json, sys
from pathlib import Path
import kiosk, kiosk.assets, tally, tally.web.assets
from tally import create_app
from tally.setup.meeting import init_meeting
from tally.services import services
data = Path(sys.argv[1])
demo = Path(tally.__file__).parent / "cli" / "demo_meeting" / "meeting.yaml"
init_meeting(data, demo, key_passphrase="wheel test key passphrase", scrutineers=3, quorum=2,
             shares_out=data.parent / "shares")
app = create_app({"DATA_DIR": str(data), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": "wheel test key passphrase"}})
page = app.test_client().get("/console/login")
services(app).store.engine.dispose()
print(json.dumps({"tally": tally.__file__, "kiosk": kiosk.__file__, "templates": str(tally.web.assets.templates_dir()),
                  "static": str(tally.web.assets.static_dir()), "kiosk_templates": str(kiosk.assets.templates_dir()),
                  "status": page.status_code, "page": page.get_data(as_text=True)}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 and any(s in done.stderr for s in NO_BACKEND):
        pytest.skip("NOT RUN: pip cannot fetch the build backend (hatchling): " + done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("scrutineer-*.whl")
    return built


def repo_files(folder: str, pattern: str) -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / folder).glob(pattern)
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_wheel_carries_packages_assets_and_commands(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        ep = configparser.ConfigParser()
        ep.read_string(z.read(entry_points).decode("utf-8"))
    for package in ("keys", "tally", "kiosk"):
        assert repo_files(package, "**/*.py") <= names, f"{package}: Python modules missing from the wheel"
    migrations = repo_files("tally/store/migrations/versions", "*.py")
    catalogs = (
        repo_files("tally/translations", "**/*.mo")
        | repo_files("kiosk/translations", "**/*.mo")
        | repo_files("keys/locale", "**/*.mo")
    )
    assert (
        migrations
        and {m for m in catalogs if m.startswith("kiosk/")}
        and {m for m in catalogs if m.startswith("tally/")}
    )
    assert migrations <= names
    assert catalogs <= names
    assert "tally/cli/demo_meeting/meeting.yaml" in names and "tally/store/migrations/env.py" in names
    templates = {"scrutineer_assets/" + f for f in repo_files("templates", "**/*") if not f.endswith("/.keep")}
    static = {"scrutineer_assets/" + f for f in repo_files("static", "**/*")}
    assert "scrutineer_assets/templates/kiosk/index.html" in templates
    assert templates <= names
    assert static <= names
    assert "scrutineer_assets/static/vendor/socket.io.min.js" in names
    assert not {n for n in names if n.split("/")[0] in ("tests", "bench", "docs", "var", "test-artifacts")}
    assert dict(ep["console_scripts"]) == {
        "tally": "tally.cli:main",
        "kiosk": "kiosk.cli:main",
        "keys": "keys.cli:main",
    }


def test_installed_from_the_wheel_it_finds_its_own_assets(wheel: Path, tmp_path: Path) -> None:
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "meeting")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout)
    inside = str(target.resolve()) + os.sep
    for key in ("tally", "kiosk", "templates", "static", "kiosk_templates"):
        assert found[key].startswith(inside), f"{key} resolved to {found[key]}, not inside the install"
    assert Path(found["templates"], "kiosk", "index.html").is_file()
    assert found["status"] == 200 and "登录主持人控制台" in found["page"]
    for command in ("tally", "kiosk", "keys"):
        run = subprocess.run(
            [str(target / "bin" / command), "--help"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0 and "Usage" in run.stdout, run.stderr[-2000:]
