"""kill -9 of `crowdline serve` in the middle of a load of annotators (SQLite and PostgreSQL):
every submit that was acknowledged is stored, no task holds more slots than its overlap, the
slot counters match the stored suites, and after a restart the pool completes exactly."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from server_helpers import make_pool, truth

from crowdline.crowd import tables as t
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.testing.postgres import PostgresServer
from crowdline.workspace import Workspace

API = "/api/annotator/v1/assignments"
OVERLAP = 2


def _serve(ws: Workspace, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """``crowdline serve`` in its own process group (``--workers N`` starts N processes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    env.update(CROWDLINE_HOME=str(ws.settings.home),
               CROWDLINE_DATABASE_URL=ws.settings.database_url)
    server = subprocess.Popen([sys.executable, "-m", "crowdline.cli.main", "serve", "--port",
                               str(port), "--no-pipelines", "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    assert wait_for_port(port, timeout=60), "the server did not start"
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server never answered /healthz")


async def _label(url: str, tokens: list[str], pool_id: str, stop: asyncio.Event,
                 acknowledged: list[dict]) -> None:
    async def one(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
            while not stop.is_set():
                try:
                    got = await client.post(f"{API}/next", json={"pool_id": pool_id})
                    if got.status_code != 200:
                        return
                    suite = got.json()
                    solutions = [{"output_values": {"category": truth(task["input_values"])}}
                                 for task in suite["tasks"]]
                    done = await client.post(f"{API}/{suite['id']}/submit", json={
                        "solutions": solutions, "idempotency_key": uuid.uuid4().hex})
                except httpx.TransportError:
                    return  # the server is gone
                if done.status_code == 200:
                    acknowledged.append({"assignment": suite["id"], "solutions": solutions,
                                         "tasks": [task["id"] for task in suite["tasks"]]})

    await asyncio.gather(*(one(token) for token in tokens))


def _load(url: str, tokens: list[str], pool_id: str, seconds: float | None,
          kill: subprocess.Popen[bytes] | None) -> list[dict]:
    acknowledged: list[dict] = []

    async def run() -> None:
        stop = asyncio.Event()
        work = asyncio.ensure_future(_label(url, tokens, pool_id, stop, acknowledged))
        if kill is not None and seconds is not None:
            # kill once the load is under way (a few acknowledged submits), however slow the
            # machine is, then a moment later: requests are in flight
            waited = 0.0
            while len(acknowledged) < 10 and waited < 120 and not work.done():
                await asyncio.sleep(0.05)
                waited += 0.05
            await asyncio.sleep(seconds)
            # mid-flight: requests and a batch in progress; every server process at once
            os.killpg(kill.pid, signal.SIGKILL)
        await work

    asyncio.run(run())
    return acknowledged


def _check(ws: Workspace, pool_id: str, acknowledged: list[dict]) -> Counter[str]:
    answers = ws.crowd.answers_frame(pool_id, include_golden=True, include_banned=True)
    stored = {(str(r.assignment), str(r.task), str(r.label)) for r in answers.itertuples()}
    for ack in acknowledged:
        for task_id, solution in zip(ack["tasks"], ack["solutions"], strict=True):
            assert (ack["assignment"], task_id,
                    solution["output_values"]["category"]) in stored
    assert not answers.duplicated(["task", "worker"]).any()
    per_task = Counter(answers["task"])
    assert max(per_task.values(), default=0) <= OVERLAP
    # the slot counters agree with the suites that hold slots (none leaked by the crash)
    a, s = t.answers.c, t.assignments.c
    with ws.engine.connect() as conn:
        holding = dict(conn.execute(
            sa.select(a.task_id, sa.func.count()).join(t.assignments, s.id == a.assignment_id)
            .where(a.pool_id == int(pool_id),
                   s.status.in_(("ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED")))
            .group_by(a.task_id)).all())
        issued = {r.id: r.issued for r in conn.execute(
            sa.select(t.tasks.c.id, t.tasks.c.issued).where(
                t.tasks.c.pool_id == int(pool_id)))}
    assert all(issued[k] == holding.get(k, 0) for k in issued)
    assert max(holding.values(), default=0) <= OVERLAP
    return per_task


@pytest.mark.slow
def test_kill_9_under_load_loses_no_acknowledged_answer(db_workspace: Workspace) -> None:
    _kill_under_load_then_finish(db_workspace, workers=1)


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_of_serve_workers_2_on_postgres_loses_no_acknowledged_answer(
        tmp_path: Path, clean_env: None, postgres_server: PostgresServer) -> None:
    """Two server processes share the database; both die at once mid-load."""
    ws = Workspace.init(tmp_path / "ws", database_url=postgres_server.create_database())
    try:
        _kill_under_load_then_finish(ws, workers=2)
    finally:
        ws.close()


def _stop(server: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:
        pass
    server.wait(timeout=30)


def _kill_under_load_then_finish(ws: Workspace, *, workers: int) -> None:
    crowd = ws.crowd
    pool = make_pool(crowd, real_tasks=150, golden_tasks=0, overlap=OVERLAP, real=2, golden=0)
    tokens = [crowd.invite_worker(f"ann {i}")[1] for i in range(12)]
    port = free_port()
    server = _serve(ws, port, workers)
    try:
        before = _load(f"http://127.0.0.1:{port}", tokens, pool.id, 0.3, server)
    finally:
        _stop(server, signal.SIGKILL)
    assert before, "nothing was acknowledged before the kill"
    _check(ws, pool.id, before)

    # suites the dead server handed out give their slots back when they expire
    crowd.expire_overdue(now=crowd.clock() + dt.timedelta(hours=1))
    port = free_port()
    server = _serve(ws, port, workers)
    try:
        after = _load(f"http://127.0.0.1:{port}", tokens, pool.id, None, None)
    finally:
        _stop(server, signal.SIGTERM)
    per_task = _check(ws, pool.id, before + after)
    assert len(per_task) == 150
    assert set(per_task.values()) == {OVERLAP}
    assert crowd.is_pool_complete(pool.id)
