"""Benchmark: the labeling server under concurrent annotators over HTTP on loopback.

One `crowdline serve` process (or several with --server-workers, for PostgreSQL) and, in this
process, a lean keep-alive HTTP/1.1 load generator (asyncio streams, no client library, so the
client costs little of the shared CPU). Cases, each on a fresh pool:

* closed K=10 / K=50 / K=200: one-task suites, overlap 1, no think time — each annotator
  fetches a suite and submits it as fast as the server answers (pairs/s = suites/s);
* realistic: 4 real + 1 golden task per suite, overlap 3, a GOLDEN_SET ban rule, K=200, 5 % of
  the annotators answer at random (and get banned);
* open: 200 annotators who think 3 s between getting a suite and submitting it (offered load
  ~200 / 3 s); what matters is achieved = offered and the latency of next and submit.

For each case: pairs (suites) and answers per second, p50/p95/p99 of next and submit, errors,
tasks beyond their overlap (counted in the database afterwards), the server's CPU seconds per
request (load-independent: the box is shared), peak RSS and the load average.

    python bench/serve.py [--sqlite | --postgres] [--cases closed10,closed50,...] [--seconds S]
                          [--server-workers N] [--peer-label-studio] [--label NAME]

Writes bench/results/serve.json (one entry per label, back-end, server processes and case).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import sqlalchemy as sa

from crowdline.testing.ports import free_port, wait_for_port
from crowdline.testing.postgres import PostgresServer, find_pg_bin
from crowdline.workspace import Workspace

RESULTS = Path(__file__).parent / "results" / "serve.json"
LABELS = ["clickbait", "notclickbait"]
BATCH = 50_000
API = "/api/annotator/v1/assignments"
CASES = ("closed10", "closed50", "closed200", "realistic", "open")


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def truth(task: dict) -> str:
    """The right answer of real and control task i alike: LABELS[i % 2]."""
    return LABELS[int(task["input_values"]["headline"].split()[-1]) % 2]


# -- pools --------------------------------------------------------------------------------------


def build_pool(ws: Workspace, name: str, tasks: int, *, real: int, golden: int,
               overlap: int, rule: bool) -> str:
    crowd = ws.crowd
    project = crowd.create_project({
        "public_name": "Is this headline clickbait?", "public_instructions": "Say if it is.",
        "task_spec": {"input_spec": {"headline": {"type": "string"}},
                      "output_spec": {"category": {"type": "string", "allowed_values": LABELS}}}})
    qc = {"configs": [{
        "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": 10}},
        "rules": [{"conditions": [
            {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 40},
            {"key": "golden_set_answers_count", "operator": "GTE", "value": 5}],
            "action": {"type": "RESTRICTION_V2",
                       "parameters": {"scope": "POOL", "duration_unit": "PERMANENT"}}}]}]}
    pool = crowd.create_pool({
        "project_id": project.id, "private_name": name, "reward_per_assignment": 0.01,
        "assignment_max_duration_seconds": 600,
        "defaults": {"default_overlap_for_new_tasks": overlap},
        "mixer_config": {"real_tasks_count": real, "golden_tasks_count": golden,
                         "training_tasks_count": 0},
        **({"quality_control": qc} if rule else {})})
    if golden:
        crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"golden {i}"},
                             "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}
                            for i in range(max(10, tasks // 100))], report_items=False)
    for first in range(0, tasks, BATCH):
        crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"headline {i}"}}
                            for i in range(first, min(tasks, first + BATCH))],
                           report_items=False)
    return pool.id


def over_overlap(ws: Workspace, pool_id: str) -> int:
    """Tasks of the pool holding more slots (live or answered suites) than their overlap."""
    with ws.engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT a.task_id FROM crowd_answers a "
            "JOIN crowd_assignments s ON s.id = a.assignment_id "
            "JOIN crowd_tasks t ON t.id = a.task_id "
            "WHERE a.pool_id = :pool AND a.kind = 'REAL' "
            "AND s.status IN ('ACTIVE', 'SUBMITTED', 'ACCEPTED', 'REJECTED') "
            "GROUP BY a.task_id, t.overlap HAVING count(*) > t.overlap) x"),
            {"pool": int(pool_id)}).scalar_one())


# -- the load generator -------------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection: just enough client for JSON POSTs."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(
                        "127.0.0.1", self.port)
                return await self._post(path, body, token)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body)
        head = await self.reader.readuntil(b"\r\n\r\n")  # one await for the whole head
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return status, b"".join(p[:-2] for p in parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Tally:
    """What happened after the warm-up (``measuring`` turns on when it ends)."""

    measuring: bool = False
    pairs: int = 0
    answers: int = 0
    exhausted: int = 0  # annotators told "no more tasks" (204)
    errors: list[str] = field(default_factory=list)
    next_seconds: list[float] = field(default_factory=list)
    submit_seconds: list[float] = field(default_factory=list)
    all_errors: int = 0  # warm-up included


async def annotate(port: int, token: str, pool_id: str, tally: Tally, stop_at: float,
                   think: float, spammer: bool, start_delay: float) -> None:
    try:
        import orjson
    except ImportError:  # the "before" run of an older environment
        orjson = json

    http = Http(port)
    rng = random.Random(token)
    await asyncio.sleep(start_delay)
    ask = json.dumps({"pool_id": pool_id}).encode()
    try:
        while time.perf_counter() < stop_at:
            begun = time.perf_counter()
            status, body = await http.post(f"{API}/next", ask, token)
            if tally.measuring:
                tally.next_seconds.append(time.perf_counter() - begun)
            if status == 204:
                tally.exhausted += 1
                return
            if status != 200:
                tally.all_errors += 1
                if tally.measuring:
                    tally.errors.append(f"next {status}: {body[:200]!r}")
                await asyncio.sleep(0.05)
                continue
            suite = orjson.loads(body)
            solutions = [{"output_values": {"category": rng.choice(LABELS) if spammer
                                            else truth(task)}} for task in suite["tasks"]]
            if think:
                await asyncio.sleep(think)
            submit = orjson.dumps({"solutions": solutions, "idempotency_key": uuid.uuid4().hex})
            submit = submit if isinstance(submit, bytes) else submit.encode()
            begun = time.perf_counter()
            status, body = await http.post(f"{API}/{suite['id']}/submit", submit, token)
            if tally.measuring:
                tally.submit_seconds.append(time.perf_counter() - begun)
            if status != 200:
                tally.all_errors += 1
                if tally.measuring:
                    tally.errors.append(f"submit {status}: {body[:200]!r}")
                continue
            if tally.measuring:
                tally.pairs += 1
                tally.answers += len(solutions)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.all_errors += 1
        tally.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        http.close()


def drive(port: int, tokens: list[str], pool_id: str, warmup: float, seconds: float,
          think: float, spammers: int, on_measure: Callable[[], None]) -> tuple[Tally, float]:
    """Run the annotators for ``warmup`` + ``seconds``; count only the last ``seconds``
    (``on_measure`` is called when the warm-up ends, to snapshot the server's CPU)."""
    tally = Tally()
    window = {"start": 0.0}

    def start_measuring() -> None:
        on_measure()
        tally.measuring = True
        window["start"] = time.perf_counter()

    async def run() -> None:
        asyncio.get_running_loop().call_later(warmup, start_measuring)
        stop_at = time.perf_counter() + warmup + seconds
        await asyncio.gather(*(
            annotate(port, token, pool_id, tally, stop_at, think, i < spammers,
                     think * i / len(tokens)) for i, token in enumerate(tokens)))

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())
    return tally, time.perf_counter() - window["start"]


