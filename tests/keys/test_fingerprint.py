"""Fingerprints: vectors and the spellings people type."""
from __future__ import annotations

import base64
import hashlib

import pytest

from keys.errors import Malformed
from keys.fingerprint import compact, fingerprint, normalize

RFC8032_TEST1_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def test_vectors() -> None:
    assert fingerprint(RFC8032_TEST1_PUBLIC) == "LZIX DXU6 WUPO WOT6 TFSP 5KFS CEE6 G773"
    assert fingerprint(bytes(32)) == "V4RA AEPO ZPSS SXCR U6YA LXFI YVBL B7PT"
    digest = hashlib.sha256(b"scrutineer/fingerprint/v1\0" + RFC8032_TEST1_PUBLIC).digest()[:20]
    assert compact(fingerprint(RFC8032_TEST1_PUBLIC)) == base64.b32encode(digest).decode()


@pytest.mark.parametrize("spelling", [
    "LZIX DXU6 WUPO WOT6 TFSP 5KFS CEE6 G773",
    "LZIXDXU6WUPOWOT6TFSP5KFSCEE6G773",
    "lzix-dxu6-wupo-wot6-tfsp-5kfs-cee6-g773",
    "  lzixdxu6 wupowot6\ttfsp5kfs cee6g773\n",
])
def test_normalize_accepts_human_spellings(spelling: str) -> None:
    assert normalize(spelling) == "LZIX DXU6 WUPO WOT6 TFSP 5KFS CEE6 G773"


@pytest.mark.parametrize("text", ["", "LZIX", "LZIXDXU6WUPOWOT6TFSP5KFSCEE6G77", "LZIXDXU6WUPOWOT6TFSP5KFSCEE6G7731",
                                  "LZIXDXU6WUPOWOT6TFSP5KFSCEE6G771", "LZIX_DXU6WUPOWOT6TFSP5KFSCEE6G773", None])
def test_normalize_refuses(text: str) -> None:
    # "1" is not in the base32 alphabet.
    with pytest.raises(Malformed):
        normalize(text)


@pytest.mark.parametrize("public", [b"", bytes(31), bytes(33), "x" * 32])
def test_fingerprint_needs_32_bytes(public: bytes) -> None:
    with pytest.raises(Malformed):
        fingerprint(public)
