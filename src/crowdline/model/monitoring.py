"""How good is the model in production? Estimated from the audit sample, with an interval.

Audited items are ones the model was confident about but people labeled anyway (see
``routing``); the share where the people agree with the model estimates the accuracy of every
auto-label. The interval is Wilson's score interval (good at small n and near 0 or 1, unlike
the normal approximation). Drift is flagged when the whole interval lies below the accuracy
the model had at evaluation time, or below a floor the user sets.

    estimate = audit_accuracy(model_labels, human_labels)       # AccuracyEstimate
    report = check_drift(estimate, evaluation_accuracy=0.97, min_accuracy=0.9)
    report.drifted, report.reasons
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm

from crowdline.errors import InvalidInput
from crowdline.model.protocol import Model
from crowdline.model.routing import RoutingDecision


@dataclass(frozen=True)
class AccuracyEstimate:
    correct: int
    total: int
    accuracy: float | None  # None when nothing was audited yet
    low: float
    high: float
    confidence: float
    reference_accuracy: float | None = None  # set when corrected for noisy human labels

    def as_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct, "total": self.total, "accuracy": self.accuracy,
            "low": self.low, "high": self.high, "confidence": self.confidence,
            "reference_accuracy": self.reference_accuracy,
        }


@dataclass(frozen=True)
class DriftReport:
    drifted: bool
    estimate: AccuracyEstimate
    evaluation_accuracy: float | None
    min_accuracy: float | None
    reasons: list[str] = field(default_factory=list)


def wilson_interval(successes: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when ``total`` is 0."""
    if not (0.0 < confidence < 1.0):
        raise InvalidInput(
            f"confidence must be in (0, 1), got {confidence!r}", hint="0.95 is the usual choice"
        )
    if total < 0 or successes < 0 or successes > total:
        raise InvalidInput(
            f"need 0 <= successes <= total, got {successes} of {total}",
            hint="count correct audits and all audits",
        )
    if total == 0:
        return 0.0, 1.0
    z = float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    p = successes / total
    denominator = 1.0 + z * z / total
    center = (p + z * z / (2 * total)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, center - half), min(1.0, center + half)


def audit_accuracy(
    model_labels: Sequence[Any], human_labels: Sequence[Any], confidence: float = 0.95
) -> AccuracyEstimate:
    """Share of audited items where people agreed with the model, with a Wilson interval."""
    model_labels, human_labels = list(model_labels), list(human_labels)
    if len(model_labels) != len(human_labels):
        raise InvalidInput(
            f"got {len(model_labels)} model labels but {len(human_labels)} human labels",
            hint="pass the two labels of each audited item, in the same order",
        )
    total = len(model_labels)
    correct = sum(1 for ours, theirs in zip(model_labels, human_labels, strict=True)
                  if ours == theirs)
    low, high = wilson_interval(correct, total, confidence)
    accuracy = correct / total if total else None
    return AccuracyEstimate(correct, total, accuracy, low, high, confidence)


def audit_accuracy_from_decisions(
    decisions: Sequence[RoutingDecision],
    human_labels: Mapping[str, Any],
    confidence: float = 0.95,
) -> AccuracyEstimate:
    """The same, from routing decisions and the people's final labels keyed by item id.

    Only "audit" decisions count (human-routed items are the hard ones and would bias the
    estimate down), and only those at or above the threshold they were routed with (a
    router's ``audit_floor`` also audits below it, where the model labels nothing); audited
    items people have not labeled yet are left out.
    """
    audited = [d for d in decisions if d.route == "audit" and d.item_id in human_labels
               and (d.threshold is None or d.confidence >= d.threshold)]
    return audit_accuracy(
        [d.label for d in audited], [human_labels[d.item_id] for d in audited], confidence
    )


