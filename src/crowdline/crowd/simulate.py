"""A simulated crowd: synthetic annotators with confusion matrices and answer-time
distributions, labeling through the real facade (fast, in process) or the real annotator HTTP
API (``HttpRunner``). A real crowd replaces it with no other change.

A simulated worker answers from a truth the caller gives (``truth(input_values) -> label``, e.g.
a column of the data set) — never from the golden answers stored in the database.

    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    workers = invite_simulated_workers(crowd, make_profiles(20, seed=1), seed=1)
    report = InProcessRunner(crowd, workers, truth_from_column(labels, "headline"),
                             clock=clock).run()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from crowdline.errors import InvalidInput

Truth = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class WorkerProfile:
    """How a simulated annotator behaves.

    kind: ``good`` / ``mediocre`` (right with probability ``accuracy``, else a uniformly wrong
    label), ``random`` (uniform spammer), ``constant`` (always ``constant_label`` or the first
    label), ``adversarial`` (wrong on purpose with probability ``accuracy``).
    Answer time per task: log-normal with median ``median_seconds`` and shape ``sigma``.
    """

    kind: str
    accuracy: float = 0.9
    median_seconds: float = 6.0
    sigma: float = 0.5
    constant_label: str | None = None
    skip_rate: float = 0.0

    def confusion(self, classes: Sequence[str]) -> list[list[float]]:
        """Row = true class, column = answered class (probabilities)."""
        k = len(classes)
        if self.kind == "random":
            return [[1.0 / k] * k for _ in classes]
        if self.kind == "constant":
            target = classes.index(self.constant_label) if self.constant_label in classes else 0
            return [[1.0 if j == target else 0.0 for j in range(k)] for _ in classes]
        right = 1.0 - self.accuracy if self.kind == "adversarial" else self.accuracy
        wrong = (1.0 - right) / (k - 1) if k > 1 else 0.0
        return [[right if i == j else wrong for j in range(k)] for i in range(k)]


PROFILES: dict[str, WorkerProfile] = {
    "good": WorkerProfile("good", accuracy=0.95, median_seconds=5.0),
    "mediocre": WorkerProfile("mediocre", accuracy=0.75, median_seconds=4.0),
    "random": WorkerProfile("random", median_seconds=1.0, sigma=0.3),
    "constant": WorkerProfile("constant", median_seconds=0.8, sigma=0.2),
    "adversarial": WorkerProfile("adversarial", accuracy=0.8, median_seconds=3.0),
}
DEFAULT_MIX = {"good": 0.6, "mediocre": 0.2, "random": 0.1, "constant": 0.05,
               "adversarial": 0.05}


def make_profiles(n: int, mix: Mapping[str, float] | None = None,
                  seed: int = 0) -> list[WorkerProfile]:
    """``n`` profiles in the proportions of ``mix`` (names from PROFILES), shuffled."""
    mix = dict(mix or DEFAULT_MIX)
    unknown = set(mix) - set(PROFILES)
    if unknown:
        raise InvalidInput(f"unknown worker profiles {sorted(unknown)}",
                           hint=f"use names from {', '.join(PROFILES)}")
    total = sum(mix.values())
    counts = {name: int(n * share / total) for name, share in mix.items()}
    for name in sorted(mix, key=lambda m: -mix[m]):  # hand out the rounding remainder
        if sum(counts.values()) >= n:
            break
        counts[name] += 1
    profiles = [PROFILES[name] for name, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(profiles)
    return profiles


@dataclass
class SimulatedWorker:
    id: str
    name: str
    token: str
    profile: WorkerProfile
    rng: random.Random = field(default_factory=random.Random)

    def answer(self, true_label: Any, classes: Sequence[str]) -> str:
        if true_label is None or str(true_label) not in classes:
            return self.rng.choice(list(classes))
        row = self.profile.confusion(classes)[list(classes).index(str(true_label))]
        return self.rng.choices(list(classes), weights=row)[0]

    def answer_seconds(self) -> float:
        return self.profile.median_seconds * self.rng.lognormvariate(0.0, self.profile.sigma)

    def wants_to_skip(self) -> bool:
        return self.profile.skip_rate > 0 and self.rng.random() < self.profile.skip_rate

    def solutions(self, suite: Mapping[str, Any], truth: Truth) -> tuple[list[dict], float]:
        """(solutions, seconds spent) for an annotator-assignment dict."""
        classes = [label["value"] if isinstance(label, Mapping) else label[0]
                   for label in suite["labels"]]
        field_name = next(iter(suite["output_spec"]))
        solutions, seconds = [], 0.0
        for task in suite["tasks"]:
            solutions.append({"output_values": {
                field_name: self.answer(truth(task["input_values"]), classes)}})
            seconds += self.answer_seconds()
        return solutions, seconds


def truth_from_column(labels: Mapping[str, Any], input_field: str) -> Truth:
    """Truth keyed by one input field, e.g. ``{headline: label}`` from the data set."""
    return lambda input_values: labels.get(str(input_values.get(input_field)))


def invite_simulated_workers(crowd: Any, profiles: Sequence[WorkerProfile], *,
                             prefix: str = "sim", seed: int = 0) -> list[SimulatedWorker]:
    workers = []
    for i, profile in enumerate(profiles):
        worker, token = crowd.invite_worker(f"{prefix}-{i:03d}-{profile.kind}")
        workers.append(SimulatedWorker(id=worker.id, name=worker.name, token=token,
                                       profile=profile, rng=random.Random(seed * 100003 + i)))
    return workers


class SimulatedClock:
    """A UTC clock that only moves when told to: pass it as ``Crowd(clock=...)``."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime.now(dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)


