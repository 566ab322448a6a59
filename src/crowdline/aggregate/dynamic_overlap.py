"""Toloka's dynamic overlap ("incremental relabeling"): ask one more annotator only while a
task's answer is uncertain.

Worker accuracy from honeypots with smoothing K (Toloka uses K = 0.5):
``q = (K + correct) / (2K + total)``. The posterior of each class z over Y classes, given the
answers a_i of workers with accuracies q_i and a prior (uniform, or the model's calibrated
probabilities — "model as a voter"):
``P(z) ∝ prior(z) · Π_i [q_i if a_i = z else (1 − q_i) / (Y − 1)]``.
Toloka's worked example (3 classes): accuracies 0.7 and 0.9 both answering "OK" give 0.977;
0.7 "OK" against 0.9 "BAD" gives 0.761 for "BAD".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from crowdline.errors import InvalidInput


def worker_accuracy(correct: int, total: int, smoothing: float = 0.5) -> float:
    """Smoothed share of correct honeypot answers: (K + correct) / (2K + total)."""
    if correct < 0 or total < 0 or correct > total:
        raise InvalidInput(f"honeypot counts must satisfy 0 <= correct <= total, got "
                           f"{correct} of {total}", hint="pass counts of answered control tasks")
    if smoothing <= 0:
        raise InvalidInput(f"smoothing must be positive, got {smoothing}", hint="Toloka uses 0.5")
    return (smoothing + correct) / (2 * smoothing + total)


def task_posterior(labels: Sequence[str], accuracies: Sequence[float], classes: Sequence[str],
                   prior: Mapping[str, float] | None = None) -> dict[str, float]:
    """Posterior probability of each class given the answers so far (see the module doc)."""
    classes = list(classes)
    if len(classes) < 2:
        raise InvalidInput(f"dynamic overlap needs at least two classes, got {classes}",
                           hint="list every allowed value of the output field")
    if len(labels) != len(accuracies):
        raise InvalidInput(f"{len(labels)} answers but {len(accuracies)} accuracies",
                           hint="pass one accuracy per answer")
    unknown = sorted({str(label) for label in labels} - set(classes))
    if unknown:
        raise InvalidInput(f"answers {unknown} are not among the classes {classes}",
                           hint="check the output field's allowed values")
    n_classes = len(classes)
    log_scores = {}
    for z in classes:
        weight = 1.0 / n_classes if prior is None else float(prior.get(z, 0.0))
        score = math.log(weight) if weight > 0 else -math.inf
        for label, q in zip(labels, accuracies, strict=True):
            q = min(max(float(q), 1e-9), 1 - 1e-9)
            score += math.log(q if label == z else (1 - q) / (n_classes - 1))
        log_scores[z] = score
    top = max(log_scores.values())
    if top == -math.inf:
        raise InvalidInput("the prior gives every class probability 0",
                           hint="pass a prior with some positive probability")
    exp = {z: math.exp(s - top) for z, s in log_scores.items()}
    total = sum(exp.values())
    return {z: v / total for z, v in exp.items()}


def needs_more_answers(posterior: Mapping[str, float], n_answers: int, *, min_overlap: int,
                       max_overlap: int, min_confidence: float) -> bool:
    """True while the task is below min overlap, or uncertain and below max overlap."""
    if n_answers < min_overlap:
        return True
    if n_answers >= max_overlap:
        return False
    return max(posterior.values(), default=0.0) < min_confidence
