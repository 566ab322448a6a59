"""A stand-in for Toloka behind the seed's eight scripts (same command-line arguments, same
output files), so the seed's 10 Pachyderm specs run unchanged but for the /code/X.py path.

Standard library only (the specs run ``python3``). Toloka's state is one JSON file,
``$SEED_TOLOKA_STATE``; every call is also appended to its ``events`` list so a test can
see which pool each upload went into.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def toloka():
    path = Path(os.environ["SEED_TOLOKA_STATE"])
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {
            "next": 1, "pools": {}, "events": []}
        yield state
        path.write_text(json.dumps(state, indent=1))


def _new_id(state: dict, kind: str) -> str:
    ident = f"{kind}-{state['next']}"
    state["next"] += 1
    return ident


def _read(path: str) -> str:
    return Path(path).read_text().strip()


def _rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _token(args: argparse.Namespace) -> None:
    if not os.environ.get(args.token_env):
        sys.exit(f"no Toloka token in ${args.token_env}")


def main(script: str) -> None:
    parser = argparse.ArgumentParser(prog=script)
    parser.add_argument("--token_env")
    for name in ("project_config_path", "project_id_path", "training_config_path",
                 "training_id_path", "pool_config_path", "pool_id_path",
                 "output_pool_id_path", "tasks_csv", "control_csv", "training_csv",
                 "aggregated_tasks_path", "output", "results_path", "model_path"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--open_pool", action="store_true")
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--train_data", nargs="+")
    parser.add_argument("--test_data", nargs="+")
    args = parser.parse_args()
    if args.token_env:
        _token(args)
    globals()[script](args)


def create_project(args: argparse.Namespace) -> None:
    json.loads(Path(args.project_config_path).read_text())
    with toloka() as state:
        project = _new_id(state, "project")
        state["events"].append({"call": "create_project", "project": project})
    Path(args.project_id_path).write_text(project)


def create_training(args: argparse.Namespace) -> None:
    project = _read(args.project_id_path)
    with toloka() as state:
        training = _new_id(state, "training")
        state["pools"][training] = {"project": project, "status": "CLOSED", "tasks": [],
                                    "kind": "training"}
        state["events"].append({"call": "create_training", "pool": training})
    Path(args.training_id_path).write_text(training)


def create_pool(args: argparse.Namespace) -> None:
    project, training = _read(args.project_id_path), _read(args.training_id_path)
    json.loads(Path(args.pool_config_path).read_text())
    with toloka() as state:
        pool = _new_id(state, "pool")
        state["pools"][pool] = {"project": project, "training": training, "status": "CLOSED",
                                "tasks": [], "kind": "pool"}
        state["events"].append({"call": "create_pool", "pool": pool})
    Path(args.pool_id_path).write_text(pool)


def create_tasks_from_csv(args: argparse.Namespace) -> None:
    pool = _read(args.pool_id_path)
    with toloka() as state:
        if pool not in state["pools"]:
            sys.exit(f"pool {pool} does not exist")
        for kind, path in (("tasks", args.tasks_csv), ("control", args.control_csv),
                           ("training", args.training_csv)):
            if not path:
                continue
            rows = [row["INPUT:headline"] for row in _rows(path)]
            target = state["pools"][pool]
            state["events"].append({"call": "upload", "pool": pool, "kind": kind,
                                    "rows": rows, "pool_status": target["status"]})
            target["tasks"] += [{"headline": h, "kind": kind} for h in rows]
        if args.open_pool:
            state["pools"][pool]["status"] = "OPEN"
    Path(args.output_pool_id_path).write_text(pool)


def wait_pool(args: argparse.Namespace) -> None:
    """The crowd labels every task at once: the pool opens, completes and closes."""
    pool = _read(args.pool_id_path)
    with toloka() as state:
        target = state["pools"][pool]
        for task in target["tasks"]:
            if task["kind"] == "tasks":
                words = task["headline"].lower()
                task["answer"] = "clickbait" if any(
                    w in words for w in ("you", "this", "these", "things", "?")
                ) else "notclickbait"
        target["status"] = "CLOSED"
        target["completed"] = True
        state["events"].append({"call": "wait_pool", "pool": pool})
    Path(args.output_pool_id_path).write_text(pool)


def aggregate_assignments(args: argparse.Namespace) -> None:
    pool = _read(args.pool_id_path)
    with toloka() as state:
        tasks = [t for t in state["pools"][pool]["tasks"] if t["kind"] == "tasks"]
        state["events"].append({"call": "aggregate", "pool": pool})
    with open(args.aggregated_tasks_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["headline", "category"])
        writer.writerows([t["headline"], t.get("answer", "")] for t in tasks)


def concatenate_datasets(args: argparse.Namespace) -> None:
    rows = [row for path in args.datasets for row in _rows(path)]
    with open(args.output, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["headline", "category"])
        writer.writeheader()
        writer.writerows({"headline": r["headline"], "category": r["category"]} for r in rows)


def train_test_model(args: argparse.Namespace) -> None:
    train = [row for path in args.train_data for row in _rows(path)]
    test = [row for path in args.test_data for row in _rows(path)]
    with toloka() as state:
        state["events"].append({"call": "train", "rows": len(train)})
    Path(args.results_path).write_text(json.dumps({"train_rows": len(train),
                                                   "test_rows": len(test)}))
    Path(args.model_path).write_bytes(b"model trained on %d rows" % len(train))
