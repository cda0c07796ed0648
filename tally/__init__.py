"""Scrutineer tally server: the app factory wires config, database, translation, live feed and views.

`create_app(test_config)` does no migration, prompt or network I/O beyond reading the data
directory's secrets and the tally's signing key. `tally init` makes a data directory; `tally
serve` runs this app under gunicorn with one gevent worker.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # Flask is imported when an app is made, so `tally count` starts without it
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> "Flask":
    from flask import Flask

    from tally.config import load_config
    from tally.setup.meeting import key_passphrase, load_identity, meeting_info
    from tally.show import feed as live
    from tally.store import db
    from tally.web import admin, errors, i18n, live as live_door, pages
    from tally.web import judging as judging_api
    from tally.web import kiosk_api as api
    from tally.web.assets import static_dir, templates_dir

    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=str(static_dir()),
                static_url_path="/static")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    test_config = dict(test_config or {})
    data_dir = Path(test_config.get("DATA_DIR") or os.environ.get("TALLY_DATA") or "")
    if not str(data_dir) or str(data_dir) == ".":
        from tally.config import ConfigError

        raise ConfigError("say where the meeting's data directory is: TALLY_DATA or --data")
    env = dict(os.environ)
    env.update({k: str(v) for k, v in test_config.get("ENV", {}).items()})
    app.config.update(load_config(data_dir, env))
    app.config.update({k: v for k, v in test_config.items() if k != "ENV"})

    db.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    live.init_app(app)
    live_door.init_app()
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(judging_api.bp)
    app.register_blueprint(pages.bp)

    passphrase = key_passphrase(data_dir, env)
    app.extensions["tally.identity"] = load_identity(data_dir, passphrase)
    app.extensions["tally.key_passphrase"] = passphrase
    with app.app_context():
        with app.extensions["tally.read_sessionmaker"]() as s:
            info = meeting_info(s)
    app.extensions["tally.setup.meeting"] = info
    return app
