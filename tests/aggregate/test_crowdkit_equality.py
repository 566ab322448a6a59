"""crowdline's aggregators against crowd-kit 1.4.2 (run in .venv-oracle) on the same answers:
labels identical, probabilities and worker parameters within 1e-6, same number of iterations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from aggregate_oracle import CROWD_DATA, Result, crowd_data, run_both

pytestmark = pytest.mark.slow  # crowd-kit itself takes ~25 s over these data sets

TOLERANCE = 1e-6
EM_METHODS = ("OneCoinDawidSkene", "DawidSkene")
VOTES = ("MajorityVote", "Wawa")


def synthetic_answers(seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    """300 tasks, 3 string labels, 40 workers from expert to spammer; some tasks get only two
    answers so that ties occur; string task and worker ids."""
    rng = np.random.default_rng(seed)
    classes = np.array(["cat", "dog", "fox"])
    truth = rng.integers(0, 3, size=300)
    accuracy = np.concatenate([rng.uniform(0.6, 0.95, 34), np.full(6, 1 / 3)])
    rows = []
    for task, true in enumerate(truth):
        overlap = 2 if task % 10 == 0 else 5
        for worker in rng.choice(40, size=overlap, replace=False):
            right = rng.random() < accuracy[worker]
            label = true if right else rng.choice([c for c in range(3) if c != true])
            rows.append((f"t{task}", f"w{worker}", classes[label]))
    answers = pd.DataFrame(rows, columns=["task", "worker", "label"])
    gold = pd.Series(classes[truth[:60]], index=[f"t{i}" for i in range(60)], name="label")
    return answers, gold


def warm_start_part(answers: pd.DataFrame) -> pd.DataFrame:
    """60% of the answers plus each (worker, label) pair's first answer: crowd-kit's 'assign'
    needs every (worker, label) of the full data in the earlier errors_."""
    sample = answers.sample(frac=0.6, random_state=3)
    return pd.concat([sample, answers.drop_duplicates(["worker", "label"])]).drop_duplicates()


def jobs_for(key: str, *, glad_iterations: tuple[int, ...], short_runs: bool
             ) -> tuple[list[dict], list[dict]]:
    plain = [{"name": f"{key}-{method}", "method": method, "answers": key}
             for method in (*VOTES, *EM_METHODS)]
    plain += [
        {"name": f"{key}-GoldMajorityVote", "method": "GoldMajorityVote", "answers": key,
         "gold": f"{key}-gold"},
        {"name": f"{key}-DawidSkene-gold", "method": "DawidSkene", "answers": key,
         "gold": f"{key}-gold"},
        {"name": f"{key}-DawidSkene-warm", "method": "DawidSkene", "answers": key,
         "params": {"initial_error_strategy": "assign"}, "warm_start_from": f"{key}-part"},
    ]
    if short_runs:
        plain.append({"name": f"{key}-DawidSkene-3", "method": "DawidSkene", "answers": key,
                      "params": {"n_iter": 3}})
    glad = [{"name": f"{key}-GLAD-{n}", "method": "GLAD", "answers": key,
             "params": {"n_iter": n}} for n in glad_iterations]
    return plain, glad


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Result, Result]]:
    tmp = tmp_path_factory.mktemp("oracle")
    frames: dict[str, pd.DataFrame] = {}
    plain_jobs, glad_jobs = [], []

    def add(key: str, answers: pd.DataFrame, gold: pd.Series, glad: tuple[int, ...],
            short_runs: bool = False) -> None:
        frames[key] = answers
        frames[f"{key}-gold"] = gold.rename("label").rename_axis("task").reset_index()
        frames[f"{key}-part"] = warm_start_part(answers)
        plain, glad_part = jobs_for(key, glad_iterations=glad, short_runs=short_runs)
        plain_jobs.extend(plain)
        glad_jobs.extend(glad_part)

    # crowd-kit's GLAD is slow (10 s on dogs): full runs on the synthetic set only.
    add("synthetic", *synthetic_answers(), glad=(2, 100), short_runs=True)
    if (CROWD_DATA / "dogs" / "answers.csv").exists():
        add("dogs", *crowd_data("dogs"), glad=(2,))
    if (CROWD_DATA / "product" / "answers.csv").exists():
        add("product", *crowd_data("product"), glad=())  # crowd-kit's GLAD takes minutes here
    return run_both(tmp, [plain_jobs, glad_jobs], frames)


def near_ties(probas: pd.Series, margin: float = 1e-9) -> set[str]:
    """Tasks whose two most probable labels are within ``margin``: a rounding decides them."""
    wide = probas.unstack(fill_value=0.0)
    ordered = np.sort(wide.to_numpy(), axis=1)
    return set(wide.index[ordered[:, -1] - ordered[:, -2] <= margin])


def assert_same(oracle: Result, ours: Result, *, probas: bool = True, exact_ties: bool,
                iterations_apart: int = 0) -> None:
    oracle_labels, our_labels = oracle.labels(), ours.labels()
    assert set(oracle_labels.index) == set(our_labels.index)
    defined = oracle_labels[oracle_labels != "nan"]
    oracle_probas = oracle.probas()
    if not exact_ties:
        defined = defined.drop(list(near_ties(oracle_probas) & set(defined.index)))
    assert len(defined) > 0.9 * len(oracle_labels)
    different = defined[defined != our_labels.reindex(defined.index)]
    assert different.empty, f"{len(different)} labels differ, e.g. {different.head().to_dict()}"
    if probas:
        gap = (oracle_probas - ours.probas()).abs()
        assert not gap.isna().any(), "the two sides have different (task, label) cells"
        assert gap.max() < TOLERANCE
    if iterations_apart:
        assert abs(oracle.meta["iterations"] - ours.meta["iterations"]) <= iterations_apart
    else:
        assert oracle.meta["iterations"] == ours.meta["iterations"]


def assert_same_table(oracle: Result, ours: Result, name: str) -> None:
    expected, actual = oracle.table(name), ours.table(name)
    assert expected is not None
    assert actual is not None
    assert list(expected.index) == list(actual.index)
    assert np.abs(expected.to_numpy() - actual.to_numpy()).max() < TOLERANCE


DATA_SETS = ["synthetic", pytest.param("dogs", marks=pytest.mark.realdata),
             pytest.param("product", marks=pytest.mark.realdata)]


def pair(results: dict, name: str) -> tuple[Result, Result]:
    if name not in results:
        pytest.skip(f"{name}: its data set is not in ../shared/data")
    return results[name]


@pytest.mark.parametrize("data", DATA_SETS)
@pytest.mark.parametrize("method", VOTES)
def test_votes_equal_crowdkit(results: dict, data: str, method: str) -> None:
    oracle, ours = pair(results, f"{data}-{method}")
    assert_same(oracle, ours, exact_ties=True)
    assert_same_table(oracle, ours, "skills")


@pytest.mark.parametrize("data", DATA_SETS)
def test_gold_majority_vote_equals_crowdkit(results: dict, data: str) -> None:
    oracle, ours = pair(results, f"{data}-GoldMajorityVote")
    assert_same(oracle, ours, exact_ties=True)
    assert_same_table(oracle, ours, "skills")


@pytest.mark.parametrize("data", DATA_SETS)
@pytest.mark.parametrize("variant", ["OneCoinDawidSkene", "DawidSkene", "DawidSkene-gold",
                                     "DawidSkene-warm"])
def test_dawid_skene_family_equals_crowdkit(results: dict, data: str, variant: str) -> None:
    oracle, ours = pair(results, f"{data}-{variant}")
    assert_same(oracle, ours, exact_ties=False)
    assert_same_table(oracle, ours, "priors")
    assert_same_table(oracle, ours, "errors")
    if variant == "OneCoinDawidSkene":
        assert_same_table(oracle, ours, "skills")


@pytest.mark.parametrize("data", ["synthetic", pytest.param("dogs", marks=pytest.mark.realdata)])
def test_glad_equals_crowdkit_after_two_iterations(results: dict, data: str) -> None:
    oracle, ours = pair(results, f"{data}-GLAD-2")
    assert_same(oracle, ours, exact_ties=False)
    assert_same_table(oracle, ours, "alphas")
    assert_same_table(oracle, ours, "betas")


def test_dawid_skene_stopped_early_equals_crowdkit(results: dict) -> None:
    oracle, ours = pair(results, "synthetic-DawidSkene-3")
    assert ours.meta["iterations"] == 3
    assert_same(oracle, ours, exact_ties=False)
    assert_same_table(oracle, ours, "errors")


@pytest.mark.parametrize("data", ["synthetic"])
def test_glad_labels_equal_crowdkit_at_convergence(results: dict, data: str) -> None:
    # Each M-step is a truncated conjugate-gradient run (25 steps, gtol 0.01), which amplifies
    # rounding differences (1e-12 after one EM step, ~1e-3 after six): labels agree,
    # probabilities only to ~1e-2, and the objective's gain can cross tol one iteration
    # earlier or later (measured with pandas 3.1 / SciPy 1.17: 9 vs 10 iterations).
    oracle, ours = pair(results, f"{data}-GLAD-100")
    assert_same(oracle, ours, probas=False, exact_ties=False, iterations_apart=1)
    assert (oracle.probas() - ours.probas()).abs().max() < 5e-2
