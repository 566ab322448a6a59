"""Routing thresholds chosen from the audit sample: the lower bound of the audited accuracy,
not the point estimate, must reach the target; too few audits keep the start threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crowdline.errors import InvalidInput
from crowdline.model.thresholds import choose_threshold

CLASSES = ("clickbait", "news")


def _audits(confidences: np.ndarray, model_right: np.ndarray,
            people_confidence: float = 1.0) -> pd.DataFrame:
    """Audited rows: the model says 'clickbait'; people say it too where the model is right."""
    return pd.DataFrame({
        "model_label": CLASSES[0], "model_confidence": confidences,
        "people_label": np.where(model_right, CLASSES[0], CLASSES[1]),
        "people_confidence": people_confidence})


def _right_from(cut: float, below: float, *, lowest: float, n: int, seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Confidences uniform in [lowest, 1); the model always right from ``cut`` up and right
    with probability ``below`` under it."""
    rng = np.random.default_rng(seed)
    confidences = rng.uniform(lowest, 1.0, n)
    return confidences, (confidences >= cut) | (rng.random(n) < below)


def test_too_few_audits_keep_the_start_threshold() -> None:
    audits = _audits(np.full(150, 0.99), np.ones(150, bool))  # perfect, but only 150
    choice = choose_threshold(audits, start_threshold=0.95, target_accuracy=0.9,
                              min_audits=200, floor=0.5)
    assert choice.threshold == 0.95
    assert choice.audited == 150
    assert "fewer than 200" in choice.reason
    assert choice.evidence == []


def test_a_model_accurate_only_at_high_confidence_gets_a_threshold_there() -> None:
    confidences, right = _right_from(0.9, 0.7, lowest=0.6, n=20_000, seed=3)
    choice = choose_threshold(_audits(confidences, right), start_threshold=0.97,
                              target_accuracy=0.98, min_audits=200, floor=0.6)
    # a set at t mixes in (0.9 - t) / (1 - t) of 70 %-rows: only t ≥ ~0.89 can reach 0.98
    assert 0.88 <= choice.threshold <= 0.91, choice
    assert choice.threshold < 0.97  # lowered: the audits prove it
    assert choice.low >= 0.98
    assert choice.routed_audits >= 200
    below = [row for row in choice.evidence if row["threshold"] < choice.threshold]
    assert below
    assert all(row["low"] < 0.98 for row in below)


def test_the_lower_bound_decides_not_the_point_estimate() -> None:
    few = _audits(np.full(300, 0.995), np.ones(300, bool))  # 300 of 300 right
    choice = choose_threshold(few, start_threshold=0.99, target_accuracy=0.995,
                              min_audits=200, floor=0.9)
    assert choice.accuracy == 1.0  # the point estimate clears the target ...
    assert choice.threshold == 0.99
    assert choice.low < 0.995
    assert "keeping the start threshold" in choice.reason  # ... its lower bound does not
    many = _audits(np.full(5000, 0.995), np.ones(5000, bool))
    proven = choose_threshold(many, start_threshold=0.99, target_accuracy=0.995,
                              min_audits=200, floor=0.9)
    assert proven.threshold == 0.9
    assert proven.low >= 0.995


def test_an_inconclusive_start_is_kept_even_where_a_higher_threshold_is_proven() -> None:
    confidences = np.r_[np.linspace(0.9, 0.985, 700), np.full(300, 0.995)]
    right = np.r_[np.arange(700) >= 14, np.ones(300, bool)]  # 98 % right, then all
    choice = choose_threshold(_audits(confidences, right), start_threshold=0.9,
                              target_accuracy=0.985, min_audits=200, floor=0.9)
    at = {row["threshold"]: row for row in choice.evidence}
    assert at[0.9]["low"] < 0.985 <= at[0.9]["high"]  # not proven, not ruled out
    assert at[0.99]["low"] >= 0.985  # proven, but higher: no reason to send more to people
    assert choice.threshold == 0.9
    assert "keeping the start threshold" in choice.reason


def test_a_model_below_target_at_the_start_threshold_is_trusted_less() -> None:
    confidences, right = _right_from(0.98, 0.8, lowest=0.9, n=5000, seed=5)
    rng = np.random.default_rng(5)
    proven = choose_threshold(_audits(confidences, right), start_threshold=0.92,
                              target_accuracy=0.98, min_audits=200, floor=0.9)
    assert proven.threshold == 0.98
    assert proven.low >= 0.98
    # 80 % right below 0.96; 245 of 250 right at 0.99: plausible there, not proven
    weak = np.r_[rng.uniform(0.9, 0.96, 3000), np.full(250, 0.99)]
    weak_right = np.r_[rng.random(3000) < 0.8, np.arange(250) >= 5]
    raised = choose_threshold(_audits(weak, weak_right), start_threshold=0.92,
                              target_accuracy=0.98, min_audits=200, floor=0.9)
    assert raised.threshold == 0.96
    assert "raised" in raised.reason
    assert raised.low < 0.98 <= raised.high
    hopeless = choose_threshold(_audits(confidences, rng.random(5000) < 0.6),
                                start_threshold=0.92, target_accuracy=0.98, floor=0.9)
    assert hopeless.threshold == 1.0
    assert "every item goes to people" in hopeless.reason


def test_disagreement_the_people_account_for_is_not_all_blamed_on_the_model() -> None:
    rng = np.random.default_rng(7)
    confidences = rng.uniform(0.9, 1.0, 3000)
    agree = rng.random(3000) < 0.97  # people agree with the model 97 % of the time
    sure_people = choose_threshold(_audits(confidences, agree, people_confidence=1.0),
                                   start_threshold=0.99, target_accuracy=0.98, floor=0.9)
    # people claiming to be always right: all 3 % disagreement is the model's error
    assert sure_people.threshold == 0.99
    assert sure_people.high < 0.98 + 0.01
    noisy_people = choose_threshold(_audits(confidences, agree, people_confidence=0.97),
                                    start_threshold=0.99, target_accuracy=0.98, floor=0.9)
    # people right 97 % of the time explain the disagreement: the model is proven at 0.9
    assert noisy_people.threshold == 0.9
    assert noisy_people.low >= 0.98
    row = noisy_people.evidence[0]
    assert row["agreement"] == pytest.approx(agree.mean())
    assert row["accuracy"] > row["agreement"]
    assert row["people_accuracy"] == pytest.approx(0.97)


@pytest.mark.parametrize(("settings", "message"), [
    ({"target_accuracy": 1.5}, "target_accuracy must be in"),
    ({"start_threshold": 0.0}, "start_threshold must be in"),
    ({"min_audits": 0}, "min_audits must be a positive integer"),
    ({"confidence": 0.3}, "confidence must be in"),
])
def test_bad_settings_are_refused(settings: dict, message: str) -> None:
    given = {"start_threshold": 0.95, "target_accuracy": 0.985} | settings
    with pytest.raises(InvalidInput, match=message):
        choose_threshold(_audits(np.full(5, 0.99), np.ones(5, bool)), **given)


def test_audits_without_the_needed_columns_are_refused() -> None:
    with pytest.raises(InvalidInput, match="people_confidence"):
        choose_threshold(pd.DataFrame({"model_label": ["a"], "model_confidence": [0.9],
                                       "people_label": ["a"]}),
                         start_threshold=0.95, target_accuracy=0.985)
