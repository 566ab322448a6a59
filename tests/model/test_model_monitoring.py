"""Production accuracy from the audit sample: Wilson intervals and the drift flag."""

from __future__ import annotations

import numpy as np
import pytest

from crowdline.errors import InvalidInput
from crowdline.model import (
    Router,
    audit_accuracy,
    audit_accuracy_from_decisions,
    check_drift,
    correct_for_reference_noise,
    wilson_interval,
)
from crowdline.model.routing import RoutingDecision


@pytest.mark.parametrize(("successes", "total", "confidence", "low", "high"), [
    # Reference values: Wilson (1927) score interval, as tabulated by Newcombe (1998).
    (8, 10, 0.95, 0.4902, 0.9433),
    (0, 10, 0.95, 0.0, 0.2775),
    (10, 10, 0.95, 0.7225, 1.0),
    (81, 263, 0.95, 0.2553, 0.3662),
    (15, 148, 0.95, 0.0624, 0.1605),
    (50, 100, 0.99, 0.3753, 0.6247),  # by hand: z=2.5758
])
def test_wilson_interval_values(successes: int, total: int, confidence: float,
                                low: float, high: float) -> None:
    got_low, got_high = wilson_interval(successes, total, confidence)
    assert got_low == pytest.approx(low, abs=1e-4)
    assert got_high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_edges_and_bad_input() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low_small, high_small = wilson_interval(9, 10)
    low_big, high_big = wilson_interval(900, 1000)
    assert high_big - low_big < high_small - low_small
    with pytest.raises(InvalidInput, match="successes"):
        wilson_interval(11, 10)
    with pytest.raises(InvalidInput, match="confidence"):
        wilson_interval(1, 10, confidence=95)


def test_audit_accuracy_counts_agreement() -> None:
    estimate = audit_accuracy(["a", "b", "a", "a"], ["a", "b", "b", "a"])
    assert (estimate.correct, estimate.total, estimate.accuracy) == (3, 4, 0.75)
    assert estimate.low < 0.75 < estimate.high
    with pytest.raises(InvalidInput, match="3 model labels but 2"):
        audit_accuracy(["a", "b", "a"], ["a", "b"])
    assert audit_accuracy([], []).accuracy is None


def test_only_audited_and_answered_items_count() -> None:
    decisions = [
        RoutingDecision("1", "audit", "yes", 0.95),
        RoutingDecision("2", "audit", "yes", 0.97),
        RoutingDecision("3", "human", "yes", 0.55),   # hard item: must not bias the estimate
        RoutingDecision("4", "model", "no", 0.99),
        RoutingDecision("5", "audit", "no", 0.92),    # not answered yet
        # audited below its threshold (an audit floor): the model labels nothing there
        RoutingDecision("6", "audit", "yes", 0.85, threshold=0.9),
        RoutingDecision("7", "audit", "yes", 0.93, threshold=0.9),
    ]
    estimate = audit_accuracy_from_decisions(
        decisions, {"1": "yes", "2": "no", "3": "no", "6": "no", "7": "yes"})
    assert (estimate.correct, estimate.total) == (2, 3)


def test_drift_is_flagged_when_the_interval_falls_below() -> None:
    healthy = audit_accuracy(["y"] * 100, ["y"] * 95 + ["n"] * 5)        # 0.95, high ~0.98
    assert not check_drift(healthy, evaluation_accuracy=0.96, min_accuracy=0.9).drifted

    worse = audit_accuracy(["y"] * 200, ["y"] * 170 + ["n"] * 30)        # 0.85, high ~0.89
    report = check_drift(worse, evaluation_accuracy=0.96)
    assert report.drifted
    assert "below the evaluation accuracy 0.960" in report.reasons[0]
    floor_only = check_drift(worse, min_accuracy=0.9)
    assert floor_only.drifted
    assert "below the floor 0.900" in floor_only.reasons[0]
    assert check_drift(worse, evaluation_accuracy=0.93).drifted
    # Same accuracy on few audits (interval 0.64-0.95): too uncertain to call drift.
    few = audit_accuracy(["y"] * 20, ["y"] * 17 + ["n"] * 3)
    assert not check_drift(few, evaluation_accuracy=0.93).drifted
    # Nothing audited: never drift.
    assert not check_drift(audit_accuracy([], []), evaluation_accuracy=0.99).drifted
    with pytest.raises(InvalidInput, match="min_accuracy"):
        check_drift(worse, min_accuracy=90)


def test_router_audit_sample_estimates_true_model_accuracy() -> None:
    # The model is right 90% of the time on confident items; the audit sample should say so.
    ids = [f"i{n}" for n in range(4000)]
    router = Router(threshold=0.5, audit_rate=0.2, seed=1)
    probabilities = np.tile([0.05, 0.95], (len(ids), 1))
    decisions = router.route(ids, probabilities, ["n", "y"])
    truth = {item: ("n" if int(item[1:]) % 10 == 0 else "y") for item in ids}
    estimate = audit_accuracy_from_decisions(decisions, truth)
    assert 600 < estimate.total < 1000
    assert estimate.low <= 0.9 <= estimate.high


def test_correcting_for_noisy_human_labels() -> None:
    # Model 98% right, people 95% right, independent errors, two classes:
    # agreement = 0.98*0.95 + 0.02*0.05 = 0.932.
    observed = audit_accuracy(["y"] * 1000, ["y"] * 932 + ["n"] * 68)
    corrected = correct_for_reference_noise(observed, reference_accuracy=0.95, n_classes=2)
    assert corrected.accuracy == pytest.approx(0.98, abs=1e-9)
    assert corrected.low < 0.98 < corrected.high
    assert corrected.low > observed.low
    assert (corrected.correct, corrected.total, corrected.reference_accuracy) == (932, 1000, 0.95)
    # Perfect people: nothing to correct.
    assert correct_for_reference_noise(observed, 1.0, 2).accuracy == pytest.approx(0.932)
    with pytest.raises(InvalidInput, match="reference_accuracy"):
        correct_for_reference_noise(observed, 0.5, 2)
