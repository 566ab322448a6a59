"""Choose the routing threshold from the audit sample instead of fixing it.

Audited items are a random sample of the items the model scored (see ``Router.audit_floor``)
that people labeled without the model's vote. For a candidate threshold t, the audited items
with confidence ≥ t are a random sample of the items the model would label at t, so their
agreement with people estimates the accuracy of those auto-labels. ``choose_threshold``
moves the configured start threshold only on evidence: it lowers it to the lowest candidate
whose accuracy is proven — the lower end of the Wilson interval, not the point estimate,
reaches ``target_accuracy`` (a one-sided ``confidence`` bound: 95 % means the lower end of
the two-sided 90 % interval) — so a small audit cannot over-trust the model. It raises it only
when the whole interval at the start lies below the target: to the lowest candidate proven to
reach it, else the lowest the evidence does not rule out, else 1.0 (every item to people).
Otherwise, and with fewer than ``min_audits`` audited items, it keeps the start threshold.

People are not always right, and agreement with imperfect people understates the model: the
estimate (and both ends of its interval) is corrected for the people's noise with
``monitoring.correct_for_reference_noise``, taking their accuracy to be the mean confidence of
their aggregated labels on those audits. Aggregated confidences run high, so this corrects too
little rather than too much: the estimate stays on the cautious side.

    choice = choose_threshold(audits, start_threshold=0.95, target_accuracy=0.985)
    choice.threshold, choice.reason, choice.evidence  # evidence: one row per candidate
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crowdline.errors import InvalidInput
from crowdline.model.monitoring import (
    AccuracyEstimate,
    correct_for_reference_noise,
    wilson_interval,
)

AUDIT_COLUMNS = ("model_label", "model_confidence", "people_label", "people_confidence")
GRID_STEP = 0.01  # candidate thresholds: every step from the floor, plus 0.995 and 0.999


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold, why, and the evidence table it was read from."""

    threshold: float
    reason: str
    start_threshold: float
    target_accuracy: float
    audited: int  # audited items with a people's label, at any confidence
    routed_audits: int | None = None  # audited items at or above the chosen threshold
    accuracy: float | None = None  # their estimated accuracy, and its interval
    low: float | None = None
    high: float | None = None
    evidence: list[dict[str, float]] = field(default_factory=list)

    def as_numbers(self) -> dict[str, float]:
        """The figures a model card keeps (numbers only; None left out)."""
        figures = {"threshold": self.threshold, "start_threshold": self.start_threshold,
                   "target_accuracy": self.target_accuracy, "audited": self.audited,
                   "routed_audits": self.routed_audits, "audit_accuracy": self.accuracy,
                   "audit_accuracy_low": self.low, "audit_accuracy_high": self.high}
        return {k: float(v) for k, v in figures.items() if v is not None}


def _agreement(audits: pd.DataFrame) -> np.ndarray:
    return audits["people_label"].astype(str).to_numpy() == \
        audits["model_label"].astype(str).to_numpy()


