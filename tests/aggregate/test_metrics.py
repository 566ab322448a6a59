"""Agreement and quality metrics: hand-computed cases, and equality with crowd-kit 1.4.2."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from crowd_simulation import add_real, pair, real_sets, run_both, simulated_answers

from crowdline.aggregate import Wawa
from crowdline.aggregate.metrics import (
    accuracy_on_aggregates,
    alpha_krippendorff,
    consistency,
    uncertainty,
)
from crowdline.errors import InvalidInput


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def test_alpha_is_one_for_full_agreement_and_matches_a_hand_computation() -> None:
    assert alpha_krippendorff(frame([(1, "a", "x"), (1, "b", "x"), (2, "a", "y"),
                                     (2, "b", "y")])) == 1.0
    # three tasks, three workers: counts x:5, y:4 over 9 pairable values
    answers = frame([(1, "a", "x"), (1, "b", "x"), (1, "c", "x"), (2, "a", "y"), (2, "b", "y"),
                     (2, "c", "x"), (3, "a", "y"), (3, "b", "y"), (3, "c", "x"),
                     (4, "a", "y")])  # task 4 has one answer: left out
    observed = (0 + 2 * 2 / 2 + 2 * 2 / 2) / 9  # Σ_t Σ_{l≠j} n_l n_j / (n_t − 1), per value
    expected = 2 * 5 * 4 / (9 * 8)
    assert alpha_krippendorff(answers) == pytest.approx(1 - observed / expected, abs=1e-12)


def test_alpha_with_a_distance_on_frozenset_labels() -> None:
    def jaccard(a: frozenset, b: frozenset) -> float:
        return 1 - len(a & b) / len(a | b)

    answers = frame([(1, "a", frozenset("ab")), (1, "b", frozenset("a")),
                     (2, "a", frozenset("c")), (2, "b", frozenset("c")),
                     (3, "a", frozenset("b")), (3, "b", frozenset("ab"))])
    nominal, graded = alpha_krippendorff(answers), alpha_krippendorff(answers, jaccard)
    assert graded > nominal  # partial overlaps count as partial agreement
    # values: {ab}:2, {a}:1, {c}:2, {b}:1; the 6 values' pairwise jaccard distances
    labels = [frozenset("ab"), frozenset("ab"), frozenset("a"), frozenset("c"), frozenset("c"),
              frozenset("b")]
    expected = sum(jaccard(x, y) for i, x in enumerate(labels) for j, y in enumerate(labels)
                   if i != j) / (6 * 5)
    observed = (2 * 0.5 + 0 + 2 * 0.5) / 6
    assert graded == pytest.approx(1 - observed / expected, abs=1e-12)


def test_alpha_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(InvalidInput):
        alpha_krippendorff(frame([]))
    with pytest.raises(InvalidInput, match="one worker"):
        alpha_krippendorff(frame([(1, "a", "x"), (1, "a", "y")]))
    with pytest.raises(InvalidInput, match="unhashable"):
        alpha_krippendorff(frame([(1, "a", ["x"]), (1, "b", ["y"])]))


def test_uncertainty_is_zero_for_unanimity_and_log_k_for_an_even_split() -> None:
    answers = frame([("t1", "a", "x"), ("t1", "b", "x"), ("t2", "a", "x"), ("t2", "b", "y"),
                     ("t2", "c", "z")])
    by_task = uncertainty(answers, aggregate=False)
    assert by_task.to_dict() == pytest.approx({"t1": 0.0, "t2": math.log(3)})
    assert uncertainty(answers) == pytest.approx(math.log(3) / 2)
    by_worker = uncertainty(answers, compute_by="worker", aggregate=False)
    assert by_worker.to_dict() == pytest.approx({"a": 0.0, "b": math.log(2), "c": 0.0})


def test_uncertainty_with_skills_spreads_the_rest_over_other_labels() -> None:
    answers = frame([("t", "a", "x"), ("t", "b", "y")])
    skills = pd.Series({"a": 1.0, "b": 0.5})
    # a: (1, 0, ... ) over {x, y}; b: (0.5, 0.5) → sums (1.5, 0.5) → shares (0.75, 0.25)
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert uncertainty(answers, skills) == pytest.approx(expected)
    with pytest.raises(InvalidInput, match="no skill"):
        uncertainty(answers, pd.Series({"a": 1.0}))
    with pytest.raises(InvalidInput, match="compute_by"):
        uncertainty(answers, compute_by="nothing")


def test_consistency_is_the_posterior_of_the_aggregated_label() -> None:
    answers = frame([("t", "a", "x"), ("t", "b", "x"), ("t", "c", "y")])
    skills = pd.Series({"a": 0.9, "b": 0.6, "c": 0.7})
    x = 0.9 * 0.6 * 0.3
    y = 0.1 * 0.4 * 0.7
    assert consistency(answers, skills) == pytest.approx(x / (x + y))
    per_task = consistency(answers, skills, by_task=True)
    assert per_task.index.tolist() == ["t"]
    # without skills: the aggregator's own (MajorityVote: agreement with the majority)
    # a, b: skill 1 (with x), c: 0 → P(x) = 1·1·(1 − 0)/1, P(y) = 0: consistency 1
    assert consistency(answers) == 1.0


def test_accuracy_on_aggregates_counts_repeats_once() -> None:
    answers = frame([("t1", "a", "x"), ("t1", "a", "x"), ("t1", "b", "y"), ("t1", "c", "x"),
                     ("t2", "a", "y"), ("t2", "b", "y")])
    assert accuracy_on_aggregates(answers) == pytest.approx(4 / 5)
    by_worker = accuracy_on_aggregates(answers, by="worker")
    assert by_worker.to_dict() == pytest.approx({"a": 1.0, "b": 0.5, "c": 1.0})
    given = pd.Series({"t1": "y"})  # t2 has no aggregate: skipped
    assert accuracy_on_aggregates(answers, aggregates=given) == pytest.approx(1 / 3)


CALLS = ("alpha", "uncertainty", "uncertainty-wawa-workers", "consistency", "consistency-tasks",
         "accuracy", "accuracy-workers")
# crowd-kit's uncertainty and consistency are row-wise applies (~1 min each on product): the
# real sets get fewer runs of them (by-task consistency on product covers the mean)
SKIP = {"product": ("uncertainty", "uncertainty-wawa-workers", "consistency"),
        "dogs": ("uncertainty-wawa-workers",)}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    frames = {"synthetic": simulated_answers()[0]}
    for name in ("dogs", "product"):
        add_real(frames, name)
    calls = {
        "alpha": ("alpha_krippendorff", {}),
        "uncertainty": ("uncertainty", {}),
        "uncertainty-wawa-workers": ("uncertainty", {"aggregator": "Wawa",
                                                     "compute_by": "worker", "aggregate": False}),
        "consistency": ("consistency", {}),
        "consistency-tasks": ("consistency", {"by_task": True}),
        "accuracy": ("accuracy_on_aggregates", {}),
        "accuracy-workers": ("accuracy_on_aggregates", {"by": "worker"}),
    }
    jobs = [{"name": f"{key}-{call}", "method": method, "params": params, "answers": key}
            for key in frames for call, (method, params) in calls.items()
            if call not in SKIP.get(key, ())]
    return run_both(tmp_path_factory.mktemp("metrics"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize(("data", "call"), [
    *[("synthetic", call) for call in CALLS],
    *real_sets(*[(data, call) for data in ("dogs", "product") for call in CALLS
                 if call not in SKIP[data]])])
def test_equals_crowdkit(results: dict, data: str, call: str) -> None:
    oracle, ours = pair(results, f"{data}-{call}")
    if "value" in oracle.meta:
        assert ours.meta["value"] == pytest.approx(oracle.meta["value"], abs=1e-9)
    else:
        expected, actual = oracle.table("value"), ours.table("value")
        assert list(expected.index) == list(actual.index)
        assert np.abs(expected.to_numpy() - actual.to_numpy()).max() < 1e-9


def test_wawa_skills_feed_uncertainty() -> None:
    answers, _ = simulated_answers(100)
    skills = Wawa().fit(answers).skills_
    assert uncertainty(answers, aggregator=Wawa()) == pytest.approx(uncertainty(answers, skills))
