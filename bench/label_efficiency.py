"""Benchmark: human judgments per item and label accuracy, model in the loop vs fixed overlap.

A labeled text data set (the clickbait headlines in ../shared/data when present, else the
example project's sample) is labeled by a simulated crowd of good and mediocre workers plus
spammers, two ways:

(a) the seed article's set-up: every item gets 5 judgments from 5 distinct workers, no model,
    labels aggregated with Dawid-Skene;
(b) crowdline: a small seed set is labeled by people with dynamic overlap, a calibrated model is
    trained on it, then batch after batch the router auto-labels the items the model is sure
    of (minus an audit sample that goes to people), people label the rest with dynamic overlap
    (min 1, max 5 judgments) where the model's probability is the prior ("model as a voter"),
    and the model is retrained on all human labels between batches;
(c) for comparison, dynamic overlap alone (no model).

The truth is the data set's label. Workers' skills are estimated from control (honeypot) items
before labeling, with the dynamic-overlap formula's smoothing, and workers below the honeypot
bar are banned (a pool's quality-control rule); both policies pay the same control judgments,
reported separately, and get the same banned crowd.

    python bench/label_efficiency.py [--rows N] [--batch-size 1000] [--threshold 0.9]

Writes bench/results/label_efficiency.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crowdline.aggregate import DawidSkene
from crowdline.aggregate.dynamic_overlap import needs_more_answers, task_posterior, worker_accuracy
from crowdline.model import (
    Router,
    TextClassifier,
    audit_accuracy_from_decisions,
    check_drift,
    correct_for_reference_noise,
    route_counts,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "label_efficiency.json"
SHARED_CSV = ROOT.parent / "shared" / "data" / "clickbait" / "clickbait.csv"
SAMPLE_DIR = ROOT / "src" / "crowdline_examples" / "clickbait" / "data"


def load_items(rows: int | None) -> tuple[pd.DataFrame, str]:
    """Rows with ``text`` and ``truth``; the shared data set first, else the example sample."""
    if SHARED_CSV.exists():
        frame = pd.read_csv(SHARED_CSV).rename(columns={"headline": "text", "label": "truth"})
        source = str(SHARED_CSV.relative_to(ROOT.parent))
    elif SAMPLE_DIR.exists():
        parts = []
        for path in sorted(SAMPLE_DIR.glob("*.csv")):
            part = pd.read_csv(path)
            truth = "truth" if "truth" in part else "label"
            parts.append(part.rename(columns={"headline": "text", truth: "truth"}))
        frame = pd.concat(parts)[["text", "truth"]].drop_duplicates("text")
        source = str(SAMPLE_DIR.relative_to(ROOT))
    else:
        sys.exit(f"no data: neither {SHARED_CSV} nor {SAMPLE_DIR} exists")
    frame = frame[["text", "truth"]].dropna().reset_index(drop=True)
    if rows is not None:
        frame = frame.iloc[:rows].reset_index(drop=True)
    return frame, source


# -- the simulated crowd --------------------------------------------------------------------


@dataclass
class Crowd:
    kinds: list[str]  # "good", "mediocre", "spammer" per worker
    confusion: np.ndarray  # (workers, classes, classes): P(answer | truth)
    rng: np.random.Generator

    @property
    def size(self) -> int:
        return len(self.kinds)

    def answer(self, workers: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Each worker's answer (a class index) to an item of the given true class index."""
        cumulative = self.confusion[workers, truth].cumsum(axis=-1)
        draws = self.rng.random(len(workers))
        return np.minimum((draws[:, None] > cumulative).sum(axis=1), cumulative.shape[1] - 1)


def make_crowd(n_workers: int, n_classes: int, spammers: float, mediocre: float,
               rng: np.random.Generator) -> Crowd:
    n_spam = round(n_workers * spammers)
    n_mediocre = round(n_workers * mediocre)
    kinds = ["spammer"] * n_spam + ["mediocre"] * n_mediocre
    kinds += ["good"] * (n_workers - len(kinds))
    confusion = np.zeros((n_workers, n_classes, n_classes))
    for worker, kind in enumerate(kinds):
        if kind == "spammer":
            if worker % 2:  # clicks at random
                confusion[worker] = 1.0 / n_classes
            else:  # always the same answer
                confusion[worker, :, rng.integers(n_classes)] = 1.0
            continue
        accuracy = rng.uniform(0.88, 0.97) if kind == "good" else rng.uniform(0.65, 0.8)
        confusion[worker] = (1 - accuracy) / (n_classes - 1)
        np.fill_diagonal(confusion[worker], accuracy)
    return Crowd(kinds, confusion, rng)


