"""Scrutineer tally server: the app factory wires config, database, translation, live feed and views.

`create_app(test_config)` does no migration, prompt or network I/O beyond reading the data
directory's secrets and the tally's signing key. `tally init` makes a data directory; `tally
serve` runs this app under gunicorn with one gevent worker.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported when an app is made, so `tally count` starts without it
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    from flask import Flask

    from tally.config import ConfigError, Secret, load_config
    from tally.hall.kiosks import KioskKeys
    from tally.services import EXTENSION, Services
    from tally.setup.custody import ScoreKeys
    from tally.setup.meeting import key_passphrase, load_identity, meeting_info
    from tally.show import feed
    from tally.store import db
    from tally.web import admin, auth, body, errors, headers, i18n, judging, kiosk_api, live, logins, pages, sessions
    from tally.web.assets import static_dir, templates_dir

    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=str(static_dir()),
                static_url_path="/static")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Order is data: a result's grades, directions and components keep the meeting file's order.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    test_config = dict(test_config or {})
    given = test_config.pop("KEY_PASSPHRASE", None)  # typed by the holder at `tally serve`; never in app.config
    data_dir = Path(test_config.get("DATA_DIR") or os.environ.get("TALLY_DATA") or "")
    if not str(data_dir) or str(data_dir) == ".":
        raise ConfigError("say where the meeting's data directory is: TALLY_DATA or --data")
    env = dict(os.environ)
    env.update({k: str(v) for k, v in test_config.get("ENV", {}).items()})
    app.config.update(load_config(data_dir, env))
    app.config.update({k: v for k, v in test_config.items() if k != "ENV"})

    if app.config.get("TLS"):  # `tally serve --tls`: offers carry the pin, cookies are Secure
        from tally.setup.tls import load_fingerprint, shown

        fp = load_fingerprint(data_dir)
        app.config.update(TLS_FINGERPRINT=fp, TLS_FINGERPRINT_TEXT=shown(fp), SESSION_COOKIE_SECURE=True,
                          PREFERRED_URL_SCHEME="https")
    passphrase = given if isinstance(given, Secret) else Secret(key_passphrase(data_dir, env))
    store = db.Store.open(app.config["DATABASE_URL"])
    with store.reader() as s:
        info = meeting_info(s)
    app.extensions[EXTENSION] = Services(meeting=info, store=store, identity=load_identity(data_dir, passphrase.value),
                                         score_keys=ScoreKeys(passphrase), kiosk_keys=KioskKeys())
    if test_config.get("CLOCK"):
        app.extensions[EXTENSION].now = test_config["CLOCK"]
    sessions.init_app(app)
    logins.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    app.before_request(auth.check_csrf)  # first: a forged request is refused before its body is even read
    body.init_app(app)
    i18n.init_app(app)
    feed.init_app(app)
    live.init_app()
    headers.wrap_wsgi(app)  # after the live feed's middleware: its answers carry the headers too
    for blueprint in (kiosk_api.bp, admin.bp, judging.bp, pages.bp):
        app.register_blueprint(blueprint)
    return app
