"""Every string a screen shows goes through the translation layer and has Chinese, the first
language; the compiled catalogs match their sources (`python tools/i18n.py` rebuilds them)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_every_msgid_has_chinese_and_mo_files_are_current():
    tool = _tool()
    assert tool.problems() == []


def test_the_extraction_finds_the_screens_strings():
    tool = _tool()
    ids = tool.extract(ROOT / "tally" / "babel.cfg")
    # One from a template, one from an API error, one from the vocabulary of data values.
    assert {"Chair console", "This ballot card has already been used in this round.", "recommend"} <= ids
