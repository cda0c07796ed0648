"""The rules engine is pure and the plan package reads files in one place only (held with `ast`)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RULES = sorted((ROOT / "tally" / "rules").glob("*.py"))
PLAN = sorted((ROOT / "tally" / "plan").glob("*.py"))
# Standard modules that reach the clock, the file system, the network, processes or randomness.
IMPURE = {"os", "io", "sys", "time", "datetime", "pathlib", "socket", "subprocess", "random", "secrets",
          "tempfile", "shutil", "logging", "threading", "multiprocessing", "asyncio", "sqlite3", "urllib",
          "http", "glob", "fileinput", "signal", "ctypes", "importlib", "pickle", "shelve", "uuid", "zoneinfo",
          "calendar", "locale", "gettext", "builtins", "json", "csv"}
IMPURE_CALLS = {"open", "print", "input", "exec", "eval", "compile", "__import__", "breakpoint"}


def _imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: relative import"
            found.append((node.module or "", node.lineno))
    return found


def _calls(path: Path) -> list[tuple[str, int]]:
    return [(node.func.id, node.lineno) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]


def test_there_is_something_to_check():
    assert len(RULES) >= 10 and len(PLAN) >= 5


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_rules_import_only_the_standard_library_and_themselves(path):
    for module, line in _imports(path):
        top = module.split(".")[0]
        if module == "__future__" or module == "tally.rules" or module.startswith("tally.rules."):
            continue
        assert top in sys.stdlib_module_names, f"{path.name}:{line}: imports {module}"
        assert top not in IMPURE, f"{path.name}:{line}: imports {module} (clock, I/O or randomness)"
    for name, line in _calls(path):
        assert name not in IMPURE_CALLS, f"{path.name}:{line}: calls {name}()"


@pytest.mark.parametrize("path", PLAN, ids=lambda p: p.name)
def test_only_plan_load_reads_files(path):
    reader = path.name == "load.py"
    for module, line in _imports(path):
        top = module.split(".")[0]
        if module == "__future__" or module.startswith(("tally.plan", "tally.rules")):
            continue
        if top == "yaml" or top in {"json", "pathlib", "os"}:
            assert reader, f"{path.name}:{line}: only tally.plan.load may import {module}"
            continue
        assert top in sys.stdlib_module_names, f"{path.name}:{line}: imports {module}"
        assert top not in IMPURE, f"{path.name}:{line}: imports {module}"
    for name, line in _calls(path):
        assert name not in IMPURE_CALLS, f"{path.name}:{line}: calls {name}()"


def test_importing_the_engine_pulls_in_no_framework():
    # `tally/__init__.py` is the app factory; stand in an empty parent so only the engine's own imports count.
    code = ("import sys, types; parent = types.ModuleType('tally'); parent.__path__ = ['tally']; "
            "sys.modules['tally'] = parent; import tally.rules; "
            "bad = [m for m in ('flask', 'sqlalchemy', 'yaml', 'click', 'babel', 'keys') if m in sys.modules]; "
            "print(len(tally.rules.__all__), bad)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    count, bad = done.stdout.split(" ", 1)
    assert int(count) > 20 and bad.strip() == "[]"
