"""Simulated annotators for the Toloka tests: they work through the crowd facade."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx

LABELS = ["clickbait", "notclickbait"]


def label_everything_in(crowd: Any, truth: dict[str, str],
                        names: tuple[str, ...] = ("spammer", "ann", "bob", "cat")) -> dict:
    """Careful annotators and a spammer (always "clickbait") work until nothing is left."""
    workers = {name: crowd.invite_worker(name)[0] for name in names}
    rng = random.Random(3)
    active = dict(workers)
    while active:
        for name, worker in list(active.items()):
            suite = crowd.request_assignment(worker.id, None)
            if suite is None:
                del active[name]
                continue
            answers = []
            for task in suite.tasks:
                right = truth[task["input_values"]["headline"]]
                label = "clickbait" if name == "spammer" else (
                    right if rng.random() < 0.95 else LABELS[1 - LABELS.index(right)])
                answers.append({"output_values": {"category": label}})
            crowd.submit_assignment(worker.id, suite.id, answers)
    return {name: str(worker.id) for name, worker in workers.items()}


def take_suites(url: str, token: str, pool_id: str,
                answer: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """One annotator over the annotator HTTP API: take suites of one pool until none is left,
    submitting ``answer(suite)`` for each; the suites taken."""
    taken = []
    # one connection pool: a client per request builds a TLS context (~0.1 s of CPU)
    with httpx.Client(base_url=f"{url}/api/annotator/v1/assignments", timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        while True:
            got = http.post("/next", json={"pool_id": pool_id})
            if got.status_code == 204:
                return taken
            assert got.status_code == 200, got.text
            suite = got.json()
            taken.append(suite)
            sent = http.post(f"/{suite['id']}/submit", json=answer(suite))
            assert sent.status_code == 200, sent.text