# -- measuring ----------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Peak resident memory of the server (and its children), sampled every 100 ms."""

    def __init__(self, pid: int, database_pid: int | None = None) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.database = None if database_pid is None else psutil.Process(database_pid)
        self.peak = 0
        self.stop = threading.Event()

    def database_cpu_seconds(self) -> float | None:
        """CPU of the PostgreSQL server and its backends (ended backends are not counted)."""
        if self.database is None:
            return None
        total = 0.0
        for p in [self.database, *self.database.children(recursive=True)]:
            try:
                times = p.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def members(self) -> list[psutil.Process]:
        return [self.process, *self.process.children(recursive=True)]

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.members():
            try:
                times = p.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, sum(p.memory_info().rss for p in self.members()))
            except psutil.Error:
                return
            self.stop.wait(0.1)


@dataclass
class Case:
    name: str
    annotators: int
    real: int = 1
    golden: int = 0
    overlap: int = 1
    rule: bool = False
    think: float = 0.0
    spammer_share: float = 0.0


def case_of(name: str) -> Case:
    if name.startswith("closed"):
        return Case(name, int(name.removeprefix("closed")))
    if name == "realistic":
        return Case(name, 200, real=4, golden=1, overlap=3, rule=True, spammer_share=0.05)
    if name == "open":
        return Case(name, 200, think=3.0)
    raise SystemExit(f"unknown case {name!r}: choose from {', '.join(CASES)}")


