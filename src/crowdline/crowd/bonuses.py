"""User bonuses and message threads, Toloka's shapes.

Bonuses are recorded, never paid: crowdline moves no money; the record says who was granted
what and why, for the requester's own payroll. A bonus with a message (``without_message``
false) shows its title and text to the worker, like a message thread. Message threads go to
workers' inboxes in the annotator UI (``GET /api/annotator/v1/messages``); an answerable thread
takes the worker's reply.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import iso, now, utc
from crowdline.crowd.transactions import key, missing
from crowdline.crowd.workers import get_worker
from crowdline.errors import InvalidInput, NotFound, PermissionDenied

BONUS_FIELDS = {"user_id", "amount", "private_comment", "public_title", "public_message",
                "without_message", "assignment_id", "id", "created"}
MAX_BONUS = Decimal("100")


class BonusNotFound(NotFound):
    pass


class ThreadNotFound(NotFound):
    pass


def _text(value: Any, name: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput(f"{name} must be an object of language -> text",
                           hint='e.g. {"EN": "Thank you!"}')
    return {str(k): v for k, v in value.items()}


def _bonus(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "user_id": str(row.worker_id), "amount": str(row.amount),
            "assignment_id": None if row.assignment_id is None else str(row.assignment_id),
            "public_title": row.public_title, "public_message": row.public_message,
            "private_comment": row.private_comment, "without_message": row.without_message,
            "created": iso(utc(row.created))}


def check_bonus(item: Any) -> dict[str, Any]:
    """A bonus request, validated: {user_id, amount (0.01..100), messages...}."""
    if not isinstance(item, dict):
        raise InvalidInput("a bonus must be an object with user_id and amount")
    extra = sorted(set(item) - BONUS_FIELDS)
    if extra:
        raise InvalidInput(f"bonus field(s) {', '.join(extra)} are not supported")
    try:
        amount = Decimal(str(item.get("amount")))
    except InvalidOperation as exc:
        raise InvalidInput(f"amount {item.get('amount')!r} is not a number") from exc
    if not Decimal("0.01") <= amount <= MAX_BONUS:
        raise InvalidInput(f"amount {amount} must be between 0.01 and {MAX_BONUS}",
                           hint="Toloka's bonus range (crowdline records it, pays nothing)")
    without = bool(item.get("without_message", False))
    title, message = _text(item.get("public_title"), "public_title"), _text(
        item.get("public_message"), "public_message")
    if not without and not (title and message):
        raise InvalidInput("a bonus with a message needs public_title and public_message",
                           hint="or set without_message: true")
    return {"user_id": item.get("user_id"), "amount": amount, "public_title": title,
            "public_message": message, "private_comment": item.get("private_comment"),
            "without_message": without, "assignment_id": item.get("assignment_id")}


def create_bonus(conn: sa.Connection, item: Any) -> dict[str, Any]:
    data = check_bonus(item)
    worker = get_worker(conn, str(data["user_id"] or ""))
    new_id = conn.execute(t.user_bonuses.insert().values(
        worker_id=int(worker.id), amount=data["amount"],
        assignment_id=None if data["assignment_id"] is None else key(
            data["assignment_id"], InvalidInput, "assignment"),
        public_title=data["public_title"], public_message=data["public_message"],
        private_comment=data["private_comment"], without_message=data["without_message"],
        created=now())).inserted_primary_key[0]
    return get_bonus(conn, str(new_id))


def get_bonus(conn: sa.Connection, bonus_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(t.user_bonuses).where(
        t.user_bonuses.c.id == key(bonus_id, BonusNotFound, "user bonus"))).first()
    if row is None:
        raise missing(BonusNotFound, "user bonus", bonus_id)
    return _bonus(row)


def find_bonuses(conn: sa.Connection, user_id: str | None = None) -> list[dict[str, Any]]:
    b = t.user_bonuses.c
    query = sa.select(t.user_bonuses).order_by(b.id)
    if user_id is not None:
        query = query.where(b.worker_id == key(user_id, BonusNotFound, "user"))
    return [_bonus(r) for r in conn.execute(query)]


# -- message threads ----------------------------------------------------------------------


def _thread(conn: sa.Connection, row: Any) -> dict[str, Any]:
    m = t.messages.c
    messages = conn.execute(sa.select(t.messages).where(m.thread_id == row.id)
                            .order_by(m.id)).all()
    recipients = sorted({str(r.worker_id) for r in messages}, key=int)
    return {"id": str(row.id), "topic": row.topic, "answerable": row.answerable,
            "folders": row.folders, "created": iso(utc(row.created)),
            "interlocutors_inlined": True,
            "interlocutors": [{"id": w, "role": "USER"} for w in recipients],
            "messages_inlined": True,
            "messages": [{"text": r.text, "from": {"id": "requester" if r.from_requester
                                                   else str(r.worker_id),
                                                   "role": "REQUESTER" if r.from_requester
                                                   else "USER"},
                          "created": iso(utc(r.created))} for r in messages]}


def compose(conn: sa.Connection, body: Any) -> dict[str, Any]:
    """A message to the named workers (``recipients_select_type: DIRECT``)."""
    if not isinstance(body, dict):
        raise InvalidInput("a message must be an object with topic, text, recipients_ids")
    if body.get("recipients_select_type", "DIRECT") != "DIRECT":
        raise InvalidInput("only recipients_select_type DIRECT is supported",
                           hint="name the workers in recipients_ids")
    extra = sorted(set(body) - {"recipients_select_type", "topic", "text", "answerable",
                                "recipients_ids", "recipients_filter"})
    if extra or body.get("recipients_filter"):
        raise InvalidInput(f"message field(s) {', '.join(extra or ['recipients_filter'])} "
                           "are not supported")
    topic, text = _text(body.get("topic"), "topic"), _text(body.get("text"), "text")
    recipients = body.get("recipients_ids") or []
    if not topic or not text or not recipients:
        raise InvalidInput("a message needs topic, text and recipients_ids")
    workers = [get_worker(conn, str(r)) for r in recipients]
    when = now()
    thread_id = conn.execute(t.message_threads.insert().values(
        topic=topic, answerable=bool(body.get("answerable", True)), folders=["OUTGOING"],
        created=when)).inserted_primary_key[0]
    conn.execute(t.messages.insert(), [
        {"thread_id": thread_id, "worker_id": int(w.id), "from_requester": True, "text": text,
         "created": when} for w in workers])
    return get_thread(conn, str(thread_id))


def get_thread(conn: sa.Connection, thread_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(t.message_threads).where(
        t.message_threads.c.id == key(thread_id, ThreadNotFound, "message thread"))).first()
    if row is None:
        raise missing(ThreadNotFound, "message thread", thread_id)
    return _thread(conn, row)


def find_threads(conn: sa.Connection, folder: str | None = None) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(t.message_threads).order_by(t.message_threads.c.id)).all()
    threads = [_thread(conn, r) for r in rows]
    return [th for th in threads if folder is None or folder in th["folders"]]


def reply(conn: sa.Connection, thread_id: str, text: Any, *,
          worker_id: str | None = None) -> dict[str, Any]:
    """The requester's reply (to every worker of the thread) or a worker's own reply."""
    thread = get_thread(conn, thread_id)
    text = _text(text, "text")
    if not text:
        raise InvalidInput("a reply needs text", hint='{"text": {"EN": "..."}}')
    workers = [int(i["id"]) for i in thread["interlocutors"]]
    if worker_id is not None:
        if int(worker_id) not in workers:
            raise PermissionDenied("this message thread is not yours")
        if not thread["answerable"]:
            raise InvalidInput("this message thread takes no replies")
        workers = [int(worker_id)]
    conn.execute(t.messages.insert(), [
        {"thread_id": int(thread_id), "worker_id": w, "from_requester": worker_id is None,
         "text": text, "created": now()} for w in workers])
    if worker_id is not None:
        folders = sorted(set(thread["folders"]) | {"INBOX", "UNREAD"})
        conn.execute(t.message_threads.update().where(
            t.message_threads.c.id == int(thread_id)).values(folders=folders))
    return get_thread(conn, thread_id)


def set_folders(conn: sa.Connection, thread_id: str, folders: Any, add: bool) -> dict[str, Any]:
    thread = get_thread(conn, thread_id)
    wanted = set((folders or {}).get("folders") or [])
    allowed = {"INBOX", "OUTGOING", "UNREAD", "IMPORTANT"}
    if not wanted or not wanted <= allowed:
        raise InvalidInput(f"folders must be some of {', '.join(sorted(allowed))}")
    new = set(thread["folders"]) | wanted if add else set(thread["folders"]) - wanted
    conn.execute(t.message_threads.update().where(
        t.message_threads.c.id == int(thread_id)).values(folders=sorted(new)))
    return get_thread(conn, thread_id)


def worker_messages(conn: sa.Connection, worker_id: str) -> list[dict[str, Any]]:
    """What a worker's inbox shows: threads sent to them, and bonuses with a message."""
    m = t.messages.c
    thread_ids = conn.execute(sa.select(m.thread_id).where(
        m.worker_id == int(worker_id)).distinct()).scalars().all()
    result = []
    for thread_id in sorted(thread_ids):
        thread = get_thread(conn, str(thread_id))
        own = conn.execute(sa.select(t.messages).where(
            m.thread_id == thread_id, m.worker_id == int(worker_id)).order_by(m.id)).all()
        result.append({"thread_id": thread["id"], "topic": thread["topic"],
                       "answerable": thread["answerable"],
                       "messages": [{"text": r.text,
                                     "from": "requester" if r.from_requester else "you",
                                     "created": iso(utc(r.created))} for r in own]})
    for bonus in find_bonuses(conn, worker_id):
        if not bonus["without_message"]:
            result.append({"bonus_id": bonus["id"], "topic": bonus["public_title"],
                           "amount": bonus["amount"], "answerable": False,
                           "messages": [{"text": bonus["public_message"],
                                         "from": "requester", "created": bonus["created"]}]})
    return result
