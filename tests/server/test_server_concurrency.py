"""50 simulated annotators label at once through a real uvicorn on loopback (SQLite and
PostgreSQL); afterwards no task exceeded its overlap and every acknowledged answer is stored."""

from __future__ import annotations

from collections import Counter

import pytest
from server_helpers import golden_set_ban_rule, live_server, make_pool, truth

from crowdline.crowd.simulate import HttpRunner, invite_simulated_workers, make_profiles
from crowdline.workspace import Workspace

ANNOTATORS = 50
OVERLAP = 3


@pytest.mark.slow
def test_fifty_annotators_never_exceed_overlap_nor_lose_an_answer(
        db_workspace: Workspace) -> None:
    crowd = db_workspace.crowd
    pool = make_pool(crowd, real_tasks=120, golden_tasks=12, overlap=OVERLAP, real=3, golden=1,
                     quality_control=golden_set_ban_rule(history=5, below=50, after=3))
    workers = invite_simulated_workers(crowd, make_profiles(ANNOTATORS, seed=5), seed=5)
    with live_server(db_workspace) as server:
        report = HttpRunner(server.url, workers, truth, timeout=120).run(pool.id)
    assert report.errors == []
    assert report.suites > 0
    assert len({ack["worker_id"] for ack in report.acknowledged}) > ANNOTATORS // 2

    answers = crowd.answers_frame(pool.id, include_golden=True, include_banned=True)
    real = answers[~answers["is_golden"]]
    per_task = Counter(real["task"])
    assert max(per_task.values()) <= OVERLAP
    assert not answers.duplicated(["task", "worker"]).any()  # never twice to one worker
    stored = {(str(r.assignment), str(r.task), str(r.label)) for r in answers.itertuples()}
    acknowledged = 0
    for ack in report.acknowledged:
        for task_id, solution in zip(ack["task_ids"], ack["solutions"], strict=True):
            assert (ack["assignment_id"], task_id,
                    solution["output_values"]["category"]) in stored
            acknowledged += 1
    assert acknowledged == report.answers
    # enough honest annotators: every real task reached its overlap
    assert len(per_task) == 120
    assert set(per_task.values()) == {OVERLAP}
    assert crowd.is_pool_complete(pool.id)
