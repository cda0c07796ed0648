"""The `tally` command line: one click group; meeting set-up, serving, and a scripted meeting.

Everything the console does can be driven from here over the tally's admin API, so a whole
meeting can be automated: init, serve, pair kiosks, print cards, sign in, open, close, count,
show, results, export. User errors are `click.ClickException`: one line, non-zero exit.
`--data`/`--url` may come on the group or on each command (`tally.cli.context`).
"""
from __future__ import annotations

import os
import resource

import click

from tally.cli import judges, meeting, setup
from tally.cli.context import target_options
from tally.cli.count import count
from tally.cli.countbox import count_box
from tally.cli.demo import demo


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@target_options
def main() -> None:
    """Scrutineer tally server: count, serve and run a meeting."""
    os.umask(0o077)  # data directories, databases, WALs, keys and exports: the operator's only
    # No core file, whatever the machine allows: a crash during a count would write the round key
    # and the scrutineers' shares to disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


for _command in (setup.init, setup.serve, setup.tls, *meeting.COMMANDS, judges.judges, count, count_box, demo):
    main.add_command(_command)
