"""Accuracy against gold on the shared real crowd data sets (skipped when absent): the same
figures crowd-kit 1.4.2 reaches (../shared/data/README.md), since the labels are the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from aggregate_oracle import crowd_data

from crowdline.aggregate import DawidSkene, GoldMajorityVote, MajorityVote, OneCoinDawidSkene

pytestmark = pytest.mark.realdata

REFERENCE = {  # data set: (Majority Vote, One-coin DS, Dawid-Skene 100 iterations)
    "product": (0.8966, 0.9084, 0.9397),
    "dogs": (0.8116, 0.8302, 0.8426),
}


def accuracy(labels: pd.Series, gold: pd.Series) -> float:
    return float((labels.reindex(gold.index) == gold).mean())


@pytest.mark.parametrize("name", list(REFERENCE))
def test_accuracy_against_gold_matches_the_reference(name: str) -> None:
    answers, gold = crowd_data(name)
    majority, one_coin, dawid_skene = REFERENCE[name]
    assert accuracy(MajorityVote().fit(answers).labels_, gold) == pytest.approx(majority, abs=1e-4)
    assert accuracy(OneCoinDawidSkene().fit(answers).labels_, gold) == pytest.approx(
        one_coin, abs=1e-4)
    assert accuracy(DawidSkene(n_iter=100).fit(answers).labels_, gold) == pytest.approx(
        dawid_skene, abs=1e-4)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_honeypots_from_a_tenth_of_gold_beat_plain_majority(name: str) -> None:
    answers, gold = crowd_data(name)
    honeypots = gold.sample(frac=0.1, random_state=0)
    rest = gold.drop(honeypots.index)
    scored = answers[answers["worker"].isin(answers.loc[answers["task"].isin(honeypots.index),
                                                        "worker"])]
    weighted = GoldMajorityVote().fit_predict(scored, honeypots)
    plain = MajorityVote().fit(scored).labels_
    on_rest = rest[rest.index.isin(weighted.index)]
    assert accuracy(weighted, on_rest) >= accuracy(plain, on_rest)


def test_warm_start_after_a_new_batch_needs_far_fewer_iterations() -> None:
    answers, gold = crowd_data("product")
    tasks = pd.unique(answers["task"])
    new_batch = set(np.random.default_rng(0).choice(tasks, len(tasks) // 10, replace=False))
    earlier = DawidSkene().fit(answers[~answers["task"].isin(new_batch)])
    cold = DawidSkene().fit(answers)
    warm = DawidSkene().fit(answers, initial_error=earlier.errors_,
                            initial_priors=earlier.priors_)
    assert len(warm.loss_history_) * 3 < len(cold.loss_history_)  # 11 against 80
    assert (warm.labels_.sort_index() == cold.labels_.sort_index()).mean() > 0.995
    assert accuracy(warm.labels_, gold) > 0.935
