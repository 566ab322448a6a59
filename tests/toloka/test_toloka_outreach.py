"""Through the real toloka-kit client: webhook subscriptions delivered over real HTTP (with a
retry after a failure, a signature and a delivery log), patch_task / patch_pool,
archive_project, aggregate_solutions_by_task, user bonuses (recorded) and message threads
that reach the worker's inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from toloka_projects import create_text_project

from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()
from toloka.client import exceptions as toloka_errors  # noqa: E402

SECRET = "s3cret"


class Receiver:
    """A real HTTP server that records webhook posts; its first answer is a 500."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, Any], str | None, bytes]] = []
        self.failures_left = 1
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures_left:
                    receiver.failures_left -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.posts.append((json.loads(body), self.headers.get("Toloka-Signature"),
                                       body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[tuple[str, str | None]]:
        return sorted((e["event_type"], e.get("assignment_id"))
                      for body, _, _ in self.posts for e in body["events"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Any:
    made = Receiver()
    yield made
    made.close()


def make_pool(client: Any) -> tuple[Any, Any, Any]:
    project = create_text_project(client)
    skill = client.create_skill(name="accuracy")
    pool = toloka.Pool(project_id=project.id, private_name="p", reward_per_assignment=0.01,
                       may_contain_adult_content=False, assignment_max_duration_seconds=600,
                       auto_accept_solutions=False,
                       defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=2))
    pool.set_mixer_config(real_tasks_count=1)
    return project, client.create_pool(pool), skill


def wait_for(check: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_webhooks_are_delivered_with_retries(toloka_server: Any, receiver: Receiver) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd
    _, pool, _ = make_pool(client)
    events = ["ASSIGNMENT_CREATED", "ASSIGNMENT_SUBMITTED", "ASSIGNMENT_APPROVED",
              "ASSIGNMENT_REJECTED", "ASSIGNMENT_SKIPPED", "POOL_CLOSED"]
    made = client.upsert_webhook_subscriptions([
        toloka.webhook_subscription.WebhookSubscription(
            webhook_url=receiver.url, event_type=event, pool_id=pool.id, secret_key=SECRET)
        for event in events])
    assert len(made.items) == len(events)
    listed = list(client.get_webhook_subscriptions(pool_id=pool.id))
    assert sorted(s.event_type.value for s in listed) == sorted(events)
    skipped = next(s for s in listed if s.event_type.value == "ASSIGNMENT_SKIPPED")
    client.delete_webhook_subscription(skipped.id)
    with pytest.raises(toloka_errors.DoesNotExistApiError):
        client.get_webhook_subscription(skipped.id)

    client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"headline": f"h{i}"})
                         for i in range(2)], allow_defaults=True, open_pool=True)
    worker, _ = crowd.invite_worker("ann")
    first = crowd.request_assignment(worker.id, pool.id)
    crowd.submit_assignment(worker.id, first.id, [{"output_values": {"category": "clickbait"}}])
    second = crowd.request_assignment(worker.id, pool.id)
    crowd.skip_assignment(worker.id, second.id)  # no subscription left for SKIPPED
    client.accept_assignment(first.id, "thanks")
    other, _ = crowd.invite_worker("bob")  # ann skipped h1: it is not offered to her again
    third = crowd.request_assignment(other.id, pool.id)
    crowd.submit_assignment(other.id, third.id, [{"output_values": {"category": "clickbait"}}])
    client.reject_assignment(third.id, "wrong")
    client.close_pool(pool.id)
    expected = sorted([("ASSIGNMENT_CREATED", a) for a in (first.id, second.id, third.id)]
                      + [("ASSIGNMENT_SUBMITTED", first.id), ("ASSIGNMENT_SUBMITTED", third.id),
                         ("ASSIGNMENT_APPROVED", first.id), ("ASSIGNMENT_REJECTED", third.id),
                         ("POOL_CLOSED", None)])
    wait_for(lambda: receiver.events() == expected)
    for body, header, raw in receiver.posts:  # Toloka-Signature: {v=1, ts=..., sign=...}
        fields = dict(part.split("=", 1) for part in header.strip("{}").split(", "))
        sign = hmac.new(SECRET.encode(), f"{fields['ts']}.{fields['v']}.".encode() + raw,
                        hashlib.sha256).hexdigest()
        assert fields["sign"] == sign
        assert body["events"][0]["pool_id"] == pool.id
    wait_for(lambda: {d["status"] for d in crowd.webhook_deliveries(pool.id)} == {"DELIVERED"})
    log = crowd.webhook_deliveries(pool.id)
    retried = [d for d in log if d["attempts"] == 2]
    assert len(retried) == 1  # the receiver's 500 was retried
    assert retried[0]["log"][0]["status_code"] == 500
    over_http = httpx.get(f"{toloka_server.url}/api/crowdline/v1/webhook-deliveries",
                          params={"pool_id": pool.id},
                          headers={"Authorization": f"OAuth {toloka_server.token}"}, timeout=30)
    assert len(over_http.json()) == len(expected)