def honeypot_accuracy(crowd: Crowd, control_per_worker: int, n_classes: int) -> np.ndarray:
    """Each worker answers control items of known class; accuracy with the formula's smoothing."""
    accuracies = np.zeros(crowd.size)
    for worker in range(crowd.size):
        truth = crowd.rng.integers(n_classes, size=control_per_worker)
        answers = crowd.answer(np.full(control_per_worker, worker), truth)
        accuracies[worker] = worker_accuracy(int((answers == truth).sum()), control_per_worker)
    return accuracies


# -- (a) fixed overlap 5, Dawid-Skene ---------------------------------------------------------


def fixed_overlap(truth: np.ndarray, crowd: Crowd, active: np.ndarray, classes: list[str],
                  overlap: int, ds_iterations: int) -> dict:
    n_items = len(truth)
    # `overlap` distinct active workers per item: the first columns of a random permutation.
    picks = np.argsort(crowd.rng.random((n_items, len(active))), axis=1)[:, :overlap]
    workers = active[picks]
    items = np.repeat(np.arange(n_items), overlap)
    answers = crowd.answer(workers.ravel(), truth[items])
    frame = pd.DataFrame({"task": items, "worker": workers.ravel(),
                          "label": np.asarray(classes, dtype=object)[answers]})
    began = time.perf_counter()
    labels = DawidSkene(n_iter=ds_iterations).fit(frame).labels_
    seconds = time.perf_counter() - began
    predicted = labels.reindex(range(n_items)).to_numpy()
    accuracy = float((predicted == np.asarray(classes, dtype=object)[truth]).mean())
    return {
        "policy": f"fixed overlap {overlap}, no model, Dawid-Skene ({ds_iterations} iterations)",
        "human_judgments": int(len(frame)),
        "human_judgments_per_item": len(frame) / n_items,
        "label_accuracy": accuracy,
        "aggregation_seconds": round(seconds, 3),
    }


# -- (b) crowdline: routing + dynamic overlap with the model as a voter -------------------------


@dataclass
class OverlapPolicy:
    min_overlap: int
    max_overlap: int
    min_confidence: float


def label_by_people(truth_index: int, prior: dict | None, crowd: Crowd, active: np.ndarray,
                    accuracies: np.ndarray, classes: list[str],
                    policy: OverlapPolicy) -> tuple[str, int, float]:
    """Ask distinct workers one at a time until the posterior is confident or max overlap;
    return the label, the number of judgments and the label's posterior probability."""
    order = crowd.rng.permutation(active)
    labels: list[str] = []
    skills: list[float] = []
    while True:
        worker = order[len(labels)]
        answer = crowd.answer(np.array([worker]), np.array([truth_index]))[0]
        labels.append(classes[answer])
        skills.append(float(accuracies[worker]))
        posterior = task_posterior(labels, skills, classes, prior=prior)
        if not needs_more_answers(posterior, len(labels), min_overlap=policy.min_overlap,
                                  max_overlap=policy.max_overlap,
                                  min_confidence=policy.min_confidence):
            break
    best = max(posterior, key=posterior.get)
    return best, len(labels), posterior[best]


def dynamic_overlap_only(truth: np.ndarray, crowd: Crowd, active: np.ndarray,
                         accuracies: np.ndarray, classes: list[str],
                         args: argparse.Namespace) -> dict:
    """The ablation: dynamic overlap for every item, no model."""
    policy = OverlapPolicy(args.min_overlap, args.max_overlap, args.min_confidence)
    judgments, hits = 0, 0
    for truth_index in truth:
        label, asked, _ = label_by_people(int(truth_index), None, crowd, active, accuracies,
                                       classes, policy)
        judgments += asked
        hits += label == classes[truth_index]
    return {
        "policy": f"dynamic overlap {args.min_overlap}..{args.max_overlap} at confidence "
                  f"{args.min_confidence}, no model",
        "human_judgments": judgments,
        "human_judgments_per_item": judgments / len(truth),
        "label_accuracy": hits / len(truth),
    }


