"""The tally's TLS certificate: made at `tally init --tls-name ADDRESS` for the addresses given, pinned by kiosks.

The certificate is self-signed (ECDSA P-256, SHA-256) for the hall addresses given (IP addresses
or host names) plus 127.0.0.1 and localhost. No authority vouches for it: the chair compares its
SHA-256 fingerprint (printed by `tally init` and `tally serve --tls`, shown on the console) with
what the browser shows, and every kiosk pins it from the pairing offer. Files: the certificate
`DATA/tls-cert.pem`, the private key `DATA/secrets/tls-key.pem` (0600; the server must read it
unattended, so it is not encrypted; it protects the session only, nothing that is signed).
"""
from __future__ import annotations

import ipaddress
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tally.config import ConfigError, write_secret_file

CERT_FILE: Final = "tls-cert.pem"
KEY_FILE: Final = "tls-key.pem"  # under secrets/
VALID_DAYS: Final = 825
_LABEL: Final = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST: Final = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def cert_path(data_dir: Path) -> Path:
    return data_dir / CERT_FILE


def key_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / KEY_FILE


def _subject_names(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in dict.fromkeys([*names, "127.0.0.1", "localhost"]):
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            if not _HOST.fullmatch(name):
                raise ConfigError(f"{name!r} is neither an IP address nor a host name") from None
            out.append(x509.DNSName(name.lower()))
    return out


def check_names(names: list[str]) -> None:
    """ConfigError unless every name is an IP address or a host name (before anything is made)."""
    _subject_names(names)


def _permitted(sans: list[x509.GeneralName]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in sans:
        if isinstance(name, x509.IPAddress):
            ip = name.value
            out.append(x509.IPAddress(ipaddress.ip_network(f"{ip}/{ip.max_prefixlen}")))
        else:
            out.append(name)
    return out


def make_certificate(data_dir: Path, names: list[str], *, now: datetime) -> str:
    """Make (or replace) the tally's certificate for `names`; returns its fingerprint (64 hex)."""
    sans = _subject_names(names)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Scrutineer tally"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Scrutineer")])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            # Its own trust anchor (so `curl --cacert`, the command line and a browser that imports
            # it can verify it), but one that vouches for these addresses only, never another site.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.NameConstraints(permitted_subtrees=_permitted(sans), excluded_subtrees=None),
                           critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    write_secret_file(key_path(data_dir), pem_key)
    write_secret_file(cert_path(data_dir), cert.public_bytes(serialization.Encoding.PEM).decode())
    return fingerprint(cert)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER bytes: what the kiosks pin (64 lowercase hex)."""
    return cert.fingerprint(hashes.SHA256()).hex()


def load_fingerprint(data_dir: Path) -> str:
    """The fingerprint of the data directory's certificate; ConfigError when there is none."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path(data_dir).read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{data_dir} has no TLS certificate: run `tally tls --data {data_dir} --name ADDRESS`") from None
    except ValueError as exc:
        raise ConfigError(f"{cert_path(data_dir)} is not a PEM certificate") from exc
    if not key_path(data_dir).exists():
        raise ConfigError(f"{key_path(data_dir)} is missing: run `tally tls --data {data_dir} --name ADDRESS`")
    return fingerprint(cert)


def shown(fp: str) -> str:
    """A fingerprint as browsers show it: upper-case hex pairs joined by colons."""
    return ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()
