"""What the aggregators promise, on small hand-made and synthetic answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crowdline.aggregate import (
    GLAD,
    DawidSkene,
    GoldMajorityVote,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
)


def simulated_crowd(n_tasks: int, *, seed: int, n_classes: int = 4, overlap: int = 5,
                    n_workers: int = 60, spammers: int = 20, constant_spam: bool = True
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """Good workers (accuracy 0.65–0.9) and spammers who always answer class 0 (or, with
    ``constant_spam=False``, answer at random)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_tasks)
    workers = np.stack([rng.choice(n_workers, overlap, replace=False) for _ in range(n_tasks)])
    accuracy = rng.uniform(0.65, 0.9, n_workers)
    right = rng.random(workers.shape) < accuracy[workers]
    wrong = (truth[:, None] + rng.integers(1, n_classes, workers.shape)) % n_classes
    labels = np.where(right, truth[:, None], wrong)
    spam = 0 if constant_spam else rng.integers(0, n_classes, workers.shape)
    labels = np.where(workers < spammers, spam, labels)
    answers = pd.DataFrame({"task": np.repeat(np.arange(n_tasks), overlap),
                            "worker": workers.ravel(), "label": labels.ravel()})
    return answers, truth


def accuracy(labels: pd.Series, truth: np.ndarray) -> float:
    return float((labels.sort_index().to_numpy() == truth).mean())


def test_weighted_majority_vote_sums_skills() -> None:
    answers = pd.DataFrame([["t1", "p1", 0], ["t1", "p2", 0], ["t1", "p3", 1],
                            ["t2", "p1", 1], ["t2", "p2", 0], ["t2", "p3", 1]],
                           columns=["task", "worker", "label"])
    model = MajorityVote().fit(answers, pd.Series({"p1": 0.5, "p2": 0.7, "p3": 0.4}))
    assert model.labels_.to_dict() == {"t1": 0, "t2": 1}
    assert model.probas_.loc["t1", 0] == pytest.approx(1.2 / 1.6)
    assert model.probas_.loc["t2", 1] == pytest.approx(0.9 / 1.6)
    assert MajorityVote().fit(answers).labels_.to_dict() == {"t1": 0, "t2": 1}


def test_majority_vote_ties_go_to_the_label_seen_first_and_repeats_count() -> None:
    answers = pd.DataFrame({"task": ["a", "a", "b", "b", "b"], "worker": ["u", "v", "u", "v", "v"],
                            "label": ["no", "yes", "yes", "no", "no"]})
    model = MajorityVote().fit(answers)
    assert model.labels_.to_dict() == {"a": "no", "b": "no"}
    assert model.probas_.loc["b", "no"] == pytest.approx(2 / 3)
    # accuracy counts a repeated (task, worker, label) once: v agrees on a? no; on b yes
    assert model.skills_.to_dict() == {"u": 0.5, "v": 0.5}


@pytest.mark.parametrize("model", [MajorityVote(), Wawa(), DawidSkene(), OneCoinDawidSkene(),
                                   GLAD(n_iter=5)], ids=type)
def test_results_have_crowdkit_shapes(model) -> None:
    answers, _ = simulated_crowd(200, seed=1)
    model.fit(answers)
    assert model.labels_.name == "agg_label"
    assert model.labels_.index.name == "task"
    assert model.probas_.columns.name == "label"
    assert sorted(model.probas_.columns) == [0, 1, 2, 3]
    assert np.allclose(model.probas_.sum(axis=1), 1.0)
    assert (model.labels_ == model.probas_.idxmax(axis=1)).all()


def test_dawid_skene_beats_majority_vote_against_spammers() -> None:
    answers, truth = simulated_crowd(2000, seed=2)
    majority = accuracy(MajorityVote().fit(answers).labels_, truth)
    model = DawidSkene().fit(answers)
    assert accuracy(model.labels_, truth) > majority + 0.03
    errors = model.errors_
    assert np.allclose(errors.groupby(level="worker").sum(), 1.0)
    spammer = errors.loc[5]  # always says 0: P(says 0 | any true class) ≈ 1
    assert (spammer.loc[0] > 0.99).all()
    assert model.priors_.sum() == pytest.approx(1.0)


