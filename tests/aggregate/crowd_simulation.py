"""Simulated crowds for the tests of the newer methods, and helpers to run them through the
crowd-kit oracle (see aggregate_oracle.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from aggregate_oracle import CROWD_DATA, Result, crowd_data, run_both


def simulated_answers(n_tasks: int = 300, *, n_classes: int = 3, seed: int = 11,
                      n_workers: int = 40, overlap: int = 5
                      ) -> tuple[pd.DataFrame, pd.Series]:
    """Workers from expert (0.95) to spammer (1/K); string ids and labels; every tenth task
    gets only two answers so that ties happen. Returns (answers, true label by task)."""
    rng = np.random.default_rng(seed)
    classes = np.array(["cat", "dog", "fox", "owl", "elk"][:n_classes])
    truth = rng.integers(0, n_classes, n_tasks)
    skill = np.concatenate([rng.uniform(0.6, 0.95, n_workers - 6), np.full(6, 1 / n_classes)])
    rows = []
    for task, true in enumerate(truth):
        for worker in rng.choice(n_workers, 2 if task % 10 == 0 else overlap, replace=False):
            label = true if rng.random() < skill[worker] else rng.choice(
                [c for c in range(n_classes) if c != true])
            rows.append((f"t{task}", f"w{worker}", classes[label]))
    answers = pd.DataFrame(rows, columns=["task", "worker", "label"])
    return answers, pd.Series(classes[truth], index=[f"t{i}" for i in range(n_tasks)],
                              name="label")


def names_sorted_as_first_seen(answers: pd.DataFrame) -> pd.DataFrame:
    """The same answers with workers and labels renamed so that their sorted order is the
    order they first appear in: where crowd-kit mixes the two orders up (MACE), it is then
    right, so both sides can be compared on real data."""
    def rename(values: pd.Series, prefix: str) -> pd.Series:
        names = {value: f"{prefix}{i:05d}" for i, value in enumerate(pd.unique(values))}
        return values.map(names)

    return answers.assign(worker=rename(answers["worker"], "w"),
                          label=rename(answers["label"], "l"))


def accuracy(labels: pd.Series, truth: pd.Series) -> float:
    return float((labels.reindex(truth.index) == truth).mean())


def real_sets(*names: str | tuple) -> list:
    """pytest params for the shared real data sets (a name, or a tuple of values starting
    with one), marked realdata."""
    return [pytest.param(*(name if isinstance(name, tuple) else (name,)),
                         marks=pytest.mark.realdata) for name in names]


def add_real(frames: dict[str, pd.DataFrame], name: str) -> bool:
    """Put the real set ``name`` into ``frames`` if it is on disk."""
    if not (CROWD_DATA / name / "answers.csv").exists():
        return False
    frames[name] = crowd_data(name)[0]
    return True


def pair(results: dict[str, tuple[Result, Result]], name: str) -> tuple[Result, Result]:
    if name not in results:
        pytest.skip(f"{name}: its data set is not in ../shared/data")
    return results[name]


def assert_labels_equal(oracle: Result, ours: Result) -> None:
    expected, actual = oracle.labels(), ours.labels()
    assert len(expected) > 0
    assert set(expected.index) == set(actual.index)
    different = expected[expected != actual.reindex(expected.index)]
    assert different.empty, f"{len(different)} labels differ, e.g. {different.head().to_dict()}"


def assert_table_equal(oracle: Result, ours: Result, name: str, *, tolerance: float = 1e-6,
                       ordered: bool = False) -> float:
    """Same keys and values within ``tolerance``; returns the largest gap."""
    expected, actual = oracle.table(name), ours.table(name)
    assert expected is not None, f"crowd-kit wrote no {name}"
    assert actual is not None, f"crowdline wrote no {name}"
    if ordered:
        frame = pd.read_parquet(ours.folder / f"{name}.parquet")
        reference = pd.read_parquet(oracle.folder / f"{name}.parquet")
        assert list(frame["key"]) == list(reference["key"]), f"{name} keys in another order"
    assert list(expected.index) == list(actual.index)
    gap = float(np.abs(expected.to_numpy() - actual.to_numpy()).max())
    assert gap < tolerance, f"{name} differ by {gap}"
    return gap





def simulated_comparisons(n_items: int = 25, n_comparisons: int = 2000, *, seed: int = 0,
                          tie_share: float = 0.0) -> tuple[pd.DataFrame, pd.Series]:
    """Side-by-side judgments of items with gamma-distributed strengths by 15 workers, three
    of whom choose at random; ``tie_share`` of the rows name neither side ("tie").
    Returns (comparisons, true strength by item)."""
    rng = np.random.default_rng(seed)
    strength = rng.gamma(2.0, size=n_items)
    items = np.array([f"item{i:02d}" for i in range(n_items)])
    left = rng.integers(0, n_items, n_comparisons)
    right = (left + rng.integers(1, n_items, n_comparisons)) % n_items
    worker = rng.integers(0, 15, n_comparisons)
    p_left = np.where(worker < 3, 0.5, strength[left] / (strength[left] + strength[right]))
    chosen = np.where(rng.random(n_comparisons) < p_left, items[left], items[right])
    chosen = np.where(rng.random(n_comparisons) < tie_share, "tie", chosen)
    comparisons = pd.DataFrame({"worker": [f"w{w}" for w in worker], "left": items[left],
                                "right": items[right], "label": chosen})
    return comparisons, pd.Series(strength, index=items)



def simulated_multilabel(n_tasks: int = 200, *, seed: int = 12, overlap: int = 5
                         ) -> tuple[pd.DataFrame, pd.Series]:
    """Each task shows some of four objects; each worker reports each object correctly with
    their own accuracy (0.6–0.95). Labels are sorted lists; returns (answers, true lists)."""
    rng = np.random.default_rng(seed)
    objects = np.array(["car", "house", "human", "tree"])
    present = rng.random((n_tasks, 4)) < 0.4
    skill = rng.uniform(0.6, 0.95, 30)
    rows = []
    for task in range(n_tasks):
        for worker in rng.choice(30, overlap, replace=False):
            seen = np.where(rng.random(4) < skill[worker], present[task], ~present[task])
            rows.append((f"t{task:03d}", f"w{worker:02d}", list(objects[seen])))
    truth = pd.Series([list(objects[p]) for p in present],
                      index=[f"t{t:03d}" for t in range(n_tasks)])
    return pd.DataFrame(rows, columns=["task", "worker", "label"]), truth


__all__ = ["run_both"]