def with_model(items: pd.DataFrame, truth: np.ndarray, crowd: Crowd, active: np.ndarray,
               accuracies: np.ndarray, classes: list[str], args: argparse.Namespace) -> dict:
    policy = OverlapPolicy(args.min_overlap, args.max_overlap, args.min_confidence)
    # Audit labels judge the model, so they are asked of two people at least, with no prior.
    audit_policy = OverlapPolicy(max(2, args.min_overlap), args.max_overlap,
                                 max(args.min_confidence, args.audit_confidence))
    router = Router(threshold=args.threshold, audit_rate=args.audit_rate, seed=args.seed)
    texts = items["text"].tolist()
    final: list[str | None] = [None] * len(items)
    labeled_by: list[str] = [""] * len(items)
    judgments = 0
    human_rows: list[int] = []
    audit_posteriors: list[float] = []

    # Seed set: people only, no prior.
    seed_rows = range(min(args.seed_size, len(items)))
    for row in seed_rows:
        final[row], asked, _ = label_by_people(truth[row], None, crowd, active, accuracies,
                                                classes, policy)
        labeled_by[row] = "human"
        judgments += asked
        human_rows.append(row)

    all_decisions = []
    batches = []
    model_version = 0
    start = len(seed_rows)
    train_seconds = 0.0
    batch_size = args.batch_size
    while start < len(items):
        rows = list(range(start, min(start + batch_size, len(items))))
        # Small batches first, while the model learns most from each retrain.
        batch_size = min(2 * batch_size, args.max_batch_size)
        began = time.perf_counter()
        model = TextClassifier(seed=args.seed).fit([texts[r] for r in human_rows],
                                                   [final[r] for r in human_rows])
        train_seconds += time.perf_counter() - began
        model_version += 1
        trained_on = len(human_rows)
        probabilities = model.predict_proba([texts[r] for r in rows])
        decisions = router.route(rows, probabilities, model.classes_,
                                 model_version=model_version)
        model_classes = list(model.classes_)
        batch_judgments = 0
        for row, decision, row_probabilities in zip(rows, decisions, probabilities, strict=True):
            if decision.route == "model":
                final[row], labeled_by[row] = decision.label, "model"
                continue
            if decision.route == "audit":
                prior, item_policy = None, audit_policy
            else:
                prior = {label: float(p)
                         for label, p in zip(model_classes, row_probabilities, strict=True)}
                item_policy = policy
            final[row], asked, posterior = label_by_people(
                truth[row], prior, crowd, active, accuracies, classes, item_policy)
            if decision.route == "audit":
                audit_posteriors.append(posterior)
            labeled_by[row] = "human"
            batch_judgments += asked
            human_rows.append(row)
        judgments += batch_judgments
        counts = route_counts(decisions)
        batches.append({"model_version": model_version, "trained_on": trained_on,
                        "items": len(rows), **counts, "human_judgments": batch_judgments})
        all_decisions.extend(decisions)
        start = rows[-1] + 1

    truth_labels = np.asarray(classes, dtype=object)[truth]
    final_array = np.asarray(final, dtype=object)
    by_model = np.array([who == "model" for who in labeled_by])
    human_labels = {str(row): final[row] for row in range(len(items))}
    estimate = audit_accuracy_from_decisions(all_decisions, human_labels)
    # The audit's human labels are imperfect too; their mean posterior estimates how much.
    corrected = (correct_for_reference_noise(estimate, float(np.mean(audit_posteriors)),
                                             len(classes)) if audit_posteriors else None)
    audit_truth = [d for d in all_decisions if d.route == "audit"]
    # The model's accuracy on audited items against the truth (what the audit tries to estimate).
    audit_vs_truth = (float(np.mean([d.label == truth_labels[int(d.item_id)]
                                     for d in audit_truth])) if audit_truth else None)
    drift = check_drift(estimate, min_accuracy=args.min_model_accuracy)
    return {
        "policy": (f"seed set {len(seed_rows)} + batches of {args.batch_size} doubling to "
                   f"{args.max_batch_size}: route at "
                   f"{args.threshold} with {args.audit_rate:.0%} audit, dynamic overlap "
                   f"{args.min_overlap}..{args.max_overlap} at confidence {args.min_confidence}, "
                   "model as a voter, retrain between batches; audited items: 2..5 judgments "
                   f"at confidence {audit_policy.min_confidence}, no prior"),
        "human_judgments": judgments,
        "human_judgments_per_item": judgments / len(items),
        "label_accuracy": float((final_array == truth_labels).mean()),
        "label_accuracy_human_labeled": float((final_array[~by_model]
                                               == truth_labels[~by_model]).mean()),
        "label_accuracy_model_labeled": (float((final_array[by_model]
                                                == truth_labels[by_model]).mean())
                                         if by_model.any() else None),
        "auto_labeled_share": float(by_model.mean()),
        "audit_estimate": estimate.as_dict(),
        "audit_estimate_corrected_for_human_noise": corrected.as_dict() if corrected else None,
        "audited_model_accuracy_vs_truth": audit_vs_truth,
        "drift_flag": drift.drifted,
        "drift_reasons": drift.reasons,
        "training_seconds_total": round(train_seconds, 2),
        "batches": batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="first N rows (default: all)")
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--spammers", type=float, default=0.2, help="share of spammers")
    parser.add_argument("--mediocre", type=float, default=0.3, help="share of mediocre workers")
    parser.add_argument("--control", type=int, default=20, help="honeypots per worker")
    parser.add_argument("--ban-below", type=float, default=0.6,
                        help="honeypot accuracy below which a worker is banned (both policies)")
    parser.add_argument("--overlap", type=int, default=5, help="fixed overlap of policy (a)")
    parser.add_argument("--ds-iterations", type=int, default=100)
    parser.add_argument("--seed-size", type=int, default=300, help="items people label first")
    parser.add_argument("--batch-size", type=int, default=1000, help="first batch (doubles)")
    parser.add_argument("--max-batch-size", type=int, default=8000)
    parser.add_argument("--threshold", type=float, default=0.9, help="router threshold")
    parser.add_argument("--audit-rate", type=float, default=0.05)
    parser.add_argument("--min-overlap", type=int, default=1)
    parser.add_argument("--max-overlap", type=int, default=5)
    parser.add_argument("--min-confidence", type=float, default=0.9)
    parser.add_argument("--audit-confidence", type=float, default=0.95,
                        help="posterior audited items need (at least 2 judgments)")
    parser.add_argument("--min-model-accuracy", type=float, default=0.9,
                        help="drift floor for the audit estimate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    items, source = load_items(args.rows)
    classes = sorted(items["truth"].unique())
    truth = items["truth"].map({label: i for i, label in enumerate(classes)}).to_numpy()
    began = time.perf_counter()
    crowd = make_crowd(args.workers, len(classes), args.spammers, args.mediocre,
                       np.random.default_rng(args.seed))
    accuracies = honeypot_accuracy(crowd, args.control, len(classes))
    # Both policies ban workers below the honeypot bar, as a Toloka pool's QC rule would.
    active = np.flatnonzero(accuracies >= args.ban_below)
    if len(active) < max(args.overlap, args.max_overlap):
        sys.exit(f"only {len(active)} workers pass the honeypot bar {args.ban_below}: "
                 "add workers or lower --ban-below")
    baseline = fixed_overlap(truth, crowd, active, classes, args.overlap, args.ds_iterations)
    overlap_only = dynamic_overlap_only(truth, crowd, active, accuracies, classes, args)
    ours = with_model(items, truth, crowd, active, accuracies, classes, args)
    result = {
        "benchmark": "label_efficiency",
        "data": source,
        "rows": len(items),
        "classes": classes,
        "crowd": {
            "workers": crowd.size,
            "kinds": {kind: crowd.kinds.count(kind) for kind in ("good", "mediocre", "spammer")},
            "control_judgments": crowd.size * args.control,
            "ban_below": args.ban_below,
            "banned_by_kind": {kind: sum(1 for a, k in zip(accuracies, crowd.kinds, strict=True)
                                         if k == kind and a < args.ban_below)
                               for kind in ("good", "mediocre", "spammer")},
            "honeypot_accuracy_by_kind": {
                kind: round(float(np.mean([a for a, k in zip(accuracies, crowd.kinds,
                                                              strict=True) if k == kind])), 3)
                for kind in ("good", "mediocre", "spammer") if kind in crowd.kinds},
        },
        "fixed_overlap": baseline,
        "dynamic_overlap_only": overlap_only,
        "crowdline": ours,
        "judgments_saved": 1 - ours["human_judgments"] / baseline["human_judgments"],
        "seconds": round(time.perf_counter() - began, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({key: result[key] for key in ("rows", "judgments_saved", "seconds")}))
    for name in ("fixed_overlap", "dynamic_overlap_only", "crowdline"):
        part = result[name]
        print(f"{name}: {part['human_judgments_per_item']:.2f} judgments/item, "
              f"accuracy {part['label_accuracy']:.4f}")
    print(f"auto-labeled {ours['auto_labeled_share']:.1%}, audit estimate "
          f"{ours['audit_estimate']['accuracy']} "
          f"[{ours['audit_estimate']['low']:.3f}, {ours['audit_estimate']['high']:.3f}], "
          f"corrected {ours['audit_estimate_corrected_for_human_noise']}, true "
          f"{ours['audited_model_accuracy_vs_truth']}")


if __name__ == "__main__":
    main()