def test_one_coin_and_glad_find_random_spammers() -> None:
    # (a third of the crowd always saying 0 fools one-coin DS; full DS sees through it)
    answers, truth = simulated_crowd(1500, seed=3, constant_spam=False)
    one_coin = OneCoinDawidSkene().fit(answers)
    assert one_coin.skills_.loc[list(range(20))].max() < one_coin.skills_.loc[
        list(range(20, 60))].min()
    glad = GLAD(n_iter=20).fit(answers)
    assert glad.alphas_.loc[list(range(20))].mean() < glad.alphas_.loc[list(range(20, 60))].mean()
    assert accuracy(glad.labels_, truth) > accuracy(MajorityVote().fit(answers).labels_, truth)


def test_gold_majority_vote_weighs_workers_by_honeypots() -> None:
    answers, truth = simulated_crowd(1500, seed=4)
    gold = pd.Series(truth[:300], index=range(300))
    model = GoldMajorityVote().fit(answers, gold)
    assert model.skills_.loc[list(range(20))].mean() < 0.35  # spammers are right on class 0 only
    assert model.skills_.loc[list(range(20, 60))].mean() > 0.7
    labels = model.predict(answers)  # fit scores workers; predict votes (as in crowd-kit)
    assert accuracy(labels, truth) >= accuracy(MajorityVote().fit(answers).labels_, truth)


def test_wawa_skills_are_agreement_with_the_majority() -> None:
    answers, _ = simulated_crowd(500, seed=5)
    majority = MajorityVote().fit(answers)
    assert Wawa().fit(answers).skills_.equals(majority.skills_)


def test_gold_labels_pin_dawid_skene_posteriors() -> None:
    answers, truth = simulated_crowd(400, seed=6)
    gold = pd.Series(truth[:50], index=range(50))
    model = DawidSkene().fit(answers, gold)
    assert (model.labels_.loc[range(50)].to_numpy() == truth[:50]).all()
    assert (model.probas_.loc[range(50)].max(axis=1) == 1.0).all()


def test_warm_start_is_as_accurate_as_a_cold_start() -> None:
    # (fewer iterations and the same labels on real data: test_real_data.py; here the cold
    # start stops after 3 iterations, when crowd-kit's ELBO stops rising)
    answers, truth = simulated_crowd(6000, seed=8, n_workers=80)
    first_batch = answers[answers["task"] < 5000]
    earlier = DawidSkene().fit(first_batch)
    cold = DawidSkene().fit(answers)
    warm = DawidSkene().fit(answers, initial_error=earlier.errors_,
                            initial_priors=earlier.priors_)
    assert accuracy(warm.labels_, truth) >= accuracy(cold.labels_, truth) - 0.002


def test_warm_start_takes_workers_the_earlier_fit_never_saw() -> None:
    answers, _ = simulated_crowd(1000, seed=9)
    earlier = DawidSkene().fit(answers[answers["worker"] != 42])
    assert 42 not in earlier.errors_.index.get_level_values("worker")
    warm = DawidSkene().fit(answers, initial_error=earlier.errors_)
    assert 42 in warm.errors_.index.get_level_values("worker")
    added = DawidSkene(initial_error_strategy="addition").fit(answers,
                                                               initial_error=earlier.errors_)
    assert (added.labels_.sort_index() == warm.labels_.sort_index()).mean() > 0.99


def test_integer_ids_and_boolean_labels() -> None:
    answers = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": [7, 8, 9, 7, 8, 9],
                            "label": [True, True, False, False, False, True]})
    model = DawidSkene().fit(answers)
    assert model.labels_.to_dict() == {1: True, 2: False}