def test_patches_archive_aggregate_bonuses_and_messages(toloka_server: Any) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd
    project, pool, skill = make_pool(client)
    created = client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"headline": "h"})],
                                  allow_defaults=True, open_pool=True)
    task = next(iter(created.items.values()))
    patched = client.patch_task(task.id, toloka.task.TaskPatch(overlap=3))
    assert patched.overlap == 3
    assert client.patch_pool(pool.id, priority=42).priority == 42
    assert crowd.get_pool(pool.id).priority == 42

    workers = {}
    for name, value in (("ann", 90), ("bob", 80), ("cat", 30)):
        worker, token = crowd.invite_worker(name)
        workers[name] = (worker, token)
        client.set_user_skill(skill_id=skill.id, user_id=worker.id, value=Decimal(value))
        suite = crowd.request_assignment(worker.id, pool.id)
        label = "notclickbait" if name == "cat" else "clickbait"
        crowd.submit_assignment(worker.id, suite.id, [{"output_values": {"category": label}}])
    solution = client.aggregate_solutions_by_task(
        pool_id=pool.id, task_id=task.id, answer_weight_skill_id=skill.id,
        fields=[toloka.aggregation.WeightedDynamicOverlapTaskAggregatedSolutionRequest.Field(
            name="category")])
    assert solution.output_values["category"] == "clickbait"
    assert solution.confidence > 0.9

    with pytest.raises(toloka_errors.ConflictStateApiError, match="open pool"):
        client.archive_project(project.id)
    client.close_pool(pool.id)
    assert client.archive_project(project.id).status.value == "ARCHIVED"

    ann, ann_token = workers["ann"]
    bonus = client.create_user_bonus(toloka.user_bonus.UserBonus(
        user_id=ann.id, amount=Decimal("1.50"), private_comment="best of the batch",
        public_title={"EN": "Great work"}, public_message={"EN": "Thank you!"}))
    assert bonus.id
    assert client.get_user_bonus(bonus.id).amount == Decimal("1.50")
    assert [b.id for b in client.get_user_bonuses(user_id=ann.id)] == [bonus.id]
    with pytest.raises(toloka_errors.ValidationApiError):
        client.create_user_bonus(toloka.user_bonus.UserBonus(
            user_id=ann.id, amount=Decimal("500"), without_message=True))

    thread = client.compose_message_thread(
        recipients_select_type="DIRECT", topic={"EN": "Next batch"},
        text={"EN": "A new batch opens <b>tomorrow</b>."}, answerable=True,
        recipients_ids=[ann.id])
    inbox = httpx.get(f"{toloka_server.url}/api/annotator/v1/messages",
                      headers={"Authorization": f"Bearer {ann_token}"}, timeout=30).json()
    assert [m["topic"] for m in inbox] == [{"EN": "Next batch"}, {"EN": "Great work"}]
    bob_inbox = httpx.get(f"{toloka_server.url}/api/annotator/v1/messages",
                          headers={"Authorization": f"Bearer {workers['bob'][1]}"},
                          timeout=30).json()
    assert bob_inbox == []
    sent = httpx.post(f"{toloka_server.url}/api/annotator/v1/messages/{thread.id}/reply",
                      json={"text": {"EN": "Count me in"}},
                      headers={"Authorization": f"Bearer {ann_token}"}, timeout=30)
    assert sent.status_code == 200
    refused = httpx.post(f"{toloka_server.url}/api/annotator/v1/messages/{thread.id}/reply",
                         json={"text": {"EN": "me too"}},
                         headers={"Authorization": f"Bearer {workers['bob'][1]}"}, timeout=30)
    assert refused.status_code == 403
    client.reply_message_thread(thread.id, toloka.message_thread.MessageThreadReply(
        text={"EN": "See you then"}))
    client.add_message_thread_to_folders(thread.id, ["IMPORTANT"])
    read_back = next(iter(client.get_message_threads(folder="IMPORTANT")))
    assert [m.text["EN"] for m in read_back.messages] == [
        "A new batch opens <b>tomorrow</b>.", "Count me in", "See you then"]
    inbox = httpx.get(f"{toloka_server.url}/api/annotator/v1/messages",
                      headers={"Authorization": f"Bearer {ann_token}"}, timeout=30).json()
    assert [m["from"] for m in inbox[0]["messages"]] == ["requester", "you", "requester"]
    with httpx.Client(base_url=toloka_server.url, timeout=30, follow_redirects=True) as http:
        http.get(f"/join/{ann_token}")
        assert "Messages (2)" in http.get("/annotate").text
        page = http.get("/annotate/messages").text
    assert "A new batch opens &lt;b&gt;tomorrow&lt;/b&gt;." in page  # escaped
    assert "bonus: 1.50" in page
