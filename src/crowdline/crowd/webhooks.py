"""Webhook subscriptions (Toloka's ``/webhook-subscriptions``) and their delivery.

An event (``POOL_CLOSED``, ``ASSIGNMENT_CREATED`` / ``SUBMITTED`` / ``SKIPPED`` / ``EXPIRED`` /
``APPROVED`` / ``REJECTED``) is written to ``crowd_webhook_deliveries`` in the same transaction
as the change it reports (an outbox: no event without its change, no change without its event),
one row per matching subscription. ``Deliverer`` (a thread of the server) posts pending rows as
Toloka does: ``POST webhook_url`` with ``{"events": [{event_time, event_type, pool_id,
assignment_id}]}`` and, when the subscription has a ``secret_key``, a ``Toloka-Signature:
{v=1, ts=<ms>, sign=<hex HMAC-SHA256 of "ts.v.body">}`` header. A non-2xx answer or a network
error is retried with exponential back-off (1 s, 2 s, 4 s... up to ``MAX_ATTEMPTS``); every
attempt is logged on the row (``attempts``, ``log``), which is the delivery log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

import httpx
import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import iso, now, utc
from crowdline.crowd.transactions import key, missing, read, write
from crowdline.database.driver import Driver
from crowdline.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

EVENT_TYPES = ("POOL_CLOSED", "ASSIGNMENT_CREATED", "ASSIGNMENT_SUBMITTED",
               "ASSIGNMENT_SKIPPED", "ASSIGNMENT_EXPIRED", "ASSIGNMENT_APPROVED",
               "ASSIGNMENT_REJECTED")
ASSIGNMENT_EVENTS = {"SUBMITTED": "ASSIGNMENT_SUBMITTED", "ACCEPTED": "ASSIGNMENT_APPROVED",
                     "REJECTED": "ASSIGNMENT_REJECTED", "SKIPPED": "ASSIGNMENT_SKIPPED",
                     "EXPIRED": "ASSIGNMENT_EXPIRED"}
MAX_ATTEMPTS = 8


class WebhookNotFound(NotFound):
    code = "DOES_NOT_EXIST"


def _subscription(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "webhook_url": row.webhook_url, "event_type": row.event_type,
            "pool_id": str(row.pool_id), "created": iso(utc(row.created))}


def _check(item: Any, position: int) -> dict[str, Any]:
    where = f"item {position}"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object with webhook_url, event_type, pool_id")
    extra = sorted(set(item) - {"webhook_url", "event_type", "pool_id", "secret_key", "id",
                                "created"})
    if extra:
        raise InvalidInput(f"{where}: field(s) {', '.join(extra)} are not supported")
    url = str(item.get("webhook_url") or "")
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise InvalidInput(f"{where}: webhook_url {url!r} is not an http(s) URL")
    if item.get("event_type") not in EVENT_TYPES:
        raise InvalidInput(f"{where}: event_type {item.get('event_type')!r} is not one of "
                           f"{', '.join(EVENT_TYPES)}")
    if not item.get("pool_id"):
        raise InvalidInput(f"{where}: pool_id is missing", hint="subscribe to one pool")
    return item


def upsert(conn: sa.Connection, items: list[Any]) -> list[dict[str, Any]]:
    """Create subscriptions; one with the same (url, event, pool) is updated (its secret)."""
    from crowdline.crowd.pools import get_pool

    checked = [_check(item, i) for i, item in enumerate(items)]
    result = []
    for item in checked:
        pool_key = int(get_pool(conn, str(item["pool_id"])).id)
        s = t.webhook_subscriptions.c
        found = conn.execute(sa.select(t.webhook_subscriptions).where(
            s.webhook_url == item["webhook_url"], s.event_type == item["event_type"],
            s.pool_id == pool_key)).first()
        if found is None:
            new_id = conn.execute(t.webhook_subscriptions.insert().values(
                webhook_url=item["webhook_url"], event_type=item["event_type"],
                pool_id=pool_key, secret_key=item.get("secret_key"),
                created=now())).inserted_primary_key[0]
        else:
            new_id = found.id
            conn.execute(t.webhook_subscriptions.update().where(s.id == found.id).values(
                secret_key=item.get("secret_key")))
        result.append(get(conn, str(new_id)))
    return result


def get(conn: sa.Connection, subscription_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(t.webhook_subscriptions).where(
        t.webhook_subscriptions.c.id == key(subscription_id, WebhookNotFound,
                                            "webhook subscription"))).first()
    if row is None:
        raise missing(WebhookNotFound, "webhook subscription", subscription_id)
    return _subscription(row)


def find(conn: sa.Connection, *, event_type: str | None = None,
         pool_id: str | None = None) -> list[dict[str, Any]]:
    s = t.webhook_subscriptions.c
    query = sa.select(t.webhook_subscriptions).order_by(s.id)
    if event_type is not None:
        query = query.where(s.event_type == event_type)
    if pool_id is not None:
        query = query.where(s.pool_id == key(pool_id, WebhookNotFound, "pool"))
    return [_subscription(r) for r in conn.execute(query)]


def delete(conn: sa.Connection, subscription_id: str) -> None:
    get(conn, subscription_id)
    s = t.webhook_subscriptions.c
    subscription_key = int(subscription_id)
    conn.execute(t.webhook_deliveries.delete().where(
        t.webhook_deliveries.c.subscription_id == subscription_key,
        t.webhook_deliveries.c.status == "PENDING"))
    conn.execute(t.webhook_subscriptions.delete().where(s.id == subscription_key))


_SUBSCRIBED = "SELECT id, event_type FROM crowd_webhook_subscriptions WHERE pool_id = :p"


def record(conn: sa.Connection, pool_key: int, event_types: Iterable[str],
           when: dt.datetime, assignment_key: int | None = None) -> None:
    """Queue the events for every subscription of the pool that wants them (outbox)."""
    wanted = set(event_types)
    # every next and submit asks this: one prepared statement on the pool's index (most pools
    # have no subscription), not a SQLAlchemy query with an expanding IN
    rows = [(sub, event) for sub, event in Driver(conn).all(_SUBSCRIBED, {"p": pool_key})
            if event in wanted]
    if not rows:
        return
    conn.execute(t.webhook_deliveries.insert(), [
        {"subscription_id": sub, "event_type": event, "pool_id": pool_key,
         "assignment_id": assignment_key, "event_time": when, "status": "PENDING",
         "attempts": 0, "next_attempt": when, "log": []} for sub, event in rows])


def on_assignment(conn: sa.Connection, pool_key: int, assignment_key: int, old: str,
                  new: str, when: dt.datetime) -> None:
    events = []
    if new == "ACCEPTED" and old == "ACTIVE":
        events.append("ASSIGNMENT_SUBMITTED")
    if new in ASSIGNMENT_EVENTS:
        events.append(ASSIGNMENT_EVENTS[new])
    if events:
        record(conn, pool_key, events, when, assignment_key)


def deliveries(conn: sa.Connection, *, pool_id: str | None = None,
               limit: int = 1000) -> list[dict[str, Any]]:
    """The delivery log: one row per (event, subscription), newest first."""
    d = t.webhook_deliveries.c
    query = sa.select(t.webhook_deliveries).order_by(d.id.desc()).limit(limit)
    if pool_id is not None:
        query = query.where(d.pool_id == key(pool_id, NotFound, "pool"))
    return [{"id": str(r.id), "subscription_id": str(r.subscription_id),
             "event_type": r.event_type, "pool_id": str(r.pool_id),
             "assignment_id": None if r.assignment_id is None else str(r.assignment_id),
             "event_time": iso(utc(r.event_time)), "status": r.status,
             "attempts": r.attempts, "delivered": iso(utc(r.delivered)), "log": r.log}
            for r in conn.execute(query)]


# -- delivery -----------------------------------------------------------------------------


def signature(secret: str, body: bytes, ts_ms: int) -> str:
    sign = hmac.new(secret.encode(), f"{ts_ms}.1.".encode() + body, hashlib.sha256).hexdigest()
    return f"{{v=1, ts={ts_ms}, sign={sign}}}"


class Deliverer:
    """Posts pending events; one thread per server process. Rows are claimed with a guarded
    UPDATE (status PENDING -> SENDING), so several processes never post one row twice."""

    def __init__(self, engine: sa.Engine, *, poll_seconds: float = 0.2,
                 timeout: float = 10.0, backoff_seconds: float = 1.0,
                 alive: Callable[[], bool] = lambda: True) -> None:
        """``alive``: checked every poll; the thread ends when it says False (its server
        is gone)."""
        self.engine, self.poll, self.timeout = engine, poll_seconds, timeout
        self.backoff, self.alive = backoff_seconds, alive
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Deliverer:
        self._thread = threading.Thread(target=self._run, name="crowdline-webhooks",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        failures = 0
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set() and self.alive():
                try:
                    sent = self.deliver_due(client)
                    failures = 0
                except Exception:  # a database hiccup must not end delivery at once
                    failures += 1
                    if failures >= 20:  # the database is gone (server shut down)
                        log.exception("webhook delivery stops after %d failures", failures)
                        return
                    sent = 0
                if not sent:
                    self._stop.wait(self.poll * (1 + failures))

    def deliver_due(self, client: httpx.Client, limit: int = 100) -> int:
        """Post every due delivery once; the number of rows attempted. Writes go through
        ``write`` (on SQLite: the one writer thread), never beside it."""
        d = t.webhook_deliveries.c
        when = now()
        due = read(self.engine, lambda conn: conn.execute(sa.select(d.id).where(
            d.status == "PENDING", d.next_attempt <= when).order_by(d.id)
            .limit(limit)).scalars().all())
        if not due:
            return 0

        def claim(conn: sa.Connection) -> list[Any]:
            claimed = conn.execute(t.webhook_deliveries.update().where(
                d.id.in_(due), d.status == "PENDING").values(status="SENDING")
                .returning(d.id)).scalars().all()
            subscriptions = t.webhook_subscriptions.c
            return conn.execute(
                sa.select(t.webhook_deliveries, subscriptions.webhook_url,
                          subscriptions.secret_key)
                .join(t.webhook_subscriptions, subscriptions.id == d.subscription_id)
                .where(d.id.in_(claimed))).all()

        rows = write(self.engine, claim)
        for row in rows:
            self._post(client, row)
        return len(rows)

    def _post(self, client: httpx.Client, row: Any) -> None:
        event = {"event_time": iso(utc(row.event_time)), "event_type": row.event_type,
                 "pool_id": str(row.pool_id)}
        if row.assignment_id is not None:
            event["assignment_id"] = str(row.assignment_id)
        body = json.dumps({"events": [event]}).encode()
        headers = {"Content-Type": "application/json"}
        if row.secret_key:
            headers["Toloka-Signature"] = signature(row.secret_key, body, int(time.time() * 1000))
        try:
            answer = client.post(row.webhook_url, content=body, headers=headers)
            ok, outcome = answer.is_success, {"status_code": answer.status_code}
        except httpx.HTTPError as exc:
            ok, outcome = False, {"error": f"{type(exc).__name__}: {exc}"}
        attempts = row.attempts + 1
        when = now()
        entry = {"time": iso(when), **outcome}
        if ok:
            values: dict[str, Any] = {"status": "DELIVERED", "delivered": when}
        elif attempts >= MAX_ATTEMPTS:
            values = {"status": "FAILED"}
        else:
            values = {"status": "PENDING", "next_attempt": when + dt.timedelta(
                seconds=self.backoff * 2 ** (attempts - 1))}
        write(self.engine, lambda conn: conn.execute(t.webhook_deliveries.update().where(
            t.webhook_deliveries.c.id == row.id).values(
            attempts=attempts, log=[*(row.log or []), entry], **values)))
