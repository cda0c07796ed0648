"""The rules engine: every count of a meeting, as pure functions over frozen values.

Plain values in, results out: no Flask, no SQLAlchemy, no clock, no I/O, only the standard
library (a test holds this). Numbers are Fraction and Decimal, never floats. `tally count`, the
live tally and the judge-scoring screen all count with this package and nothing else.
"""
from tally.rules.attendance import quorum_met
from tally.rules.errors import BallotInputError, MissingAttendance, MissingComponent, RulesError, ScoreValueError, ThresholdError
from tally.rules.kinds import RoundKind
from tally.rules.meeting import Ballot, MeetingCount, RoundCounter, count_meeting, new_counter, parse_ballot, results
from tally.rules.model import (
                                DEFAULT_GRADES,
                                SCORE_TIE_BREAKS,
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
from tally.rules.presets import PRESETS, resolve
from tally.rules.ranking import rank
from tally.rules.rounding import ROUNDING_MODES, Rounding, percent, quantize
from tally.rules.score import score_value
from tally.rules.threshold import Threshold
from tally.rules.trimmed import ScoreResult, rank_contestants, trimmed_result

__all__ = [
    "DEFAULT_GRADES", "PRESETS", "ROUNDING_MODES", "SCORE_TIE_BREAKS", "Attendance", "Ballot",
    "BallotInputError", "Component", "CompositeRound", "DecideRound", "EvaluateRound",
    "MeetingCount", "MissingAttendance", "MissingComponent", "Plan", "Post", "RecommendRound", "RoundCounter",
    "RoundKind", "RoundPlan", "Rounding", "RulesError", "ScoreResult", "ScoreRound", "ScoreValueError", "Threshold",
    "ThresholdError",
    "count_meeting", "new_counter", "parse_ballot", "percent", "quantize", "quorum_met", "rank",
    "rank_contestants", "resolve", "results", "score_value", "trimmed_result",
]
