"""Toloka's dynamic overlap formula: worked examples and the stopping rule."""

from __future__ import annotations

import pytest

from crowdline.aggregate.dynamic_overlap import needs_more_answers, task_posterior, worker_accuracy
from crowdline.errors import InvalidInput

THREE = ["OK", "BAD", "NOT_SURE"]


def test_worker_accuracy_is_smoothed() -> None:
    assert worker_accuracy(0, 0) == 0.5
    assert worker_accuracy(9, 10) == pytest.approx(9.5 / 11)
    assert worker_accuracy(3, 4, smoothing=1.0) == pytest.approx(4 / 6)


@pytest.mark.parametrize(("correct", "total", "smoothing"), [(5, 4, 0.5), (-1, 3, 0.5),
                                                             (1, 2, 0.0)])
def test_worker_accuracy_refuses_impossible_counts(correct: int, total: int,
                                                   smoothing: float) -> None:
    with pytest.raises(InvalidInput):
        worker_accuracy(correct, total, smoothing)


def test_tolokas_worked_examples() -> None:
    agree = task_posterior(["OK", "OK"], [0.7, 0.9], THREE)
    assert agree["OK"] == pytest.approx(0.977, abs=5e-4)
    disagree = task_posterior(["OK", "BAD"], [0.7, 0.9], THREE)
    assert disagree["BAD"] == pytest.approx(0.761, abs=5e-4)
    two_classes = task_posterior(["OK", "BAD"], [0.7, 0.9], ["OK", "BAD"])
    assert two_classes["OK"] == pytest.approx(0.206, abs=5e-4)
    assert sum(two_classes.values()) == pytest.approx(1.0)


def test_no_answers_give_the_prior_and_the_model_votes_as_a_prior() -> None:
    assert task_posterior([], [], ["a", "b"]) == {"a": 0.5, "b": 0.5}
    model_prior = {"OK": 0.9, "BAD": 0.1}
    with_model = task_posterior(["BAD"], [0.7], ["OK", "BAD"], prior=model_prior)
    # 0.9·0.3 against 0.1·0.7: the confident model outweighs one mediocre worker
    assert with_model["OK"] == pytest.approx(0.27 / 0.34)


def test_task_posterior_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput, match="not among the classes"):
        task_posterior(["maybe"], [0.8], ["yes", "no"])
    with pytest.raises(InvalidInput, match="2 answers but 1 accuracies"):
        task_posterior(["yes", "no"], [0.8], ["yes", "no"])
    with pytest.raises(InvalidInput, match="at least two classes"):
        task_posterior(["yes"], [0.8], ["yes"])
    with pytest.raises(InvalidInput, match="probability 0"):
        task_posterior([], [], ["yes", "no"], prior={"yes": 0.0, "no": 0.0})


def test_more_answers_only_while_uncertain_and_below_max_overlap() -> None:
    limits = {"min_overlap": 2, "max_overlap": 5, "min_confidence": 0.9}
    sure = {"OK": 0.977, "BAD": 0.023}
    unsure = {"OK": 0.761, "BAD": 0.239}
    assert needs_more_answers(sure, 1, **limits)  # below min overlap, however sure
    assert not needs_more_answers(sure, 2, **limits)
    assert needs_more_answers(unsure, 2, **limits)
    assert not needs_more_answers(unsure, 5, **limits)  # max overlap reached
