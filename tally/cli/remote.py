"""The command line's way to a running tally: its admin JSON API with the chair's token.

`--data DIR` finds both the address (`server.json`, written by `tally serve`) and the admin
token (`secrets/admin-token`); `--url` and `TALLY_ADMIN_TOKEN` say them outright. A tally
served with `--tls` is trusted through its own certificate in the data directory (the only
certificate accepted for it), never through the system's authorities.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click


class Remote:
    def __init__(self, url: str, token: str, certificate: Path | None = None) -> None:
        import requests  # imported late: `tally serve` must let gevent patch ssl first

        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        # Passed with every request: a session's `verify` loses to REQUESTS_CA_BUNDLE from the environment.
        self.verify: bool | str = str(certificate) if certificate is not None and self.url.startswith("https://") else True

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        import requests

        try:
            resp = self.http.request(method, self.url + path, json=body, timeout=120, verify=self.verify, **kw)
        except requests.RequestException as exc:
            raise click.ClickException(f"cannot reach the tally at {self.url}: {exc.__class__.__name__}") from exc
        try:
            data = resp.json()
        except ValueError:
            raise click.ClickException(f"the tally answered HTTP {resp.status_code} without JSON") from None
        if resp.status_code >= 400:
            err = data.get("error", {}) if isinstance(data, dict) else {}
            # A refusal that found several things wrong (box_tampered) lists each on its own line.
            details = err.get("details")
            details = details if isinstance(details, list) else []
            lines = "".join(f"\n  - {d}" for d in details[1:] if isinstance(d, str))
            raise click.ClickException(f"{err.get('message', 'refused')} [{err.get('code', resp.status_code)}]{lines}")
        return data

    def download(self, path: str) -> bytes:
        """A file the tally makes (a PDF or Excel sheet); a refusal is one line, as for `call`."""
        import requests

        try:
            resp = self.http.get(self.url + path, timeout=120, verify=self.verify)
        except requests.RequestException as exc:
            raise click.ClickException(f"cannot reach the tally at {self.url}: {exc.__class__.__name__}") from exc
        if resp.status_code != 200:
            try:
                err = resp.json().get("error", {})
            except ValueError:
                err = {}
            raise click.ClickException(f"{err.get('message', 'refused')} [{err.get('code', resp.status_code)}]")
        return resp.content


def remote(data_dir: str | None, url: str | None) -> Remote:
    token = os.environ.get("TALLY_ADMIN_TOKEN")
    if data_dir:
        d = Path(data_dir)
        if not token:
            try:
                token = (d / "secrets" / "admin-token").read_text().strip()
            except FileNotFoundError:
                raise click.ClickException(f"{d} has no admin token: is it a tally data directory?") from None
        if not url:
            try:
                url = json.loads((d / "server.json").read_text())["url"]
            except (FileNotFoundError, KeyError, ValueError):
                raise click.ClickException(f"{d} has no server.json: start `tally serve --data {d}` or pass --url") from None
    if not url or not token:
        raise click.ClickException("say which tally: --data DIR, or --url URL with TALLY_ADMIN_TOKEN set")
    cert = Path(data_dir) / "tls-cert.pem" if data_dir else None
    return Remote(url, token, cert if cert is not None and cert.exists() else None)
