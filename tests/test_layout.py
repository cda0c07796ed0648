"""The import rules of the layout (DESIGN.md): read every module's imports with `ast`.

keys → stdlib, cryptography, qrcode (its CLI also click); tally.rules → stdlib only (pure);
kiosk → never tally; tally → never kiosk.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names)


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0] if not node.module.startswith(("tally.", "keys.", "kiosk.")) else node.module)
    return out


def modules(pkg: str) -> list[Path]:
    return sorted((ROOT / pkg).rglob("*.py"))


def test_keys_imports_only_stdlib_cryptography_and_qrcode():
    for path in modules("keys"):
        allowed = STDLIB | {"cryptography", "qrcode", "keys", "__future__"}
        if path.name == "cli.py":
            allowed |= {"click"}
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


def test_the_command_line_starts_without_the_server():
    """`tally count` (and every `tally` command's start) loads neither Flask nor the database:
    an auditor's offline count starts fast on any machine."""
    probe = ("import sys; from tally.cli import main; "
             "print(sorted(m for m in ('flask', 'flask_socketio', 'sqlalchemy', 'gevent', 'gunicorn', "
             "'reportlab', 'openpyxl', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
