"""The `keys` CLI catalog: every message has a Chinese translation and the compiled .mo matches."""
from __future__ import annotations

import gettext
import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import keys.cli

PO = keys.cli.LOCALE_DIR / "zh" / "LC_MESSAGES" / "keys.po"


def test_every_message_is_translated_and_compiled() -> None:
    import keys.passphrase
    import keys.printing

    source = Path(keys.cli.__file__)
    msgids = {message for _, message, _, _ in extract_from_file("python", source, keywords={"_": None})}
    # The printed sheets (keys.printing, the tally's share files) and the passphrase reasons.
    for printing in (Path(keys.printing.__file__), Path(keys.cli.__file__).parents[1] / "tally" / "setup" / "kits.py"):
        msgids |= {message for _, message, _, _ in extract_from_file("python", printing, keywords={"both": None})}
    msgids |= set(keys.printing.LABELS.values()) | {keys.passphrase.TOO_SHORT, keys.passphrase.TOO_GUESSABLE,
                                                                   keys.passphrase.CONTROL}
    assert len(msgids) > 20
    with open(PO, "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id: m.string for m in catalog if m.id}
    assert msgids <= set(translated), sorted(msgids - set(translated))
    compiled = gettext.translation("keys", localedir=keys.cli.LOCALE_DIR, languages=["zh"])
    for msgid in msgids:
        assert translated[msgid], msgid
        assert compiled.gettext(msgid) == translated[msgid], f"keys.mo is stale for {msgid!r}"
        # Every placeholder of the msgid survives translation.
        assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", translated[msgid])), msgid
