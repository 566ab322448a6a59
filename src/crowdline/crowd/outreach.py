"""The Crowd facade's verbs for reaching out: webhook subscriptions and their delivery log,
user bonuses (recorded only) and message threads to workers (``crowd/webhooks.py``,
``crowd/bonuses.py``). A mixin of ``Crowd``; every call is one transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crowdline.crowd import bonuses, webhooks
from crowdline.crowd.transactions import read, write


class OutreachMixin:
    engine: sa.Engine

    # -- webhooks ----------------------------------------------------------------------------
    def upsert_webhook_subscriptions(self, items: list[Any]) -> list[dict[str, Any]]:
        """Toloka's ``PUT /webhook-subscriptions``: all or nothing."""
        return write(self.engine, lambda c: webhooks.upsert(c, items))

    def get_webhook_subscription(self, subscription_id: str) -> dict[str, Any]:
        return read(self.engine, lambda c: webhooks.get(c, subscription_id))

    def find_webhook_subscriptions(self, *, event_type: str | None = None,
                                   pool_id: str | None = None) -> list[dict[str, Any]]:
        return read(self.engine, lambda c: webhooks.find(c, event_type=event_type,
                                                          pool_id=pool_id))

    def delete_webhook_subscription(self, subscription_id: str) -> None:
        write(self.engine, lambda c: webhooks.delete(c, subscription_id))

    def webhook_deliveries(self, pool_id: str | None = None) -> list[dict[str, Any]]:
        """The delivery log: every event queued for a subscription, its attempts and fate."""
        return read(self.engine, lambda c: webhooks.deliveries(c, pool_id=pool_id))

    # -- bonuses -----------------------------------------------------------------------------
    def create_user_bonus(self, item: dict[str, Any]) -> dict[str, Any]:
        """Record a bonus (crowdline pays nobody; the record is for your own payroll)."""
        return write(self.engine, lambda c: bonuses.create_bonus(c, item))

    def get_user_bonus(self, bonus_id: str) -> dict[str, Any]:
        return read(self.engine, lambda c: bonuses.get_bonus(c, bonus_id))

    def list_user_bonuses(self, user_id: str | None = None) -> list[dict[str, Any]]:
        return read(self.engine, lambda c: bonuses.find_bonuses(c, user_id))

    # -- messages ----------------------------------------------------------------------------
    def compose_message(self, body: dict[str, Any]) -> dict[str, Any]:
        return write(self.engine, lambda c: bonuses.compose(c, body))

    def get_message_thread(self, thread_id: str) -> dict[str, Any]:
        return read(self.engine, lambda c: bonuses.get_thread(c, thread_id))

    def list_message_threads(self, folder: str | None = None) -> list[dict[str, Any]]:
        return read(self.engine, lambda c: bonuses.find_threads(c, folder))

    def reply_to_thread(self, thread_id: str, text: Any, *,
                        worker_id: str | None = None) -> dict[str, Any]:
        return write(self.engine, lambda c: bonuses.reply(c, thread_id, text,
                                                          worker_id=worker_id))

    def set_thread_folders(self, thread_id: str, folders: Any, *, add: bool) -> dict[str, Any]:
        return write(self.engine, lambda c: bonuses.set_folders(c, thread_id, folders, add))

    def worker_messages(self, worker_id: str) -> list[dict[str, Any]]:
        """A worker's inbox: threads sent to them and bonuses that carry a message."""
        return read(self.engine, lambda c: bonuses.worker_messages(c, worker_id))
