"""Every string the result sheet shows goes through the catalog and has a Chinese translation."""
from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

from tally.cli.count import CATALOG_DIR, DOMAIN, translations

ROOT = Path(__file__).resolve().parents[2]

SOURCE = ROOT / "tally" / "cli" / "count.py"


def _msgids() -> set[str]:
    ids = set()
    for node in ast.walk(ast.parse(SOURCE.read_text(encoding="utf-8"))):
        func = node.func if isinstance(node, ast.Call) else None
        if (isinstance(func, ast.Name) and func.id == "_") or (isinstance(func, ast.Attribute) and func.attr == "_"):
            assert isinstance(node, ast.Call)
            assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant), ast.dump(node)
            ids.add(node.args[0].value)
    return ids


def test_every_msgid_has_a_chinese_translation():
    used = _msgids()
    assert len(used) > 40
    with (CATALOG_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        catalog = read_po(f, locale="zh", domain=DOMAIN)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in used if not translated.get(m))
    assert not missing
    unused = sorted(set(translated) - used)
    assert not unused  # a stale entry means the sheet changed without its catalog
    zh = translations("zh")
    for msgid in used:
        assert zh.gettext(msgid) == translated[msgid] != msgid


def test_english_is_the_msgid_itself():
    assert translations("en").gettext("Present") == "Present"
    assert translations("zh").gettext("Present") == "实到"
