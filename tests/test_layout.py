"""The house's import rules (DESIGN.md, docs/architecture.md), read from every module's imports with `ast`.

keys → stdlib, cryptography, qrcode (its CLI also click); tally.rules → stdlib only (pure);
kiosk → never tally; tally → never kiosk; each room of tally/ imports only the rooms below it
(services never import the web layer or the command line); only tally.web touches
`flask.request`; only tally.show.feed emits Socket.IO events.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names)

# Each room of tally/ and the rooms it may import (besides itself). The top modules: `errors`
# (the refusal, no Flask), `config`, `services` (the typed holder; its imports are for types only).
ROOMS: dict[str, set[str]] = {
    "rules": set(),
    "plan": {"rules"},
    "store": {"rules", "services"},
    "setup": {"rules", "plan", "store", "config", "errors", "services"},
    "hall": {"rules", "store", "errors", "services"},
    "judging": {"rules", "store", "setup", "errors", "services"},
    "box": {"rules", "plan", "store", "setup", "hall", "judging", "errors", "services"},
    "show": {"rules", "store", "setup", "hall", "judging", "box", "errors", "services"},
    "web": {"rules", "plan", "store", "setup", "hall", "judging", "box", "show", "errors", "services", "config"},
    # cli: `tally count-box` opens an exported box with the same function as the live count (box.opening).
    "cli": {"rules", "plan", "store", "setup", "box", "config", "server", "errors"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0] if not node.module.startswith(("tally.", "keys.", "kiosk.")) else node.module)
    return out


def tally_targets(path: Path) -> set[str]:
    """The parts of tally/ a module imports: `tally.box.intake` → box, `from tally import x` → x."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "tally":
            parts = node.module.split(".")
            out.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("tally."))
    return out


def modules(pkg: str) -> list[Path]:
    return sorted((ROOT / pkg).rglob("*.py"))


# Beyond stdlib, cryptography and qrcode, one well-kept library per job, each in one module:
# Shamir's secret sharing (pycryptodome) for the scrutineers' shares, zxcvbn's strength estimate
# for passphrases, reportlab for the printed sheets (never loaded by the auditor's checks).
KEYS_EXTRA = {"shares.py": {"Crypto"}, "passphrase.py": {"zxcvbn"}, "printing.py": {"reportlab"}, "cli.py": {"click"}}


def test_keys_imports_only_stdlib_cryptography_and_qrcode():
    for path in modules("keys"):
        allowed = STDLIB | {"cryptography", "qrcode", "keys", "__future__"} | KEYS_EXTRA.get(path.name, set())
        found = {m.split(".")[0] for m in imports(path)}
        assert found <= allowed, f"{path.relative_to(ROOT)} imports {sorted(found - allowed)}"


def test_rules_engine_is_pure():
    for path in modules("tally/rules"):
        found = imports(path)
        bad = {m for m in found if m.split(".")[0] not in STDLIB | {"__future__"} and not m.startswith("tally.rules")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
        text = path.read_text(encoding="utf-8")
        for pattern in (r"datetime\.now", r"time\.time\(", r"(?<![\w.])open\(", r"(?<![\w.])float\("):
            assert not re.search(pattern, text), f"{path.relative_to(ROOT)} uses {pattern}"


def test_kiosk_never_imports_tally_and_tally_never_imports_kiosk():
    for path in modules("kiosk"):
        assert not any(m == "tally" or m.startswith("tally.") for m in imports(path)), path
    for path in modules("tally"):
        assert not any(m == "kiosk" or m.startswith("kiosk.") for m in imports(path)), path


def test_each_room_imports_only_the_rooms_below_it():
    """A newcomer can trust the folders: services never reach up into the web layer or the CLI."""
    for path in modules("tally"):
        rel = path.relative_to(ROOT / "tally")
        if len(rel.parts) == 1:
            continue  # the app factory, config, server, services, errors: the top of the house
        room = rel.parts[0]
        if room == "store" and "migrations" in rel.parts:
            continue
        assert room in ROOMS, f"tally/{room}/ is a room the layout test does not know: add it to ROOMS"
        found = tally_targets(path) - {room}
        assert found <= ROOMS[room], f"tally/{rel} imports {sorted(found - ROOMS[room])}"


def test_only_the_web_layer_touches_the_request():
    pattern = re.compile(r"\bflask\.request\b|from flask import [^\n]*\brequest\b")
    for path in modules("tally"):
        rel = path.relative_to(ROOT / "tally")
        if rel.parts[0] == "web":
            continue
        assert not pattern.search(path.read_text(encoding="utf-8")), f"tally/{rel} touches flask.request"


def test_only_one_module_emits_live_events():
    pattern = re.compile(r"\.emit\(|\bemit\(|\bsend\(")
    emitters = [path.relative_to(ROOT).as_posix() for path in modules("tally")
                if pattern.search(path.read_text(encoding="utf-8"))]
    assert emitters == ["tally/show/feed.py"]


def test_the_harness_lives_with_the_tests():
    assert not (ROOT / "bench" / "_harness.py").exists()
    for path in sorted((ROOT / "bench").glob("*.py")):
        assert "bench._harness" not in path.read_text(encoding="utf-8"), path


def test_the_command_line_starts_without_the_server():
    """`tally count` (and every `tally` command's start) loads neither Flask nor the database:
    an auditor's offline count starts fast on any machine."""
    probe = ("import sys; from tally.cli import main; "
             "print(sorted(m for m in ('flask', 'flask_socketio', 'sqlalchemy', 'gevent', 'gunicorn', "
             "'reportlab', 'openpyxl', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
