"""Binary Relevance over crowdline's aggregators, and equality with crowd-kit 1.4.2."""

from __future__ import annotations

import pandas as pd
import pytest
from crowd_simulation import assert_labels_equal, pair, run_both, simulated_multilabel

from crowdline.aggregate import (
    GLAD,
    KOS,
    MACE,
    MMSR,
    BinaryRelevance,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    ZeroBasedSkill,
)
from crowdline.errors import InvalidInput

SCENE = pd.DataFrame([("s1", "ann", ["cat", "sofa"]), ("s1", "bob", ["cat"]),
                      ("s1", "eve", ["cat", "sofa", "lamp"]), ("s2", "ann", ["dog"]),
                      ("s2", "bob", ["dog", "cat"]), ("s2", "eve", ["rug"]),
                      ("s3", "ann", []), ("s3", "bob", ["lamp"]), ("s3", "eve", [])],
                     columns=["task", "worker", "label"])


@pytest.mark.parametrize("base", [MajorityVote(), DawidSkene(n_iter=10), Wawa(), GLAD(n_iter=5),
                                  OneCoinDawidSkene(), ZeroBasedSkill(), MACE(n_iter=5)],
                         ids=lambda a: type(a).__name__)
def test_every_aggregator_gives_the_labels_most_workers_chose(base: object) -> None:
    result = BinaryRelevance(base).fit_predict(SCENE)
    assert result.to_dict() == {"s1": ["cat", "sofa"], "s2": ["dog"], "s3": []}
    assert (result.name, result.index.name) == ("agg_label", "task")


def test_each_label_gets_its_own_fitted_copy_of_the_aggregator() -> None:
    base = DawidSkene(n_iter=7)
    model = BinaryRelevance(base).fit(SCENE)
    assert list(model.aggregators_) == ["cat", "dog", "lamp", "rug", "sofa"]
    copies = list(model.aggregators_.values())
    assert all(isinstance(a, DawidSkene) and a.n_iter == 7 for a in copies)
    assert len({id(a) for a in copies}) == 5
    assert not hasattr(base, "labels_")  # the template itself stays unfitted


def test_all_binary_methods_work_including_those_needing_two_classes() -> None:
    answers, truth = simulated_multilabel(150, seed=3)
    # "sky" in every answer makes a one-valued column; DS, KOS, M-MSR need two classes
    always = answers.assign(label=[sorted({*labels, "sky"}) for labels in answers["label"]])
    for base in (DawidSkene(), KOS(), MMSR()):
        result = BinaryRelevance(base).fit_predict(always)
        assert all("sky" in labels for labels in result)
    majority = BinaryRelevance().fit_predict(answers)
    exact = (majority.reindex(truth.index).map(tuple) == truth.map(tuple)).mean()
    assert exact > 0.6  # all four objects right at once (0.66 here)


def test_empty_answers_give_an_empty_result() -> None:
    result = BinaryRelevance(DawidSkene()).fit_predict(
        pd.DataFrame({"task": [], "worker": [], "label": []}))
    assert result.empty
    assert result.name == "agg_label"


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a list"):
        BinaryRelevance().fit(SCENE.assign(label="cat"))
    with pytest.raises(InvalidInput, match="aggregator"):
        BinaryRelevance(MajorityVote)
    with pytest.raises(InvalidInput, match="columns"):
        BinaryRelevance().fit(SCENE.drop(columns="worker"))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    answers, _ = simulated_multilabel()
    frames = {"multilabel": answers.assign(label=answers["label"].map(",".join))}
    jobs = [{"name": base, "method": "BinaryRelevance", "answers": "multilabel",
             "label_lists": True, "params": {"base": base}}
            for base in ("MajorityVote", "DawidSkene", "Wawa", "ZeroBasedSkill")]
    return run_both(tmp_path_factory.mktemp("br"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize("base", ["MajorityVote", "DawidSkene", "Wawa", "ZeroBasedSkill"])
def test_equals_crowdkit(results: dict, base: str) -> None:
    oracle, ours = pair(results, base)
    assert_labels_equal(oracle, ours)
