"""Where the shared templates and static files are: the repo checkout, else the installed wheel."""
from __future__ import annotations

import importlib.util
from pathlib import Path


def assets_root() -> Path:
    """The folder holding `templates/` and `static/`."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "templates").is_dir() and (checkout / "static").is_dir():
        return checkout
    spec = importlib.util.find_spec("scrutineer_assets")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scrutineer_assets not found: the package was installed without its templates")
    return Path(next(iter(spec.submodule_search_locations)))


def templates_dir() -> Path:
    return assets_root() / "templates"


def static_dir() -> Path:
    return assets_root() / "static"
