"""The router: thresholds, a reproducible audit sample of the right size, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from crowdline.errors import InvalidInput
from crowdline.model import Router, decisions_frame, route_counts

CLASSES = ["no", "yes"]


def probabilities_for(confidences: list[float]) -> np.ndarray:
    return np.array([[1 - c, c] for c in confidences])


def test_confident_items_go_to_the_model_uncertain_to_people() -> None:
    router = Router(threshold=0.8, audit_rate=0.0)
    decisions = router.route(["a", "b", "c", "d"], probabilities_for([0.95, 0.6, 0.8, 0.1]),
                             CLASSES, model_version=2)
    assert [d.route for d in decisions] == ["model", "human", "model", "model"]
    assert [d.label for d in decisions] == ["yes", "yes", "yes", "no"]
    assert decisions[3].confidence == pytest.approx(0.9)
    assert [d.labeled_by for d in decisions] == ["model", "human", "model", "model"]
    assert all(d.model_version == 2 for d in decisions)


def test_audit_share_matches_the_rate_and_only_takes_confident_items() -> None:
    router = Router(threshold=0.9, audit_rate=0.1, seed=3)
    n = 20_000
    rng = np.random.default_rng(0)
    confidences = rng.uniform(0.5, 1.0, n)
    decisions = router.route(range(n), probabilities_for(list(confidences)), CLASSES)
    confident = confidences >= 0.9
    routes = np.array([d.route for d in decisions])
    assert set(routes[~confident]) == {"human"}
    audited_share = (routes[confident] == "audit").mean()
    # Binomial sd at n~4000 and p=0.1 is ~0.005; 0.02 is four sd.
    assert abs(audited_share - 0.1) < 0.02
    assert route_counts(decisions)["audit"] == (routes == "audit").sum()


def test_an_audit_floor_below_the_threshold_audits_the_uncertain_band_too() -> None:
    n = 20_000
    confidences = np.random.default_rng(1).uniform(0.5, 1.0, n)
    floored = Router(threshold=0.9, audit_rate=0.1, seed=3, audit_floor=0.7)
    routes = np.array([d.route for d in floored.route(range(n), probabilities_for(
        list(confidences)), CLASSES)])
    band = (confidences >= 0.7) & (confidences < 0.9)
    assert set(routes[confidences < 0.7]) == {"human"}  # below the floor: never audited
    assert set(routes[band]) == {"human", "audit"}
    assert abs((routes[band] == "audit").mean() - 0.1) < 0.02
    # above the threshold the same items are audited as without a floor (same draw)
    plain = np.array([d.route for d in Router(threshold=0.9, audit_rate=0.1, seed=3).route(
        range(n), probabilities_for(list(confidences)), CLASSES)])
    assert (routes[confidences >= 0.9] == plain[confidences >= 0.9]).all()
    with pytest.raises(InvalidInput, match="audit_floor must be in"):
        Router(threshold=0.9, audit_floor=0.95)


def test_decisions_are_reproducible_across_orders_and_batches() -> None:
    router = Router(threshold=0.5, audit_rate=0.3, seed=11)
    ids = [f"item-{i}" for i in range(500)]
    probabilities = probabilities_for([0.99] * 500)
    once = {d.item_id: d.route for d in router.route(ids, probabilities, CLASSES)}
    reversed_ids = ids[::-1]
    again = {d.item_id: d.route
             for d in Router(0.5, 0.3, seed=11).route(reversed_ids, probabilities, CLASSES)}
    in_batches = {}
    for start in range(0, 500, 64):
        batch = ids[start:start + 64]
        in_batches.update({d.item_id: d.route
                           for d in router.route(batch, probabilities[:len(batch)], CLASSES)})
    assert once == again == in_batches
    other_seed = {d.item_id: d.route
                  for d in Router(0.5, 0.3, seed=12).route(ids, probabilities, CLASSES)}
    assert other_seed != once


def test_decisions_frame_lists_who_labels_each_item() -> None:
    decisions = Router(0.9, 0.0).route([1, 2], probabilities_for([0.95, 0.6]), CLASSES,
                                       model_version=4)
    frame = decisions_frame(decisions)
    assert list(frame.columns) == ["item_id", "route", "label", "confidence", "model_version",
                                   "labeled_by", "threshold"]
    assert frame.to_dict("records")[1] == {
        "item_id": "2", "route": "human", "label": "yes", "confidence": 0.6,
        "model_version": 4, "labeled_by": "human", "threshold": 0.9}


@pytest.mark.parametrize(("threshold", "audit_rate", "message"), [
    (0.0, 0.1, "threshold"), (1.5, 0.1, "threshold"), (0.9, -0.1, "audit_rate"),
    (0.9, 2, "audit_rate"), ("0.9", 0.1, "threshold"),
])
def test_bad_router_settings(threshold: object, audit_rate: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Router(threshold, audit_rate)  # type: ignore[arg-type]


@pytest.mark.parametrize(("probabilities", "message"), [
    (np.array([[0.5, 0.5]]), "shape"),
    (np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]), "shape"),
    (np.array([[2.0, -1.0], [0.5, 0.5]]), r"\[0, 1\]"),
    (np.array([[np.nan, 0.5], [0.5, 0.5]]), "finite"),
    (np.array([[0.2, 0.2], [0.5, 0.5]]), "sum to 1"),
])
def test_bad_probabilities(probabilities: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Router().route(["a", "b"], probabilities, CLASSES)