def run_case(ws: Workspace, case: Case, port: int, tokens: list[str], tasks: int,
             warmup: float, seconds: float, sampler: Sampler) -> dict:
    pool_id = build_pool(ws, case.name, tasks, real=case.real, golden=case.golden,
                         overlap=case.overlap, rule=case.rule)
    ws.crowd.open_pool(pool_id)
    warmup = max(warmup, case.think + 1.0)  # every annotator has asked once before counting
    print(f"  {case.name}: {case.annotators} annotators, {warmup:.0f}s warm-up + "
          f"{seconds:.0f}s", file=sys.stderr)
    load_start = os.getloadavg()[0]
    before: dict[str, float | None] = {}

    def snapshot() -> None:
        before.update(server=sampler.cpu_seconds(), client=time.process_time(),
                      database=sampler.database_cpu_seconds())

    tally, elapsed = drive(port, tokens[:case.annotators], pool_id, warmup, seconds,
                           case.think, int(case.annotators * case.spammer_share), snapshot)
    server_cpu = sampler.cpu_seconds() - before["server"]
    client_cpu = time.process_time() - before["client"]
    database_cpu = sampler.database_cpu_seconds()
    ws.crowd.close_pool(pool_id)
    requests = len(tally.next_seconds) + len(tally.submit_seconds)

    def per_request(cpu: float) -> float:
        return round(1000 * cpu / max(1, requests), 3)

    result = {
        "case": case.name, "annotators": case.annotators,
        "suite": f"{case.real} real + {case.golden} golden, overlap {case.overlap}"
                 + (", GOLDEN_SET ban rule" if case.rule else ""),
        "think_seconds": case.think, "warmup_seconds": warmup,
        "window_seconds": round(elapsed, 1),
        "pairs": tally.pairs, "answers": tally.answers, "requests": requests,
        "pairs_per_second": round(tally.pairs / elapsed, 1),
        "answers_per_second": round(tally.answers / elapsed, 1),
        "errors": len(tally.errors), "errors_with_warmup": tally.all_errors,
        "first_errors": tally.errors[:3],
        "annotators_out_of_tasks": tally.exhausted,
        "next_ms": {"p50": percentile(tally.next_seconds, 0.5),
                    "p95": percentile(tally.next_seconds, 0.95),
                    "p99": percentile(tally.next_seconds, 0.99)},
        "submit_ms": {"p50": percentile(tally.submit_seconds, 0.5),
                      "p95": percentile(tally.submit_seconds, 0.95),
                      "p99": percentile(tally.submit_seconds, 0.99)},
        "tasks_over_overlap": over_overlap(ws, pool_id),
        "bans": len(ws.crowd.list_restrictions(pool_id=pool_id)),
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_ms_per_request": per_request(server_cpu),
        "server_cpu_ms_per_pair": round(1000 * server_cpu / max(1, tally.pairs), 3),
        # load-independent: the pairs/s one core would serve if the server had it alone
        "server_pairs_per_cpu_second": round(tally.pairs / server_cpu) if server_cpu else None,
        "client_cpu_ms_per_request": per_request(client_cpu),
        "server_peak_rss_mb": round(sampler.peak / 2**20, 1),
        "load_average_1m": [round(load_start, 1), round(os.getloadavg()[0], 1)],
    }
    if database_cpu is not None and before["database"] is not None:
        result["database_cpu_ms_per_request"] = per_request(database_cpu - before["database"])
    if case.think:
        cycle = case.think + sum(tally.next_seconds + tally.submit_seconds) / max(1, requests) * 2
        result["offered_pairs_per_second"] = round(case.annotators / cycle, 1)
    print(f"    {result['pairs_per_second']} pairs/s ({result['answers_per_second']} answers/s), "
          f"next p99 {result['next_ms']['p99']} ms, submit p99 {result['submit_ms']['p99']} ms, "
          f"{result['server_cpu_ms_per_request']} ms server CPU/request, "
          f"{result['errors']} errors, {result['tasks_over_overlap']} over overlap",
          file=sys.stderr)
    return result


