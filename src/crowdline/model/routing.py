"""The router: for each new item, let the model label it or send it to people.

An item whose top probability reaches ``threshold`` is auto-labeled by the model ("model"),
except for a random ``audit_rate`` share of those, which go to people anyway ("audit") so the
model's production accuracy can be measured (see ``monitoring``). The rest go to people
("human"). With ``audit_floor`` below the threshold the audit sample also covers items with
confidence in [audit_floor, threshold): people label those anyway, and auditing them (people
only, no model vote) is what lets ``thresholds.choose_threshold`` prove that a lower
threshold is safe. The audit draw is a hash of (seed, item id), not a random generator's state, so
routing the same items again — in another order, another batch, after a restart — gives the
same decisions.

    router = Router(threshold=0.9, audit_rate=0.05, seed=7)
    decisions = router.route(ids, model.predict_proba(texts), model.classes_, model_version=3)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from crowdline.errors import InvalidInput

Route = Literal["model", "human", "audit"]
ROUTES: tuple[Route, ...] = ("model", "human", "audit")


@dataclass(frozen=True)
class RoutingDecision:
    """Where one item went and why: the model's label and confidence, and which model."""

    item_id: str
    route: Route
    label: Any  # the model's most probable label
    confidence: float  # the model's probability of that label
    model_version: int | None = None
    # the threshold in effect: an audit below it (see audit_floor) measured a band the model
    # did not label, so production-accuracy estimates leave it out
    threshold: float | None = None

    @property
    def labeled_by(self) -> Literal["model", "human"]:
        """Who makes this item's final label: the model only when it was not sent to people."""
        return "model" if self.route == "model" else "human"

    @property
    def needs_human(self) -> bool:
        return self.route != "model"


class Router:
    """Decide "model", "human" or "audit" per item, reproducibly (see the module docstring)."""

    def __init__(self, threshold: float = 0.9, audit_rate: float = 0.05, seed: int = 0,
                 audit_floor: float | None = None) -> None:
        if not (isinstance(threshold, int | float) and 0.0 < threshold <= 1.0):
            raise InvalidInput(
                f"threshold must be in (0, 1], got {threshold!r}",
                hint="a probability such as 0.9; 1.0 sends nearly everything to people",
            )
        if not (isinstance(audit_rate, int | float) and 0.0 <= audit_rate <= 1.0):
            raise InvalidInput(
                f"audit_rate must be in [0, 1], got {audit_rate!r}",
                hint="a share such as 0.05 (5% of confident items are checked by people)",
            )
        if audit_floor is not None and not (
                isinstance(audit_floor, int | float) and 0.0 < audit_floor <= threshold):
            raise InvalidInput(
                f"audit_floor must be in (0, threshold={threshold}], got {audit_floor!r}",
                hint="the lowest confidence audited, such as 0.8; leave it out to audit only "
                     "items at or above the threshold")
        self.threshold = float(threshold)
        self.audit_rate = float(audit_rate)
        self.seed = int(seed)
        self.audit_floor = self.threshold if audit_floor is None else float(audit_floor)

    def audit_draw(self, item_id: object) -> float:
        """A uniform number in [0, 1) fixed by (seed, item id); audited when below the rate."""
        digest = hashlib.blake2b(f"{self.seed}\x1f{item_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    def route(
        self,
        item_ids: Sequence[object],
        probabilities: np.ndarray,
        classes: Sequence[object],
        *,
        model_version: int | None = None,
    ) -> list[RoutingDecision]:
        """One decision per item; ``probabilities`` is ``model.predict_proba`` of the items."""
        item_ids = list(item_ids)
        probabilities = _check_probabilities(probabilities, len(item_ids), len(classes))
        classes = list(classes)
        top = probabilities.argmax(axis=1) if len(item_ids) else np.zeros(0, dtype=int)
        decisions = []
        for item_id, row, best in zip(item_ids, probabilities, top, strict=True):
            confidence = float(row[best])
            route: Route
            if confidence >= self.audit_floor and self.audit_draw(item_id) < self.audit_rate:
                route = "audit"
            elif confidence >= self.threshold:
                route = "model"
            else:
                route = "human"
            decisions.append(
                RoutingDecision(str(item_id), route, _plain(classes[best]), confidence,
                                model_version, self.threshold)
            )
        return decisions

    def __repr__(self) -> str:
        floor = "" if self.audit_floor == self.threshold else f", audit_floor={self.audit_floor}"
        return (f"Router(threshold={self.threshold}, audit_rate={self.audit_rate}, "
                f"seed={self.seed}{floor})")


def decisions_frame(decisions: Sequence[RoutingDecision]) -> pd.DataFrame:
    """The decisions as a table: item_id, route, label, confidence, model_version, labeled_by,
    threshold."""
    columns = ["item_id", "route", "label", "confidence", "model_version", "labeled_by",
               "threshold"]
    rows = [asdict(decision) | {"labeled_by": decision.labeled_by} for decision in decisions]
    return pd.DataFrame(rows, columns=columns)


def route_counts(decisions: Sequence[RoutingDecision]) -> dict[str, int]:
    counts = dict.fromkeys(ROUTES, 0)
    for decision in decisions:
        counts[decision.route] += 1
    return counts


def _check_probabilities(probabilities: Any, n_items: int, n_classes: int) -> np.ndarray:
    array = np.asarray(probabilities, dtype=float)
    if array.ndim != 2 or array.shape != (n_items, n_classes):
        raise InvalidInput(
            f"probabilities have shape {array.shape}, expected ({n_items}, {n_classes})",
            hint="pass model.predict_proba(texts) for the same items, and model.classes_",
        )
    if n_items and (not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1):
        raise InvalidInput(
            "probabilities must be finite numbers in [0, 1]",
            hint="pass model.predict_proba output, not scores or logits",
        )
    if n_items and not np.allclose(array.sum(axis=1), 1.0, atol=1e-6):
        raise InvalidInput(
            "each row of probabilities must sum to 1",
            hint="pass model.predict_proba output, not scores or logits",
        )
    return array


def _plain(value: Any) -> Any:
    """NumPy scalars to Python ones, so decisions serialise to JSON and CSV cleanly."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        raise InvalidInput("a class label is NaN", hint="train on rows with real labels")
    return value
