"""Agreement and quality metrics over answers (crowd-kit 1.4.2's ``crowdkit.metrics``).

- ``alpha_krippendorff(answers, distance=None)``: agreement beyond chance (1 = perfect,
  ≥ 0.8 reliable, ≥ 0.667 tentative), nominal by default or with any distance function;
- ``uncertainty(answers, ...)``: entropy of each task's (or worker's) skill-weighted label
  distribution, or its mean;
- ``consistency(answers, ...)``: posterior probability of the aggregated label under a
  one-coin model with the workers' skills, per task or averaged;
- ``accuracy_on_aggregates(answers, ...)``: share of answers equal to the aggregated label,
  overall or per worker.

Same numbers as crowd-kit (tested against it), computed on arrays: per-task label counts and
products instead of row-wise ``apply``. Labels may be any hashable value (e.g. frozensets for
multi-label answers); tasks and workers as in ``base.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd
from scipy.stats import entropy

from crowdline.aggregate.base import ANSWER_COLUMNS, Aggregator, require_columns
from crowdline.aggregate.majority_vote import MajorityVote
from crowdline.errors import InvalidInput

Distance = Callable[[Hashable, Hashable], float]


def _checked(answers: pd.DataFrame) -> pd.DataFrame:
    require_columns(answers, "answers")
    for column in ANSWER_COLUMNS:
        empty = int(answers[column].isna().sum())
        if empty:
            raise InvalidInput(f"{empty} answers have no {column} (NaN/None)",
                               hint=f"drop or fill the rows with a missing {column} first")
    return answers


def _codes(values: pd.Series, what: str) -> tuple[np.ndarray, pd.Index]:
    try:
        codes, uniques = pd.factorize(values, sort=False)
    except TypeError as error:  # a list label, for instance
        raise InvalidInput(f"the {what} column holds unhashable values ({error})",
                           hint="use str, int, bool or frozenset values") from error
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def _disagreement(counts: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Σ_{l,j} n_l · n_j · d(l, j) for each row of label counts."""
    return np.einsum("il,lj,ij->i", counts, distances, counts)


def alpha_krippendorff(answers: pd.DataFrame, distance: Distance | None = None) -> float:
    """Krippendorff's alpha: 1 − observed disagreement / disagreement expected by chance.

    Tasks with fewer than two answers are left out; ``distance(a, b)`` (0 for equal labels,
    up to 1) defaults to the nominal 0/1 distance, e.g. ``nltk.metrics.masi_distance`` for
    frozenset labels. 1.0 when only one label value occurs, as in crowd-kit (via NLTK).
    """
    answers = _checked(answers)
    if answers.empty:
        raise InvalidInput("cannot compute alpha: the answers are empty",
                           hint="compute it once answers exist")
    task, tasks = _codes(answers["task"], "task")
    label, labels = _codes(answers["label"], "label")
    if len(labels) == 1:
        return 1.0
    if len(tasks) == 1 and answers["worker"].nunique() == 1:
        raise InvalidInput("cannot compute alpha from one worker's answers to one task",
                           hint="it needs answers from at least two workers")
    counts = np.zeros((len(tasks), len(labels)))
    np.add.at(counts, (task, label), 1.0)
    per_task = counts.sum(axis=1)
    counts, per_task = counts[per_task >= 2], per_task[per_task >= 2]
    overall = counts.sum(axis=0)
    if np.count_nonzero(overall) <= 1:
        return 1.0
    if distance is None:
        distances = 1.0 - np.eye(len(labels))
    else:
        values = list(labels)
        distances = np.array([[float(distance(a, b)) for b in values] for a in values])
    observed = float((_disagreement(counts, distances) / (per_task - 1)).sum()) / overall.sum()
    n = overall.sum()
    expected = float(_disagreement(overall[None, :], distances)[0]) / (n * (n - 1))
    if expected == 0:
        raise InvalidInput("cannot compute alpha: the distance is 0 between all labels given",
                           hint="pass a distance that separates different labels")
    return 1.0 - observed / expected


def _skills_of_answers(answers: pd.DataFrame, skills: pd.Series) -> np.ndarray:
    if not isinstance(skills, pd.Series):
        raise InvalidInput(f"workers_skills must be a pandas Series by worker, got "
                           f"{type(skills).__name__}",
                           hint="pass e.g. MajorityVote().fit(answers).skills_")
    unique = skills[~skills.index.duplicated(keep="last")]
    per_answer = unique.reindex(answers["worker"].to_numpy()).to_numpy(dtype=float)
    unknown = np.isnan(per_answer)
    if unknown.any():
        missing = sorted(set(answers["worker"].to_numpy()[unknown]), key=str)[:5]
        raise InvalidInput(f"no skill for the workers {missing}",
                           hint="give every worker in the answers a skill")
    return per_answer


def _label_likelihoods(label: np.ndarray, n_labels: int, skill: np.ndarray) -> np.ndarray:
    """(answers × labels): skill for the label given, (1 − skill)/(K − 1) for the others."""
    given = label[:, None] == np.arange(n_labels)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        other = (1.0 - skill[:, None]) / (n_labels - 1)
    return np.where(given, skill[:, None], other)


