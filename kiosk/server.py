"""Serving the kiosk's local app with gunicorn: one worker, a few threads (`gthread`).

One worker because the agent holds the voter's session and the desk's unlock in memory;
threads so a slow card check never blocks the screen's other requests. The agent and its
background threads (sender, heartbeat) are made in the worker after the fork, never in the
arbiter: threads do not survive a fork. Flask's development server is never used.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from kiosk.agent import Agent
from kiosk.app import create_app


def _post_worker_init(worker: Any) -> None:
    worker.wsgi.extensions["kiosk_agent"].start()


def _worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask) and "kiosk_agent" in app.extensions:
        app.extensions["kiosk_agent"].stop()


class KioskServer(BaseApplication):
    def __init__(self, make_agent: Callable[[], Agent], host: str, port: int, threads: int = 8,
                 allowed_hosts: tuple[str, ...] = ()) -> None:
        self.make_agent = make_agent
        # The Host names the screens answer to: the address served on (not a wildcard) and those given.
        self.allowed_hosts = tuple(h for h in (host, *allowed_hosts) if h not in ("0.0.0.0", "::"))
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "graceful_timeout": 10,
            "preload_app": False,
            "control_socket_disable": True,
            "accesslog": None,
            "errorlog": "-",
            "post_worker_init": _post_worker_init,
            "worker_exit": _worker_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Runs in the worker (preload_app is off): the outbox connection is opened after the fork.
        return create_app(self.make_agent(), {"KIOSK_HOSTS": self.allowed_hosts})


def serve(make_agent: Callable[[], Agent], host: str, port: int, allowed_hosts: tuple[str, ...] = ()) -> None:
    KioskServer(make_agent, host, port, allowed_hosts=allowed_hosts).run()
