"""CAPTCHA through the real toloka-kit client: ``set_captcha_frequency`` shows a self-hosted
attention check every n-th suite, and the CAPTCHA collector's fail rate bans a worker who
answers it wrong; the annotator page renders the question."""

from __future__ import annotations

import re
from typing import Any

import httpx
from toloka_crowd_sim import take_suites
from toloka_projects import create_text_project

from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()
from toloka.client import actions, collectors, conditions  # noqa: E402

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def solve(question: str) -> str:
    """What a person reading the question answers."""
    a, b = re.match(r"What is (\w+) plus (\w+)\?", question).groups()
    return str(WORDS.index(a) + WORDS.index(b))


def make_pool(client: Any) -> Any:
    project = create_text_project(client)
    pool = toloka.Pool(project_id=project.id, private_name="p", reward_per_assignment=0.01,
                       may_contain_adult_content=False, assignment_max_duration_seconds=600,
                       defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=3,
                                                     default_overlap_for_new_task_suites=3))
    pool.set_mixer_config(real_tasks_count=1, golden_tasks_count=0, training_tasks_count=0)
    pool.set_captcha_frequency("HIGH")  # every 5th suite
    pool.quality_control.add_action(
        collector=collectors.Captcha(history_size=5),
        conditions=[conditions.StoredResultsCount >= 1, conditions.FailRate >= 50],
        action=actions.RestrictionV2(scope="POOL", duration_unit="PERMANENT",
                                     private_comment="failed the attention check"))
    pool = client.create_pool(pool)
    client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"headline": f"h{i}"})
                         for i in range(12)], allow_defaults=True, open_pool=True)
    return pool


def label(server: Any, token: str, pool_id: str, answer_captcha: Any) -> list[dict]:
    """Suites until none is left: what each suite carried."""

    def answer(suite: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"solutions": [{"output_values": {"category": "clickbait"}}]}
        if suite["captcha"]:
            assert set(suite["captcha"]) == {"question"}  # never the answer
            body["captcha_answer"] = answer_captcha(suite["captcha"]["question"])
        return body

    return take_suites(server.url, token, pool_id, answer)


def test_captcha_frequency_and_collector(toloka_server: Any) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd
    pool = make_pool(client)
    fetched = client.get_pool(pool.id)
    assert fetched.quality_control.captcha_frequency.value == "HIGH"
    assert fetched.quality_control.configs[0].collector_config.type.value == "CAPTCHA"

    human, human_token = crowd.invite_worker("human")
    bot, bot_token = crowd.invite_worker("bot")
    bot_suites = label(toloka_server, bot_token, pool.id, lambda _q: "42")
    # suites 1-4 plain, the 5th carries the check; failing it bans the bot from the pool
    assert [bool(s["captcha"]) for s in bot_suites] == [False] * 4 + [True]
    human_suites = label(toloka_server, human_token, pool.id, solve)
    assert [i for i, s in enumerate(human_suites, 1) if s["captcha"]] == [5, 10]
    assert len(human_suites) == 12
    bans = client.get_user_restrictions(pool_id=pool.id)
    assert [r.user_id for r in bans] == [bot.id]
    qc = crowd.list_qc_actions(pool_id=pool.id)
    assert [(a.worker_id, a.collector) for a in qc] == [(bot.id, "CAPTCHA")]
    assert qc[0].figures["fail_rate"] == 100.0


def test_the_annotator_page_shows_the_check(toloka_server: Any) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd
    pool = make_pool(client)
    worker, token = crowd.invite_worker("ann")
    for _ in range(4):
        suite = crowd.request_assignment(worker.id, pool.id)
        assert suite.captcha is None
        crowd.submit_assignment(worker.id, suite.id,
                                [{"output_values": {"category": "clickbait"}}])
    with httpx.Client(base_url=toloka_server.url, timeout=30, follow_redirects=True) as http:
        http.get(f"/join/{token}")
        page = http.get(f"/annotate/pools/{pool.id}/work").text
        question = re.search(r'<label for="captcha_answer">([^<]+)</label>', page).group(1)
        suite_id = re.search(r'action="/annotate/assignments/(\d+)/submit"', page).group(1)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        form.update({"answer-0": "notclickbait", "captcha_answer": solve(question)})
        done = http.post(f"/annotate/assignments/{suite_id}/submit", data=form)
    assert done.status_code == 200
    assert crowd.get_assignment(suite_id).status == "ACCEPTED"
    assert crowd.list_qc_actions(pool_id=pool.id) == []
    assert crowd.pool_analytics(pool.id, "submitted_assignments_count") == 5
