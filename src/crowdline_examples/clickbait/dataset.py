"""Stage 5: the versioned training dataset — the seed labels plus every aggregated batch.

A union input gives one datum per labeled file; each becomes one part of the dataset, written
as CSV and Parquet. A new batch adds a part, so a new commit of `dataset` is the old dataset
plus the new labels, and an unchanged part is never rewritten.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crowdline_examples.clickbait.checks import read_csv

# model_label / model_confidence: what the routing model said, kept so the models step can
# measure it on the audited rows (see train.py)
PART_COLUMNS = ["id", "headline", "label", "confidence", "labeled_by", "judgments",
                "decision", "model_version", "pool_id", "model_label", "model_confidence"]


def add_part(inputs: dict[str, Path], output: Path) -> None:
    parts = output / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    for name, folder in inputs.items():
        for source in sorted(folder.rglob("*.csv")):
            if name == "seed":  # committed by people: check it
                rows = read_csv(source, required=("headline", "label"),
                                what="CSV of labeled headlines")
            else:  # written by the aggregate step
                rows = pd.read_csv(source, dtype=str, keep_default_na=False)
            frame = normalise(rows, origin="seed" if name == "seed" else "batch",
                              stem=source.stem)
            frame.to_csv(parts / f"{source.stem}.csv", index=False)
            frame.to_parquet(parts / f"{source.stem}.parquet", index=False)


def normalise(frame: pd.DataFrame, *, origin: str, stem: str) -> pd.DataFrame:
    """Give every part the same columns; seed rows are labels people made before the flow."""
    frame = frame.copy()
    if "id" not in frame.columns:
        frame.insert(0, "id", [f"{stem}-{i:05d}" for i in range(len(frame))])
    defaults = {"confidence": "1.0", "labeled_by": "human" if origin == "seed" else "",
                "judgments": "0", "decision": "", "model_version": "", "pool_id": "",
                "model_label": "", "model_confidence": ""}
    for column, value in defaults.items():
        if column not in frame.columns:
            frame[column] = value
    frame["confidence"] = frame["confidence"].astype(float)
    frame["judgments"] = frame["judgments"].astype(int)
    frame["model_label"] = frame["model_label"].astype(str)
    frame["model_confidence"] = pd.to_numeric(frame["model_confidence"], errors="coerce")
    return frame[PART_COLUMNS]


def read_dataset(folder: Path) -> pd.DataFrame:
    """Every part of a dataset version (a folder holding `parts/`) as one frame."""
    files = sorted((folder / "parts").glob("*.parquet"))
    if not files:
        return pd.DataFrame(columns=PART_COLUMNS)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
