"""Every msgid the kiosk uses has a Chinese translation, and the compiled catalog matches the .po."""
from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "kiosk" / "translations" / "zh" / "LC_MESSAGES"


def used_msgids() -> set[str]:
    """Extract exactly as kiosk/babel.cfg does: the kiosk's Python and its templates."""
    method_map = [("kiosk/**.py", "python"), ("templates/kiosk/**.html", "jinja2")]
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(REPO), method_map):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def catalog() -> dict[str, str]:
    with open(CATALOG / "messages.po", "rb") as fh:
        po = read_po(fh, locale="zh")
    assert not po.fuzzy
    return {m.id: m.string for m in po if m.id and not m.fuzzy}  # type: ignore[misc]


def test_every_used_msgid_has_chinese() -> None:
    used = used_msgids()
    assert len(used) > 50  # the extraction really found the kiosk's strings
    translations = catalog()
    missing = sorted(m for m in used if not translations.get(m))
    assert missing == []


def test_compiled_catalog_is_up_to_date() -> None:
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = sorted(msgid for msgid, text in catalog().items() if mo.gettext(msgid) != text)
    assert stale == [], "run: .venv/bin/pybabel compile -d kiosk/translations"


def test_placeholders_survive_translation() -> None:
    import re

    pattern = re.compile(r"%\(\w+\)s|\{\w+\}")
    for msgid, text in catalog().items():
        assert sorted(pattern.findall(msgid)) == sorted(pattern.findall(text)), msgid
