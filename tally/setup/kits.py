"""The scrutineers' kits (监票人材料): each scrutineer's share file and printed sheet, written at set-up.

For scrutineer i, `DIR/scrutineer-<i>.txt` holds one share line per round key (the round
named in a comment above it, with its check code) and `DIR/scrutineer-<i>.pdf` the same shares
as QR codes with their check codes, the meeting's title and fingerprint and lines to sign
(`keys.printing`). Both are written 0600, never over an existing file; the directory is
outside the data directory (`tally init` refuses one inside it). After this the tally forgets
the shares.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from keys.printing import ShareItem, both, clean, label, scrutineer_sheet
from keys.shares import Share


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def share_file_text(*, title: str, meeting: str, record_fingerprint: str, index: int, scrutineers: int, quorum: int,
                    shares: Sequence[Share], titles: Mapping[str, str]) -> str:
    lines = [
        "# " + label("scrutineer") + f" {index} / {scrutineers} · {clean(title)}",
        "# " + label("meeting") + f" {meeting} · " + label("record") + f" {record_fingerprint}",
        "# " + label("quorum") + f": {quorum}",
        "# " + label("one_per_key"),
    ]
    for share in shares:
        lines.append(f"# {share.round_id} {clean(titles.get(share.round_id, ''))} · " + label("check")
                     + f" {share.check_code}")
        lines.append(share.text)
    return "\n".join(lines) + "\n"


def write_kits(out_dir: Path, *, title: str, meeting: str, record_fingerprint: str, scrutineers: int, quorum: int,
               shares: Sequence[Share], titles: Mapping[str, str]) -> list[Path]:
    """Write every scrutineer's file and sheet; the paths written (removed again on failure)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for index in range(1, scrutineers + 1):
            mine = [sh for sh in shares if sh.index == index]
            text = share_file_text(title=title, meeting=meeting, record_fingerprint=record_fingerprint, index=index,
                                   scrutineers=scrutineers, quorum=quorum, shares=mine, titles=titles)
            txt = out_dir / f"scrutineer-{index}.txt"
            _write(txt, text.encode("utf-8"))
            written.append(txt)
            pdf = out_dir / f"scrutineer-{index}.pdf"
            items = [ShareItem(sh.round_id, titles.get(sh.round_id, both("Spare round key")), sh.text, sh.check_code)
                     for sh in mine]
            _write(pdf, scrutineer_sheet(title=title, meeting=meeting, record_fingerprint=record_fingerprint,
                                         index=index, scrutineers=scrutineers, quorum=quorum, items=items))
            written.append(pdf)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written
