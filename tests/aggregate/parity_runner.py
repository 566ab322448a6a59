"""Run small parity cases through one implementation and write every result, in order.

    python parity_runner.py crowdkit|crowdline CASES.json OUT.json

The parity tests (test_parity_*.py) run it under the oracle interpreter (.venv-oracle,
crowd-kit 1.4.2) and under the project's, and compare the two OUT files: unlike
run_aggregator.py (long-form parquet, compared sorted) this keeps the order of every index
and the names crowd-kit gives, and records an exception's class chain instead of failing.
A case is {"name", "method", "params", "call", "answers", plus optional "gold", "skills",
"initial_error", "predict_answers"}; frames are JSON records, Series {"index", "values"}.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("MajorityVote", "Wawa", "GoldMajorityVote", "DawidSkene", "OneCoinDawidSkene",
           "GLAD")


def load_methods(implementation: str) -> dict[str, Any]:
    if implementation == "crowdkit":
        import crowdkit.aggregation as module
    else:
        import crowdline.aggregate as module

        votes_sorted = os.environ.get("CROWDLINE_PARITY_VOTES_SORTED")
        if votes_sorted is not None:  # play the oracle's pandas major (2: sorted, 3: not)
            import crowdline.aggregate.dawid_skene
            import crowdline.aggregate.majority_vote
            import crowdline.aggregate.wawa

            for part in (crowdline.aggregate.dawid_skene, crowdline.aggregate.majority_vote,
                         crowdline.aggregate.wawa):
                part.VOTES_SORTED = votes_sorted == "1"
    return {name: getattr(module, name) for name in METHODS}


def plain(value: Any) -> Any:
    """A JSON-safe scalar (numpy scalars to Python, NaN to None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def index_json(index: pd.Index) -> dict:
    return {"names": [plain(n) for n in index.names], "values": [
        [plain(v) for v in item] if isinstance(item, tuple) else plain(item) for item in index]}


def result_json(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return {"kind": "series", "name": plain(value.name), "dtype": str(value.dtype),
                "index": index_json(value.index), "values": [plain(v) for v in value]}
    if isinstance(value, pd.DataFrame):
        return {"kind": "frame", "index": index_json(value.index),
                "columns": index_json(value.columns),
                "values": [[plain(v) for v in row] for row in value.to_numpy(dtype=object)]}
    return {"kind": type(value).__name__}


def frame(records: Any) -> pd.DataFrame:
    if isinstance(records, dict) and "multiindex" in records:  # an errors_-like frame
        index = pd.MultiIndex.from_tuples([tuple(i) for i in records["multiindex"]],
                                          names=records["names"])
        return pd.DataFrame(records["values"], index=index, columns=records["columns"])
    return pd.DataFrame(records, columns=None if records else ["task", "worker", "label"])


def series(spec: dict) -> pd.Series:
    return pd.Series(spec["values"], index=spec["index"],
                     dtype=spec.get("dtype"))


def run_case(methods: dict, case: dict) -> dict:
    params = dict(case.get("params", {}))
    for key in ("labels_priors", "alphas_priors_mean", "betas_priors_mean"):
        if isinstance(params.get(key), dict):
            params[key] = series(params[key])
    model = methods[case["method"]](**params)
    answers = frame(case["answers"])
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if "gold" in case:
        args.append(series(case["gold"]))
    if "skills" in case:
        args.append(series(case["skills"]))
    if "initial_error" in case:
        kwargs["initial_error"] = frame(case["initial_error"])
    call = case.get("call", "fit_predict_proba")
    out: dict[str, Any] = {}
    try:
        if call == "fit+predict":
            model.fit(answers, *args)
            out["after_fit"] = {"skills_": result_json(model.skills_)}
            out["returned"] = result_json(model.predict(frame(case["predict_answers"])))
        elif call == "fit+predict_proba":
            model.fit(answers, *args)
            out["returned"] = result_json(model.predict_proba(frame(case["predict_answers"])))
        else:
            returned = getattr(model, call)(answers, *args, **kwargs)
            out["returned"] = result_json(returned)
            out["returned_is_attribute"] = any(
                returned is getattr(model, name, None) for name in ("labels_", "probas_"))
    except Exception as error:  # noqa: BLE001 - the class chain is the result
        out["error"] = {"classes": [c.__name__ for c in type(error).__mro__],
                        "message": str(error)}
        return out
    for name in ("labels_", "probas_", "skills_", "errors_", "priors_", "alphas_", "betas_"):
        value = getattr(model, name, None)
        if value is not None:
            out[name] = result_json(value)
    return out


def main() -> None:
    implementation, cases_path, out_path = sys.argv[1:4]
    warnings.simplefilter("ignore")
    methods = load_methods(implementation)
    cases = json.loads(Path(cases_path).read_text())
    results = {"pandas": pd.__version__,
               "cases": {case["name"]: run_case(methods, case) for case in cases}}
    Path(out_path).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
