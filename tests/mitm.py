"""A man in the middle on loopback: an HTTP proxy between a kiosk and the tally that can rewrite answers.

The kiosk is paired through it (its pairing offer names the proxy's address), so every call the
kiosk makes crosses it, exactly as it would cross a hostile machine on the hall LAN. The proxy
forwards each request to the real tally with `requests` and hands the answer to `rewrite(path,
doc)` before passing it on: a test sets `rewrite` to change what the kiosk reads (a round's key in
a form, the receipts in a published box). It never changes what it does not understand.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

Rewrite = Callable[[str, Any], Any]


class Proxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rewrite: Rewrite | None = None
        self.rewritten: list[str] = []  # the paths whose answers were changed, in order
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                try:
                    answer = requests.request(self.command, proxy.upstream + self.path, data=body, headers=headers,
                                              timeout=30)
                except requests.RequestException:
                    self.send_error(502)
                    return
                payload = answer.content
                rewrite = proxy.rewrite
                if rewrite is not None and answer.headers.get("Content-Type", "").startswith("application/json"):
                    doc = answer.json()
                    changed = rewrite(self.path, doc)
                    if changed is not None:
                        payload = json.dumps(changed, ensure_ascii=False).encode()
                        with proxy.lock:
                            proxy.rewritten.append(self.path)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/octet-stream"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _forward

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for p in self.rewritten if p.startswith(prefix))


@contextmanager
def proxy_to(upstream: str) -> Iterator[Proxy]:
    p = Proxy(upstream)
    thread = threading.Thread(target=p.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield p
    finally:
        p.server.shutdown()
        p.server.server_close()
        thread.join(5)
