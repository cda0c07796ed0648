"""The translation layer of the tally's pages: Chinese first, English second.

msgids are English; `translations/zh/LC_MESSAGES/messages.po` is the first language. A page's
language comes from `?lang=`, then the `lang` cookie, then `zh`. `make translations` recompiles
the `.mo` files; a test fails when one is stale or a msgid lacks Chinese.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

LANGUAGES = ("zh", "en")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


def select_locale() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in LANGUAGES else "zh"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)

    @app.after_request
    def _remember(resp):  # type: ignore[no-untyped-def]
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            resp.set_cookie("lang", lang, max_age=3600 * 24 * 30, samesite="Lax")
        return resp

    @app.context_processor
    def _lang():  # type: ignore[no-untyped-def]
        return {"lang": select_locale(), "other_lang": "en" if select_locale() == "zh" else "zh"}