def choose_threshold(
    audits: pd.DataFrame,
    *,
    start_threshold: float,
    target_accuracy: float,
    min_audits: int = 200,
    floor: float = 0.5,
    confidence: float = 0.95,
) -> ThresholdChoice:
    """The lowest threshold whose audited accuracy (interval's lower end) meets the target.

    ``audits``: one row per audited item with ``model_label``, ``model_confidence`` (the
    model's probability when it routed the item), ``people_label`` and ``people_confidence``
    (the people's aggregated label, computed without the model's vote). Candidates are a
    grid from ``floor`` (every 0.01, then 0.995 and 0.999) and the start threshold; one needs
    ``min_audits`` audited items at or above it to be chosen.
    """
    _check_settings(start_threshold, target_accuracy, min_audits, floor, confidence)
    missing = [c for c in AUDIT_COLUMNS if c not in audits.columns]
    if missing:
        raise InvalidInput(f"audits lack column(s) {missing} (they have {list(audits.columns)})",
                           hint="one row per audited item: " + ", ".join(AUDIT_COLUMNS))
    audits = audits.dropna(subset=list(AUDIT_COLUMNS))
    audits = audits[audits["people_label"].astype(str) != ""]
    given = dict(start_threshold=start_threshold, target_accuracy=target_accuracy,
                 audited=len(audits))
    if len(audits) < min_audits:
        return ThresholdChoice(start_threshold, f"{len(audits)} audited items, fewer than "
                               f"{min_audits}: keeping the start threshold {start_threshold}",
                               **given)
    confidences = audits["model_confidence"].astype(float).to_numpy()
    order = np.argsort(confidences, kind="stable")
    confidences = confidences[order]
    agree = _agreement(audits)[order].astype(float)
    people = audits["people_confidence"].astype(float).clip(0.0, 1.0).to_numpy()[order]
    n_classes = max(2, len(set(audits["people_label"].astype(str))
                           | set(audits["model_label"].astype(str))))
    # The items at or above a candidate are a suffix of the ascending order.
    agree_sums = np.append(np.cumsum(agree[::-1])[::-1], 0.0)
    people_sums = np.append(np.cumsum(people[::-1])[::-1], 0.0)
    evidence = []
    for candidate in candidate_thresholds(floor, start_threshold):
        first = int(np.searchsorted(confidences, candidate - 1e-12, side="left"))
        n = len(confidences) - first
        if n == 0:
            continue
        agreed = int(round(agree_sums[first]))
        low, high = wilson_interval(agreed, n, 2.0 * confidence - 1.0)
        estimate = AccuracyEstimate(agreed, n, agreed / n, low, high, confidence)
        reference = float(people_sums[first]) / n
        if reference > 1.0 / n_classes:
            estimate = correct_for_reference_noise(estimate, reference, n_classes)
        evidence.append({"threshold": candidate, "audits": n, "agreement": agreed / n,
                         "people_accuracy": reference, "accuracy": float(estimate.accuracy),
                         "low": estimate.low, "high": estimate.high})
    evidence.sort(key=lambda row: row["threshold"])
    enough = [row for row in evidence if row["audits"] >= min_audits]
    proven = [row for row in enough if row["low"] >= target_accuracy]
    lower = [row for row in proven if row["threshold"] <= start_threshold]
    bound = f"one-sided {confidence:.0%} lower bound"
    if lower:
        best = lower[0]
        return _chosen(best, f"lowest threshold whose {best['audits']} audits give accuracy "
                       f"≥ {best['low']:.4f} ({bound}) ≥ target {target_accuracy}",
                       evidence, given)
    at_start = next((row for row in enough if row["threshold"] >= start_threshold), None)
    if at_start is None or at_start["high"] >= target_accuracy:
        figures = "" if at_start is None else (
            f" (at {at_start['threshold']}: {at_start['audits']} audits, accuracy "
            f"{at_start['low']:.4f}-{at_start['high']:.4f})")
        return ThresholdChoice(
            start_threshold, f"no threshold up to the start proven to reach "
            f"{target_accuracy} ({bound}), and the start not ruled out{figures}: keeping the "
            f"start threshold {start_threshold}",
            routed_audits=None if at_start is None else at_start["audits"],
            accuracy=None if at_start is None else at_start["accuracy"],
            low=None if at_start is None else at_start["low"],
            high=None if at_start is None else at_start["high"],
            evidence=evidence, **given)
    ruled_out = (f"at the start threshold {start_threshold} the model is below target "
                 f"{target_accuracy} (accuracy ≤ {at_start['high']:.4f})")
    if proven:
        best = proven[0]
        return _chosen(best, f"{ruled_out}; raised to the lowest threshold proven to reach it "
                       f"({best['audits']} audits, accuracy ≥ {best['low']:.4f})",
                       evidence, given)
    plausible = [row for row in enough if row["threshold"] > start_threshold
                 and row["high"] >= target_accuracy]
    if plausible:
        return _chosen(plausible[0], f"{ruled_out}; raised to the lowest threshold the audits "
                       "do not rule out", evidence, given)
    return ThresholdChoice(
        1.0, f"the audits rule out target {target_accuracy} at every threshold: every item "
        "goes to people", evidence=evidence, **given)


def candidate_thresholds(floor: float, start_threshold: float) -> list[float]:
    """Every GRID_STEP from ``floor`` below 0.99, then 0.99, 0.995, 0.999, and the start."""
    grid = {round(float(v), 4) for v in np.arange(floor, 0.99, GRID_STEP)}
    grid |= {0.99, 0.995, 0.999, round(float(start_threshold), 4)}
    return sorted(v for v in grid if v >= floor)


def _chosen(row: dict[str, float], reason: str, evidence: list[dict[str, float]],
            given: dict[str, Any]) -> ThresholdChoice:
    return ThresholdChoice(row["threshold"], reason, routed_audits=int(row["audits"]),
                           accuracy=row["accuracy"], low=row["low"], high=row["high"],
                           evidence=evidence, **given)


def _check_settings(start_threshold: float, target_accuracy: float, min_audits: int,
                    floor: float, confidence: float) -> None:
    for name, value in (("start_threshold", start_threshold), ("floor", floor)):
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not 0.0 < value <= 1.0:
            raise InvalidInput(f"{name} must be in (0, 1], got {value!r}",
                               hint="a probability such as 0.95")
    if isinstance(target_accuracy, bool) or not isinstance(target_accuracy, int | float) or \
            not 0.0 < target_accuracy < 1.0:
        raise InvalidInput(f"target_accuracy must be in (0, 1), got {target_accuracy!r}",
                           hint="the accuracy auto-labels must reach, such as 0.985")
    if isinstance(min_audits, bool) or not isinstance(min_audits, int) or min_audits < 1:
        raise InvalidInput(f"min_audits must be a positive integer, got {min_audits!r}",
                           hint="such as 200: fewer audited items keep the start threshold")
    if not 0.5 < confidence < 1.0:
        raise InvalidInput(f"confidence must be in (0.5, 1), got {confidence!r}",
                           hint="the one-sided level of the lower bound; 0.95 is usual")
