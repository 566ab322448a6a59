"""A pairwise pool: simulated annotators compare items side by side (with a tie option),
Bradley-Terry ranks the items from their answers."""

from __future__ import annotations

import itertools
import random

import pytest
from crowd_helpers import pool_config
from scipy.stats import spearmanr

from crowdline.aggregate import NoisyBradleyTerry
from crowdline.crowd import Crowd
from crowdline.crowd.pairwise import (
    LEFT,
    RIGHT,
    TIE,
    comparisons,
    pairwise_project,
    pairwise_tasks,
    rank,
)
from crowdline.crowd.simulate import (
    PROFILES,
    InProcessRunner,
    SimulatedClock,
    invite_simulated_workers,
)
from crowdline.errors import InvalidInput

STRENGTH = {f"item {i:02d}": 2.0 ** i for i in range(10)}  # item 09 best, item 00 worst


def judge(seed: int):  # noqa: ANN201
    """A worker's view of a pair, Bradley-Terry style: left wins with s_l / (s_l + s_r);
    close calls (ratio 2) are ties a third of the time."""
    rng = random.Random(seed)

    def truth(inputs: dict) -> str:
        left, right = STRENGTH[inputs["left"]], STRENGTH[inputs["right"]]
        if max(left, right) / min(left, right) < 2.5 and rng.random() < 1 / 3:
            return TIE
        return LEFT if rng.random() < left / (left + right) else RIGHT

    return truth


def test_a_pairwise_pool_collects_judgments_and_bradley_terry_ranks_them(engine) -> None:  # noqa: ANN001
    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    project = crowd.create_project(pairwise_project("Which headline is clearer?"))
    pool = crowd.create_pool(pool_config(
        project.id, private_name="pairs",
        defaults={"default_overlap_for_new_tasks": 5, "default_overlap_for_new_task_suites": 5},
        mixer_config={"real_tasks_count": 5, "golden_tasks_count": 0,
                      "training_tasks_count": 0,
                      # unshuffled suites make the run repeatable: the judge's draws follow
                      # the order the tasks are shown in
                      "shuffle_tasks_in_task_suite": False}))
    pairs = list(itertools.combinations(sorted(STRENGTH), 2))
    random.Random(1).shuffle(pairs)
    pairs = [(a, b) if i % 2 else (b, a) for i, (a, b) in enumerate(pairs)]  # both sides
    crowd.create_tasks(pairwise_tasks(pool.id, pairs), open_pool=True)
    workers = invite_simulated_workers(crowd, [PROFILES["good"]] * 7 + [PROFILES["random"]],
                                       seed=3)
    report = InProcessRunner(crowd, workers, judge(5), clock=clock).run(pool.id)
    assert report.answers == len(pairs) * 5
    assert crowd.is_pool_complete(pool.id)

    judged = comparisons(crowd, pool.id)
    assert list(judged.columns) == ["worker", "task", "left", "right", "label"]
    assert len(judged) == len(pairs) * 5
    decided = judged[judged["label"] != TIE]
    assert ((decided["label"] == decided["left"]) | (decided["label"] == decided["right"])).all()
    assert (judged["label"] == TIE).any()  # the tie option was used

    scores = rank(crowd, pool.id)
    assert scores.index[0] in ("item 09", "item 08")
    assert scores.index[-1] in ("item 00", "item 01")
    truth = [STRENGTH[item] for item in scores.index]
    assert spearmanr(scores.to_numpy(), truth).statistic > 0.9
    assert scores.sum() == pytest.approx(1.0)

    noisy = rank(crowd, pool.id, NoisyBradleyTerry(n_iter=200))
    assert spearmanr(noisy.to_numpy(), [STRENGTH[i] for i in noisy.index]).statistic > 0.8


def test_the_project_offers_left_right_and_optionally_a_tie() -> None:
    with_tie = pairwise_project()["task_spec"]
    assert with_tie["output_spec"]["choice"]["allowed_values"] == [LEFT, RIGHT, TIE]
    assert [label["title"] for label in with_tie["view_spec"]["labels"]] == [
        "Left is better", "Right is better", "About the same"]
    without = pairwise_project(allow_tie=False)["task_spec"]
    assert without["output_spec"]["choice"]["allowed_values"] == [LEFT, RIGHT]


def test_a_pair_of_one_item_is_refused() -> None:
    with pytest.raises(InvalidInput, match="itself"):
        pairwise_tasks("1", [("a", "a")])