def postgres_pid(postgres: PostgresServer) -> int | None:
    try:
        return int((postgres.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def label_studio_peer() -> dict:
    """Label Studio beside us when it is installed; otherwise a note saying how to add it."""
    if shutil.which("label-studio") is None:
        return {"peer": "Label Studio", "skipped": "label-studio is not installed here; "
                "`pip install label-studio` in this environment to run it as the peer"}
    return {"peer": "Label Studio", "skipped": "installed, but this script does not drive it "
            "yet: the figures in the issue (0.96 pairs/s at K = 50) came from a separate run"}


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="real tasks per pool")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per case")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of load before the window (at least think time + 1 s)")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--server-workers", type=int, default=1,
                        help="server processes (crowdline serve --workers)")
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--sqlite", action="store_true", help="SQLite (the default)")
    backend.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL")
    parser.add_argument("--peer-label-studio", action="store_true",
                        help="also run Label Studio as the peer when it is installed")
    parser.add_argument("--label", default="crowdline", help="name of this run in the results")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    cases = [case_of(name) for name in args.cases.split(",") if name]

    # SIGTERM unwinds like Ctrl-C, so the servers started here are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="crowdline-perfserve-bench-", dir="/var/tmp"))
    postgres = None
    if args.postgres:
        if find_pg_bin() is None:
            raise SystemExit("PostgreSQL binaries are not installed; run without --postgres")
        # its own folder: the postgres user cannot enter our private temporary folder
        postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="crowdline-perfserve-pg-",
                                                        dir="/var/tmp"))).start()
        database_url = postgres.create_database("bench")
    else:
        database_url = f"sqlite:///{root / 'ws' / 'crowdline.db'}"
    backend_name = "postgresql" if postgres else "sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    env.update(CROWDLINE_HOME=str(root / "ws"), CROWDLINE_DATABASE_URL=database_url)
    server = None
    runs = []
    try:
        ws = Workspace.init(root / "ws", database_url=database_url)
        annotators = max(case.annotators for case in cases)
        tokens = [ws.crowd.invite_worker(f"annotator {i}")[1] for i in range(annotators)]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "crowdline.cli.main", "serve", "--port", str(port),
             "--no-pipelines", "--workers", str(args.server_workers)],
            env=env, stdout=subprocess.DEVNULL)
        if not wait_for_port(port, timeout=60):
            raise SystemExit("the server did not start")
        time.sleep(2 if args.server_workers > 1 else 0.5)
        sampler = Sampler(server.pid, None if postgres is None else postgres_pid(postgres))
        sampler.start()
        idle_rss = sum(p.memory_info().rss for p in sampler.members())
        print(f"{backend_name}, {args.server_workers} server process(es), port {port}",
              file=sys.stderr)
        for case in cases:
            runs.append(run_case(ws, case, port, tokens, args.tasks, args.warmup, args.seconds,
                                 sampler))
        sampler.stop.set()
        ws.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    result = {
        "label": args.label, "backend": backend_name,
        "server": f"crowdline serve --workers {args.server_workers}",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "note": "shared 2-core box: absolute rates depend on the other load; "
                            "server CPU ms per request does not"},
        "tasks_per_pool": args.tasks, "server_idle_rss_mb": round(idle_rss / 2**20, 1),
        "cases": runs,
    }
    if args.peer_label_studio:
        result["peer"] = label_studio_peer()
    if not args.no_save:
        save(result)
    print(json.dumps(result, indent=2))


def save(result: dict) -> None:
    """Keep one entry per (label, back-end, server processes); a new run replaces its cases."""
    def config(run: dict) -> tuple:
        return run.get("label"), run.get("backend"), run.get("server")

    runs = []
    if RESULTS.exists():
        runs = json.loads(RESULTS.read_text()).get("runs", [])
    for run in runs:
        if config(run) == config(result):
            kept = [c for c in run.get("cases", [])
                    if c["case"] not in {new["case"] for new in result["cases"]}]
            result["cases"] = kept + result["cases"]
    runs = [run for run in runs if config(run) != config(result)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": [*runs, result]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
