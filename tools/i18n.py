"""Maintain the translation catalogs: extract msgids, merge them into each .po, compile .mo.

    python tools/i18n.py            # extract + update + compile every catalog, list missing Chinese
    python tools/i18n.py --check    # exit 1 if a msgid lacks Chinese or a .mo is stale (the tests do this)

Each catalog is (babel.cfg, source dirs, .po path). msgids are English; Chinese is required.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "ApiError": (3,), "error_response": (3,), "ScoreValueError": (2,)}


def _method_map(cfg: Path) -> list[tuple[str, str]]:
    out = []
    for line in cfg.read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and ":" in line:
            method, pattern = line[1:-1].split(":", 1)
            out.append((pattern.strip(), method.strip()))
    return out


def extract(cfg: Path) -> set[str]:
    ids: set[str] = set()
    for _fn, _lineno, message, _comments, _ctx in extract_from_dir(str(ROOT), _method_map(cfg), keywords=KEYWORDS):
        if isinstance(message, tuple):
            ids.update(m for m in message if m)
        elif message:
            ids.add(message)
    return ids


def load_po(po: Path) -> Catalog:
    if po.exists():
        with po.open("rb") as f:
            return read_po(f, locale="zh")
    return Catalog(locale="zh")


def compiled(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, cat)
    return buf.getvalue()


CATALOGS = [
    (ROOT / "tally" / "babel.cfg", ROOT / "tally" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"),
    (ROOT / "kiosk" / "babel.cfg", ROOT / "kiosk" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"),
]


def problems() -> list[str]:
    out = []
    for cfg, po in CATALOGS:
        if not cfg.exists():
            continue
        cat = load_po(po)
        have = {m.id: m.string for m in cat if m.id}
        for msgid in sorted(extract(cfg)):
            if not have.get(msgid):
                out.append(f"{po.relative_to(ROOT)}: no Chinese for {msgid!r}")
        mo = po.with_suffix(".mo")
        if not mo.exists():
            out.append(f"{mo.relative_to(ROOT)} is missing: run python tools/i18n.py")
        else:
            with mo.open("rb") as f:
                on_disk = {m.id: m.string for m in read_mo(f) if m.id}
            if on_disk != {k: v for k, v in have.items() if v}:
                out.append(f"{mo.relative_to(ROOT)} is stale: run python tools/i18n.py")
    return out


def update(extra: dict[str, str] | None = None) -> None:
    for cfg, po in CATALOGS:
        if not cfg.exists():
            continue
        old = load_po(po)
        cat = Catalog(locale="zh", project="scrutineer", fuzzy=False)
        for msgid in sorted(extract(cfg)):
            prior = old.get(msgid)
            cat.add(msgid, (prior.string if prior and prior.string else None) or (extra or {}).get(msgid, ""))
        unchanged = {m.id: m.string for m in old if m.id} == {m.id: m.string for m in cat if m.id}
        if unchanged and po.with_suffix(".mo").exists():
            continue  # nothing new: keep the files (and their dates) as they are
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as f:
            write_po(f, cat, width=0, omit_header=False, sort_output=True)
        po.with_suffix(".mo").write_bytes(compiled(cat))


if __name__ == "__main__":
    if "--check" not in sys.argv:
        update()
    found = problems()
    for p in found:
        print(p)
    sys.exit(1 if found and "--check" in sys.argv else 0)
