"""What every `tally` command shares: which tally it talks to, and how it asks for a secret.

`--data DIR` (or `TALLY_DATA`) and `--url URL` may be given on the group (`tally --data D rounds
open r1`) or on the command (`tally rounds open --data D r1`); both fill one `Target` in the
click context. `@to_tally` gives a command the running tally's admin API (`Remote`) as its
first argument; `@on_data_dir` gives it the data directory.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from tally.cli.remote import Remote, remote

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Target:
    """Which tally a command talks to: a data directory (its server.json and admin token) or a URL."""

    data_dir: str | None = None
    url: str | None = None

    def remote(self) -> Remote:
        return remote(self.data_dir, self.url)

    def need_data_dir(self, what: str = "say where: --data DIR") -> str:
        if not self.data_dir:
            raise click.ClickException(what)
        return self.data_dir


pass_target = click.make_pass_decorator(Target, ensure=True)


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(ctx.ensure_object(Target), field, value)
    return callback


def target_options(f: F) -> F:
    """`--data` and `--url`, stored in the context's `Target` (not passed as arguments)."""
    f = click.option("--url", default=None, expose_value=False, callback=_store("url"),
                     help="The tally's address (default: from the data directory).")(f)
    f = click.option("--data", "data_dir", type=click.Path(file_okay=False), envvar="TALLY_DATA",
                     expose_value=False, callback=_store("data_dir"), help="The meeting's data directory.")(f)
    return f


def to_tally(f: Callable[..., Any]) -> Callable[..., Any]:
    """The command talks to a running tally: its admin API comes in as the first argument."""
    @target_options
    @pass_target
    @functools.wraps(f)
    def wrapper(target: Target, *args: Any, **kwargs: Any) -> Any:
        return f(target.remote(), *args, **kwargs)
    return wrapper


def on_data_dir(f: Callable[..., Any]) -> Callable[..., Any]:
    """The command works on a data directory: it comes in as the first argument (required)."""
    @target_options
    @pass_target
    @functools.wraps(f)
    def wrapper(target: Target, *args: Any, **kwargs: Any) -> Any:
        return f(target.need_data_dir(), *args, **kwargs)
    return wrapper


def secret(env_name: str, prompt: str, *, confirm: bool = True) -> str:
    """A passphrase asked for on the terminal; from the environment only in scripted meetings and tests."""
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        raise click.ClickException("no terminal to ask for the passphrase on: give it in a file "
                                   "(--key-passphrase-file) / 无法在终端询问口令：请用口令文件")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def passphrase_from_file(path: str) -> str:
    """The passphrase in the file its holder brought (the first line)."""
    try:
        text = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the passphrase file {path}") from exc
    if not text or not text[0]:
        raise click.ClickException(f"the passphrase file {path} is empty")
    return text[0]


def print_json(doc: object) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