def correct_for_reference_noise(
    estimate: AccuracyEstimate, reference_accuracy: float, n_classes: int
) -> AccuracyEstimate:
    """Undo the pull-down of imperfect human labels on an agreement-based estimate.

    People who are right with probability r (errors spread evenly over the other classes)
    agree with a model of accuracy m with probability a = m·r + (1−m)(1−r)/(K−1), assuming
    their errors are independent of the model's. Solving for m, applied to the estimate and
    both interval ends (the map is increasing), clipped to [0, 1].
    """
    if n_classes < 2:
        raise InvalidInput(f"n_classes must be at least 2, got {n_classes}",
                           hint="pass the number of labels the model chooses from")
    chance = 1.0 / n_classes
    if not (chance < reference_accuracy <= 1.0):
        raise InvalidInput(
            f"reference_accuracy must be in ({chance:.3f}, 1], got {reference_accuracy!r}",
            hint="the human labels' accuracy (e.g. their mean posterior confidence)",
        )
    wrong = (1.0 - reference_accuracy) / (n_classes - 1)

    def solve(agreement: float) -> float:
        return min(1.0, max(0.0, (agreement - wrong) / (reference_accuracy - wrong)))

    accuracy = None if estimate.accuracy is None else solve(estimate.accuracy)
    return AccuracyEstimate(estimate.correct, estimate.total, accuracy, solve(estimate.low),
                            solve(estimate.high), estimate.confidence, reference_accuracy)


def check_drift(
    estimate: AccuracyEstimate,
    *,
    evaluation_accuracy: float | None = None,
    min_accuracy: float | None = None,
) -> DriftReport:
    """Flag drift when the interval's upper end is below the evaluation accuracy or the floor."""
    for name, value in (("evaluation_accuracy", evaluation_accuracy),
                        ("min_accuracy", min_accuracy)):
        if value is not None and not (0.0 <= value <= 1.0):
            raise InvalidInput(f"{name} must be in [0, 1], got {value!r}",
                               hint="pass an accuracy as a fraction, e.g. 0.9")
    reasons = []
    if evaluation_accuracy is not None and estimate.high < evaluation_accuracy:
        reasons.append(
            f"production accuracy {estimate.accuracy:.3f} (interval {estimate.low:.3f}-"
            f"{estimate.high:.3f}, {estimate.total} audits) is below the evaluation accuracy "
            f"{evaluation_accuracy:.3f}"
        )
    if min_accuracy is not None and estimate.high < min_accuracy:
        reasons.append(
            f"production accuracy {estimate.accuracy:.3f} (interval {estimate.low:.3f}-"
            f"{estimate.high:.3f}, {estimate.total} audits) is below the floor {min_accuracy:.3f}"
        )
    return DriftReport(bool(reasons), estimate, evaluation_accuracy, min_accuracy, reasons)


def expected_calibration_error(
    probabilities: np.ndarray, true_labels: Sequence[Any], classes: Sequence[Any], bins: int = 10
) -> float:
    """Mean |confidence - accuracy| over equal-width confidence bins, weighted by bin size."""
    probabilities = np.asarray(probabilities, dtype=float)
    classes = list(classes)
    truth = np.asarray(true_labels, dtype=object)
    if probabilities.shape != (len(truth), len(classes)) or len(truth) == 0:
        raise InvalidInput(
            f"probabilities have shape {probabilities.shape} for {len(truth)} labels and "
            f"{len(classes)} classes", hint="pass predict_proba of the labeled items")
    confidence = probabilities.max(axis=1)
    predicted = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
    hit = (predicted == truth).astype(float)
    edges = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for bin_index in np.unique(edges):
        in_bin = edges == bin_index
        error += in_bin.mean() * abs(confidence[in_bin].mean() - hit[in_bin].mean())
    return float(error)


def evaluate(model: Model, texts: Sequence[str], labels: Sequence[Any]) -> dict[str, float]:
    """Held-out metrics stored with a model version: accuracy, calibration error, rows."""
    texts, labels = list(texts), list(labels)
    if not texts or len(texts) != len(labels):
        raise InvalidInput(
            f"need a non-empty evaluation set with one label per text "
            f"(got {len(texts)} texts, {len(labels)} labels)",
            hint="hold out some labeled rows for evaluation",
        )
    probabilities = model.predict_proba(texts)
    classes = list(model.classes_)
    predicted = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
    accuracy = float((predicted == np.asarray(labels, dtype=object)).mean())
    return {
        "accuracy": accuracy,
        "calibration_error": expected_calibration_error(probabilities, labels, classes),
        "n_eval": float(len(texts)),
    }