def _fitted_skills(aggregator: Aggregator, answers: pd.DataFrame) -> pd.Series:
    skills = getattr(aggregator, "skills_", None)
    if skills is None:
        raise InvalidInput(f"{type(aggregator).__name__} estimates no worker skills",
                           hint="pass workers_skills, or an aggregator with skills_")
    return skills


def uncertainty(answers: pd.DataFrame, workers_skills: pd.Series | None = None,
                aggregator: Aggregator | None = None, compute_by: str = "task",
                aggregate: bool = True) -> float | pd.Series:
    """Entropy (natural log) of the label distribution per task (or per worker, with
    ``compute_by="worker"``): each answer spreads its worker's skill on its label and
    (1 − skill)/(K − 1) on every other label. Skills come from ``workers_skills``, else from
    ``aggregator.fit(answers).skills_``, else are 1 (plain label shares).
    ``aggregate=False`` returns a Series by task (or worker), sorted; otherwise the mean."""
    answers = _checked(answers)
    if compute_by not in answers.columns:
        raise InvalidInput(f"compute_by={compute_by!r} is not a column of the answers",
                           hint="use 'task' or 'worker'")
    if workers_skills is None and aggregator is not None:
        aggregator.fit(answers)
        workers_skills = _fitted_skills(aggregator, answers)
    skill = (np.ones(len(answers)) if workers_skills is None
             else _skills_of_answers(answers, workers_skills))
    label, labels = _codes(answers["label"], "label")
    group, groups = _codes(answers[compute_by], compute_by)
    shares = _label_likelihoods(label, len(labels), skill)
    totals = np.zeros((len(groups), len(labels)))
    np.add.at(totals, group, shares)
    values = entropy(totals, axis=1)
    result = pd.Series(values, index=pd.Index(groups, name=compute_by), name="uncertainty")
    result = _sorted(result)
    return float(result.mean()) if aggregate else result


def consistency(answers: pd.DataFrame, workers_skills: pd.Series | None = None,
                aggregator: Aggregator | None = None, by_task: bool = False
                ) -> float | pd.Series:
    """Posterior probability of each task's aggregated label (``aggregator``, default
    MajorityVote) given its answers and the workers' skills (``workers_skills``, default the
    aggregator's ``skills_``) under the one-coin model: Π likelihood of the aggregated label /
    Σ over labels of Π likelihood (0 where every label has likelihood 0). The mean, or with
    ``by_task=True`` a Series by task (sorted)."""
    answers = _checked(answers)
    aggregator = MajorityVote() if aggregator is None else aggregator
    aggregated = aggregator.fit_predict(answers)
    if workers_skills is None:
        workers_skills = _fitted_skills(aggregator, answers)
    skill = _skills_of_answers(answers, workers_skills)
    label, labels = _codes(answers["label"], "label")
    task, tasks = _codes(answers["task"], "task")
    likelihood = _label_likelihoods(label, len(labels), skill)
    order = np.argsort(task, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(task[order]) != 0])
    products = np.multiply.reduceat(likelihood[order], starts, axis=0)  # row order, like pandas
    present = task[order][starts]
    chosen = labels.get_indexer(aggregated.reindex(tasks[present]).to_numpy())
    if (chosen < 0).any():
        raise InvalidInput("the aggregated labels include labels no worker gave",
                           hint="use an aggregator whose labels come from the answers")
    denominator = products.sum(axis=1)
    numerator = products[np.arange(len(present)), chosen]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(denominator != 0, numerator / denominator, 0.0)
    result = _sorted(pd.Series(values, index=pd.Index(tasks[present], name="task"),
                               name="consistency"))
    return result if by_task else float(result.mean())


def accuracy_on_aggregates(answers: pd.DataFrame, aggregator: Aggregator | None = None,
                           aggregates: pd.Series | None = None, by: str | None = None
                           ) -> float | pd.Series:
    """Share of answers equal to their task's aggregated label: ``aggregates`` (a Series by
    task) or the labels ``aggregator`` (default MajorityVote) fits. Tasks without an
    aggregate are skipped; a repeated (task, worker, label) row counts once. ``by="worker"``
    gives a Series by worker (sorted), like crowd-kit's ``get_accuracy``."""
    answers = _checked(answers)
    if by is not None and by not in answers.columns:
        raise InvalidInput(f"by={by!r} is not a column of the answers",
                           hint="use None or 'worker'")
    if aggregates is None:
        aggregates = (MajorityVote() if aggregator is None else aggregator).fit_predict(answers)
    if not isinstance(aggregates, pd.Series):
        raise InvalidInput(f"aggregates must be a pandas Series by task, got "
                           f"{type(aggregates).__name__}", hint="pass an aggregator's labels_")
    rows = answers.drop_duplicates(["task", "worker", "label"])
    truth = aggregates[~aggregates.index.duplicated(keep="last")]
    truth = truth.reindex(rows["task"].to_numpy())
    known = truth.notna().to_numpy()
    rows = rows[known]
    correct = pd.Series(rows["label"].to_numpy() == truth.to_numpy()[known], index=rows.index,
                        dtype=float)
    if by is None:
        return float(correct.mean())
    result = correct.groupby(rows[by].to_numpy()).mean()
    result.index.name = by
    return result


def _sorted(series: pd.Series) -> pd.Series:
    try:
        return series.sort_index()
    except TypeError:
        return series