@dataclass
class RunReport:
    suites: int = 0
    answers: int = 0
    skipped: int = 0
    per_worker: Counter[str] = field(default_factory=Counter)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)  # what the server acked
    fetch_seconds: list[float] = field(default_factory=list)
    submit_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0


class InProcessRunner:
    """Workers take turns calling the facade directly; a SimulatedClock advances by each
    suite's answer time, so time-based QC rules see realistic durations."""

    def __init__(self, crowd: Any, workers: Sequence[SimulatedWorker], truth: Truth, *,
                 clock: SimulatedClock | None = None) -> None:
        self.crowd, self.workers, self.truth, self.clock = crowd, list(workers), truth, clock

    def run(self, pool_id: str | None = None, *, max_suites: int | None = None) -> RunReport:
        report = RunReport()
        started = time.perf_counter()
        active = list(self.workers)
        while active and (max_suites is None or report.suites < max_suites):
            for worker in list(active):
                suite = self.crowd.request_assignment(worker.id, pool_id)
                if suite is None:
                    active.remove(worker)
                    continue
                view = suite.to_dict()
                if worker.wants_to_skip():
                    self.crowd.skip_assignment(worker.id, suite.id)
                    report.skipped += 1
                    continue
                solutions, seconds = worker.solutions(view, self.truth)
                if self.clock is not None:
                    self.clock.advance(seconds)
                self.crowd.submit_assignment(worker.id, suite.id, solutions,
                                             idempotency_key=uuid.uuid4().hex)
                report.suites += 1
                report.answers += len(solutions)
                report.per_worker[worker.id] += len(solutions)
                report.acknowledged.append({"assignment_id": suite.id, "worker_id": worker.id,
                                            "task_ids": [t["id"] for t in view["tasks"]],
                                            "solutions": solutions})
                if max_suites is not None and report.suites >= max_suites:
                    break
        report.elapsed_seconds = time.perf_counter() - started
        return report


class HttpRunner:
    """Each worker labels concurrently through the annotator HTTP API (Bearer worker token):
    ``POST /api/annotator/v1/assignments/next`` then ``.../{id}/submit`` or ``.../{id}/skip``.
    ``time_scale`` > 0 sleeps that fraction of each suite's simulated answer time."""

    def __init__(self, base_url: str, workers: Sequence[SimulatedWorker], truth: Truth, *,
                 concurrency: int | None = None, time_scale: float = 0.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 60.0) -> None:
        self.base_url, self.workers, self.truth = base_url.rstrip("/"), list(workers), truth
        self.concurrency = concurrency or len(self.workers)
        self.time_scale, self.transport, self.timeout = time_scale, transport, timeout

    def run(self, pool_id: str | None = None, *, max_suites_per_worker: int | None = None,
            deadline_seconds: float | None = None) -> RunReport:
        return asyncio.run(self.run_async(pool_id, max_suites_per_worker=max_suites_per_worker,
                                          deadline_seconds=deadline_seconds))

    async def run_async(self, pool_id: str | None = None, *,
                        max_suites_per_worker: int | None = None,
                        deadline_seconds: float | None = None) -> RunReport:
        report = RunReport()
        started = time.perf_counter()
        limits = httpx.Limits(max_connections=self.concurrency,
                              max_keepalive_connections=self.concurrency)
        gate = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport,
                                     timeout=self.timeout, limits=limits) as client:
            await asyncio.gather(*(self._label(client, gate, worker, pool_id, report,
                                               max_suites_per_worker, started, deadline_seconds)
                                   for worker in self.workers))
        report.elapsed_seconds = time.perf_counter() - started
        return report

    async def _label(self, client: httpx.AsyncClient, gate: asyncio.Semaphore,
                     worker: SimulatedWorker, pool_id: str | None, report: RunReport,
                     max_suites: int | None, started: float, deadline: float | None) -> None:
        headers = {"Authorization": f"Bearer {worker.token}"}
        done = 0
        while max_suites is None or done < max_suites:
            if deadline is not None and time.perf_counter() - started > deadline:
                return
            async with gate:
                begun = time.perf_counter()
                response = await client.post("/api/annotator/v1/assignments/next",
                                             json={"pool_id": pool_id}, headers=headers)
                report.fetch_seconds.append(time.perf_counter() - begun)
            if response.status_code == 204:
                return
            if response.status_code != 200:
                report.errors.append(f"next {response.status_code}: {response.text[:200]}")
                return
            suite = response.json()
            if worker.wants_to_skip():
                async with gate:
                    skipped = await client.post(
                        f"/api/annotator/v1/assignments/{suite['id']}/skip", headers=headers)
                if skipped.status_code == 200:
                    report.skipped += 1
                continue
            solutions, seconds = worker.solutions(suite, self.truth)
            if self.time_scale > 0:
                await asyncio.sleep(seconds * self.time_scale)
            body = {"solutions": solutions, "idempotency_key": uuid.uuid4().hex}
            async with gate:
                begun = time.perf_counter()
                response = await client.post(
                    f"/api/annotator/v1/assignments/{suite['id']}/submit", json=body,
                    headers=headers)
                report.submit_seconds.append(time.perf_counter() - begun)
            if response.status_code != 200:
                report.errors.append(f"submit {response.status_code}: {response.text[:200]}")
                continue
            done += 1
            report.suites += 1
            report.answers += len(solutions)
            report.per_worker[worker.id] += len(solutions)
            report.acknowledged.append({"assignment_id": suite["id"], "worker_id": worker.id,
                                        "task_ids": [t["id"] for t in suite["tasks"]],
                                        "solutions": solutions})
