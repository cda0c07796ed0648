"""The meeting file: loading, validating and writing back the plan of a meeting (CONTRACT.md).

`load_plan(path)` reads YAML or JSON (only `tally.plan.load` touches files), `parse_plan(data,
source)` validates a mapping, `dump_plan(plan, attendance)` writes one back. The plan's frozen
values (`Plan`, one dataclass per round kind) live in `tally.rules.model` so that the pure
engine needs nothing from here; they are re-exported for convenience.
"""
from tally.plan.dump import dump_plan
from tally.plan.errors import PlanError
from tally.plan.load import load_plan, read_mapping
from tally.plan.parse import KINDS, parse_plan
from tally.rules.model import (
                               Attendance,
                               Component,
                               CompositeRound,
                               DecideRound,
                               EvaluateRound,
                               Plan,
                               Post,
                               RecommendRound,
                               RoundPlan,
                               ScoreRound,
)

__all__ = [
    "KINDS", "Attendance", "Component", "CompositeRound", "DecideRound", "EvaluateRound", "Plan", "PlanError",
    "Post", "RecommendRound", "RoundPlan", "ScoreRound", "dump_plan", "load_plan", "parse_plan", "read_mapping",
]
