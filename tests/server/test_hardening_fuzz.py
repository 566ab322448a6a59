"""Property-based fuzz of the whole OpenAPI schema with schemathesis, as a requester and as a
worker: valid, invalid and made-up requests to every documented operation, with random and
with real ids. Not one answer may be a 5xx. Bounded: a few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from server_helpers import LABELS, make_pool

from crowdline.server import create_app
from crowdline.workspace import Workspace

EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}


@pytest.fixture
def fuzz_workspace(tmp_path: Path, clean_env: None) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path / "ws", auth_failures_per_minute=0)
    yield ws
    ws.close()


def _seed(ws: Workspace) -> tuple[dict[str, str], dict[str, str]]:
    """Real objects for the path parameters, and each role's Authorization header."""
    crowd = ws.crowd
    pool = make_pool(crowd, real_tasks=6, golden_tasks=2)
    worker, worker_token = crowd.invite_worker("fuzzed")
    suite = crowd.request_assignment(worker.id, pool.id)
    assert suite is not None
    skill = crowd.create_skill("accuracy")
    restriction = crowd.set_restriction(worker.id, "POOL", pool_id=pool.id)
    task = crowd.list_tasks(pool.id)[0]
    ids = {"pool_id": pool.id, "project_id": pool.project_id, "task_id": task.id,
           "assignment_id": suite.id, "worker_id": worker.id, "user_id": worker.id,
           "skill_id": skill.id, "restriction_id": restriction.id, "id": pool.id,
           "training_id": pool.id, "label": LABELS[0]}
    headers = {"requester": {"Authorization": f"OAuth {crowd.create_requester_token('f')}"},
               "worker": {"Authorization": f"Bearer {worker_token}"}}
    return ids, headers


@pytest.mark.slow
def test_no_operation_answers_5xx_to_a_requester_or_a_worker(
        fuzz_workspace: Workspace) -> None:
    app = create_app(fuzz_workspace)
    ids, headers = _seed(fuzz_workspace)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    server_errors: list[tuple[str, str, int, str]] = []
    calls = [0]
    reached: dict[str, set[int]] = {role: set() for role in headers}

    def run(operation: Any, role: str, strategy: Any, examples: int) -> None:
        @given(case=strategy)
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers[role])
            calls[0] += 1
            reached[role].add(response.status_code)
            if response.status_code >= 500:
                server_errors.append((role, case.operation.label, response.status_code,
                                      response.text[:300]))

        try:
            check()
        except Unsatisfiable:
            pass  # e.g. no invalid request exists for an operation without parameters

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        real = {name: ids[name] for name in names if name in ids}
        for role in headers:
            for mode, examples in EXAMPLES.items():
                run(operation, role, operation.as_strategy(mode), examples)
            if real:  # the same operation on objects that exist
                run(operation, role, operation.as_strategy(path_parameters=real), 3)
    assert calls[0] > len(operations) * 10
    for role, statuses in reached.items():  # both roles got through authentication
        assert any(200 <= s < 300 for s in statuses), (role, statuses)
        assert any(400 <= s < 500 and s not in (401, 429) for s in statuses), (role, statuses)
    assert server_errors == [], server_errors[:10]
