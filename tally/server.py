"""Serving the tally: gunicorn with one gevent worker (what measured best on these machines).

gevent must patch the standard library before anything else is imported, so the worker class
does it; `async_mode="gevent"` is passed explicitly because auto-detection picks the wrong mode
under other servers. Several workers need `TALLY_MESSAGE_QUEUE=redis://…` and PostgreSQL.
"""
from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from tally.config import Secret


class TallyServer(BaseApplication):
    def __init__(self, data_dir: str, bind: str, workers: int = 1, extra: dict[str, Any] | None = None,
                 app_config: dict[str, Any] | None = None, passphrase: Secret | None = None) -> None:
        self.data_dir = data_dir
        self.app_config = app_config or {}
        self.passphrase = passphrase
        self.options = {
            "bind": bind,
            "workers": workers,
            "worker_class": "gevent",
            "worker_connections": 4000,
            "control_socket_disable": True,
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            **(extra or {}),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from tally import create_app

        config: dict[str, Any] = {"DATA_DIR": self.data_dir, "ASYNC_MODE": "gevent", **self.app_config}
        if self.passphrase is not None:
            config["KEY_PASSPHRASE"] = self.passphrase  # typed at the terminal: never in the environment
        return create_app(config)


def serve(data_dir: str, host: str, port: int, workers: int = 1, *, public_url: str | None = None,
          tls: bool = False, passphrase: Secret | None = None) -> None:
    """Serve the data directory; with `tls`, HTTPS with its certificate (`tally.setup.tls`)."""
    from pathlib import Path

    from tally.setup.tls import cert_path, key_path

    extra: dict[str, Any] = {}
    if tls:
        extra = {"certfile": str(cert_path(Path(data_dir))), "keyfile": str(key_path(Path(data_dir)))}
    app_config: dict[str, Any] = {"TLS": tls}
    if public_url:
        app_config["PUBLIC_URL"] = public_url.rstrip("/")
    TallyServer(data_dir, f"{host}:{port}", workers, extra, app_config, passphrase).run()
