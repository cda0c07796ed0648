"""The `step()` helper of the end-to-end tests: a failure says which named step of the meeting broke."""
from __future__ import annotations

import pytest

from tests.e2e.support import StepFailed, step


def test_a_failure_inside_a_step_is_prefixed_with_its_name():
    expected = r"^step 07 \(paper batch typed twice\): AssertionError: 2 differ$"
    with pytest.raises(StepFailed, match=expected), step("07 paper batch typed twice"):
        raise AssertionError("2 differ")
    with pytest.raises(StepFailed, match=r"^step 03 \(count\): KeyError: 'posts'$") as caught, step("03 count"):
        {}["posts"]
    assert isinstance(caught.value.__cause__, KeyError)


def test_a_step_that_passes_changes_nothing_and_nested_steps_keep_the_inner_name():
    with step("01 init"):
        value = 1
    assert value == 1
    with pytest.raises(StepFailed, match=r"^step 02 \(inner\): ValueError: x$"), step("01 outer"), step("02 inner"):
        raise ValueError("x")
