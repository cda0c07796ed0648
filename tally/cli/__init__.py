"""The `tally` command line: one click group; meeting set-up, serving, a scripted meeting, `tally count` and the demo."""
from tally.cli.main import main

__all__ = ["main"]
