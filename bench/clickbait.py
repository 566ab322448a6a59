"""Benchmark: the clickbait flow on the real data set (../shared/data/clickbait, 32,000 labeled
headlines) with the simulated crowd — the same pipelines `crowdline demo` runs.

The data set is split into reference sets (honeypots, training tasks, seed labels, a held-out
evaluation set) and batches of new headlines committed one after another; each commit runs the
whole flow (route → label → aggregate → dataset → retrain). Reports throughput (rows/s per
batch and overall), human judgments per item, the share the model labeled, label accuracy
against the data set's labels, the model's held-out accuracy per version, and the routing
threshold each batch used (chosen from the audits so far, with its evidence).

    python bench/clickbait.py [--rows N] [--batches K] [--workers W] [--data CSV]

Writes bench/results/clickbait.json. Skips (exit 0, says why) when the data set is absent.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd

from crowdline.workspace import Workspace
from crowdline_examples.clickbait import flow
from crowdline_examples.clickbait.report import batch_labels, model_versions

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "clickbait" / "clickbait.csv"
RESULTS = HERE / "results" / "clickbait.json"


def split(frame: pd.DataFrame, folder: Path, batches: int) -> list[Path]:
    """Reference files the flow needs, then `batches` CSVs of new headlines with truth."""
    frame = frame.sample(frac=1.0, random_state=11).reset_index(drop=True)
    sizes = {"golden": 500, "training": 20, "seed_labeled": 1000, "test": 2000}
    start = 0
    for name, size in sizes.items():
        part = frame.iloc[start:start + size][["headline", "label"]].copy()
        if name == "training":
            part["hint"] = "Clickbait teases or exaggerates instead of stating the news."
        part.to_csv(folder / f"{name}.csv", index=False)
        start += size
    rest = frame.iloc[start:]
    paths = []
    chunk = -(-len(rest) // batches)
    for i in range(batches):
        part = rest.iloc[i * chunk:(i + 1) * chunk]
        out = pd.DataFrame({"id": [f"r{i + 1}-{j:06d}" for j in range(len(part))],
                            "headline": part["headline"].to_numpy(), "source": "shared",
                            "truth": part["label"].to_numpy()})
        path = folder / f"batch_{i + 1}.csv"
        out.to_csv(path, index=False)
        paths.append(path)
    return paths


def crowd(workers: int) -> dict:
    spammers = max(1, workers // 10)
    people = [{"name": f"w{i:03d}", "kind": "good" if i % 3 else "mediocre",
               "accuracy": 0.93 if i % 3 else 0.78, "seconds_per_task": 5.0}
              for i in range(workers - spammers)]
    people += [{"name": f"spam{i}", "kind": "spammer", "accuracy": 0.5,
                "seconds_per_task": 0.3} for i in range(spammers)]
    return {"random_seed": 7, "workers": people}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=0, help="use the first N rows (0 = all)")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--data", type=Path, default=DATA,
                        help="the clickbait CSV (default: the shared data set beside the repo)")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found")
        return
    frame = pd.read_csv(args.data, dtype=str)
    if args.rows:
        frame = frame.iloc[:args.rows]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        batch_paths = split(frame, data_dir, args.batches)
        truth = pd.concat([pd.read_csv(p, dtype=str) for p in batch_paths])
        workspace = Workspace.init(tmp_path / "ws")
        started = time.perf_counter()
        flow.set_up(workspace, data_dir=data_dir, crowd_config=crowd(args.workers))
        workspace.pipelines.run()
        setup_seconds = time.perf_counter() - started
        per_batch = []
        for path in batch_paths:
            t0 = time.perf_counter()
            flow.commit_batch(workspace, path)
            workspace.pipelines.run()
            seconds = time.perf_counter() - t0
            rows = sum(1 for _ in open(path)) - 1
            per_batch.append({"batch": path.stem, "rows": rows, "seconds": round(seconds, 2),
                              "rows_per_second": round(rows / seconds, 1)})
            used = json.loads(workspace.store.get_file("route", "master",
                                                       f"/{path.stem}/threshold.json"))
            per_batch[-1]["routing_threshold"] = used
            print(f"{path.stem}: {rows} rows in {seconds:.1f} s, threshold "
                  f"{used['threshold']} ({used['source']})")
        total_seconds = time.perf_counter() - started
        labels = batch_labels(workspace)
        merged = labels.merge(truth[["id", "truth"]], on="id")
        correct = merged["label"] == merged["truth"]
        human = merged["labeled_by"] != "model"
        labels["judgments"] = labels["judgments"].astype(int)
        versions = model_versions(workspace)
        banned = [r.user_id for r in workspace.crowd.list_restrictions()]
        workers = {w.id: w.name for w in workspace.crowd.list_workers()}
        golden_answers = sum(
            len(pd.read_csv(io.BytesIO(workspace.store.get_file(
                "label", "master", f"/{p.stem}/answers.csv"))).query("is_golden"))
            for p in batch_paths)
        result = {
            "benchmark": "clickbait flow on the real data set, simulated crowd",
            "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
            "rows": int(len(labels)),
            "batches": per_batch,
            "setup_seconds": round(setup_seconds, 2),
            "total_seconds": round(total_seconds, 2),
            "throughput_rows_per_second": round(len(labels) / (total_seconds - setup_seconds), 1),
            "labeled_by_people": int(human.sum()),
            "labeled_by_model": int((~human).sum()),
            "human_judgments": int(labels["judgments"].sum()),
            "judgments_per_item": round(float(labels["judgments"].sum()) / len(labels), 3),
            "judgments_per_human_item": round(float(labels.loc[
                labels["labeled_by"] != "model", "judgments"].mean()), 3),
            "honeypot_judgments": int(golden_answers),
            "judgments_per_item_including_honeypots": round(
                (float(labels["judgments"].sum()) + golden_answers) / len(labels), 3),
            "accuracy": round(float(correct.mean()), 4),
            "accuracy_people": round(float(correct[human].mean()), 4),
            "accuracy_model": round(float(correct[~human].mean()), 4),
            "model_versions": [v["metrics"] for v in versions],
            # the threshold each version chose from the audits so far, with its evidence
            "model_thresholds": [v["thresholds"] for v in versions],
            "banned_workers": sorted(workers.get(b, b) for b in banned),
            "seed_setup_fixed_overlap_5_judgments_per_item": 5,
        }
        workspace.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("batches", "model_versions")},
                     indent=2))


if __name__ == "__main__":
    main()
