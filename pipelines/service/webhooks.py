"""The webhook channel: each subscription gets the alerts its center may see, signed and retried.

Every subscription has a queue and a worker thread of its own, so a target
that is slow or down delays only itself. A delivery is a JSON body with the
alerts waiting for the subscription (up to ``webhooks.batch_max``, as the
live page shows them: a quiet stream sends each alert at once, a busy one
in few requests), signed with the subscription's secret
(:mod:`pipelines.service.webhook_signing`) and tried up to
``alert_service.webhooks.attempts`` times, waiting ``backoff_seconds``
after the first failure and twice as long after each next one. Its
idempotency key is the same on every attempt and after a restart; a
delivery already made is not made again. After the last attempt it is
dead-lettered: ``duty.webhook_batches`` keeps it with status ``dead``, its
alerts and the last error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import requests

from pipelines.service.duty_store import DutyStore, utc_now
from pipelines.service.webhook_signing import signed_headers
from pipelines.settings import Settings

__all__ = ["WebhookChannel", "WebhookOptions", "delivery_id_of", "check_target_url"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookOptions:
    """``alert_service.webhooks`` from the configuration."""

    allowed_hosts: tuple[str, ...]
    timeout_seconds: float
    attempts: int
    backoff_seconds: float
    queue_size: int
    batch_max: int


def check_target_url(url: str, allowed_hosts: tuple[str, ...]) -> str:
    """The URL, if it is http(s) to an allowed host; else a one-line error naming what is allowed.

    >>> check_target_url("http://127.0.0.1:9000/hook", ("127.0.0.1",))
    'http://127.0.0.1:9000/hook'
    >>> check_target_url("http://10.0.0.5/hook", ("127.0.0.1",))
    Traceback (most recent call last):
    ...
    ValueError: url host '10.0.0.5' is not an allowed webhook host (alert_service.webhooks.allowed_hosts: 127.0.0.1)
    """
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError:
        raise ValueError(f"url {url!r} has a port out of range (1 to 65535)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url {url!r} must be an http or https URL with a host")
    if parts.hostname not in allowed_hosts:
        raise ValueError(
            f"url host {parts.hostname!r} is not an allowed webhook host "
            f"(alert_service.webhooks.allowed_hosts: {', '.join(allowed_hosts)})"
        )
    return url


def delivery_id_of(subscription_id: str, items: list[dict]) -> str:
    """The idempotency key of a delivery: its subscription and its alerts' updates.

    >>> delivery_id_of("WH-1", [{"alert_id": "a", "status": "new", "when": "t", "severity": "黄色"}])
    'ba8792f563cca00b8a111e3c285e2600'
    """
    keys = [
        "|".join(str(item.get(k)) for k in ("alert_id", "status", "when", "severity"))
        for item in items
    ]
    return hashlib.sha256(f"{subscription_id}|{'||'.join(keys)}".encode()).hexdigest()[:32]


class _Target:
    """One subscription's queue and worker."""

    def __init__(self, channel: WebhookChannel, subscription: dict):
        self.channel = channel
        self.subscription = subscription
        self.queue: queue.Queue = queue.Queue(channel.options.queue_size)
        self.stop = threading.Event()
        self.session = requests.Session()
        self.thread = threading.Thread(
            target=self._work, name=f"webhook-{subscription['subscription_id']}", daemon=True
        )
        self.thread.start()

    def put(self, item: dict) -> None:
        try:
            self.queue.put_nowait((item, self.channel.clock()))
        except queue.Full:
            delivery_id = delivery_id_of(self.subscription["subscription_id"], [item])
            self.channel.record(
                self.subscription,
                delivery_id,
                [item],
                "dead",
                0,
                "queue full",
                self.channel.clock(),
            )

    def close(self) -> None:
        self.stop.set()
        self.queue.put(None)

    def _batch(self) -> list[tuple[dict, datetime]] | None:
        """The next delivery's alerts: the first to come, and whatever else is waiting."""
        first = self.queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < self.channel.options.batch_max:
            try:
                job = self.queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self.stop.set()
                break
            batch.append(job)
        return batch

    def _work(self) -> None:
        while not self.stop.is_set():
            batch = self._batch()
            if batch is None:
                return
            try:
                self._deliver([item for item, _ in batch], batch[0][1])
            except Exception:  # a worker outlives any one delivery's failure
                log.exception("webhook delivery to %s failed", self.subscription["url"])

    def _deliver(self, items: list[dict], queued_at: datetime) -> None:
        channel, sub = self.channel, self.subscription
        delivery_id = delivery_id_of(sub["subscription_id"], items)
        if channel.store.webhook_delivered(delivery_id):
            return
        body = json.dumps(
            {
                "delivery_id": delivery_id,
                "subscription_id": sub["subscription_id"],
                "center_id": sub["center_id"],
                "alerts": items,
            },
            ensure_ascii=False,
            default=str,
        ).encode()
        error = ""
        options = channel.options
        for attempt in range(1, options.attempts + 1):
            headers = signed_headers(sub["secret"], delivery_id, body, now_s=int(time.time()))
            try:
                response = self.session.post(
                    sub["url"], data=body, headers=headers, timeout=options.timeout_seconds
                )
                if 200 <= response.status_code < 300:
                    channel.record(sub, delivery_id, items, "delivered", attempt, "", queued_at)
                    return
                error = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            if attempt < options.attempts and self.stop.wait(
                options.backoff_seconds * 2 ** (attempt - 1)
            ):
                return
        channel.record(sub, delivery_id, items, "dead", options.attempts, error, queued_at)


class WebhookChannel:
    """Webhook subscriptions of every center, each with its own worker."""

    name = "webhook"

    def __init__(self, store: DutyStore, options: WebhookOptions, *, clock=utc_now):
        self.store = store
        self.options = options
        self.clock = clock
        self._targets: dict[str, _Target] = {}
        self._lock = threading.Lock()
        self.reload()

    @classmethod
    def from_settings(cls, settings: Settings, store: DutyStore) -> WebhookChannel:
        """The channel with ``alert_service.webhooks`` options."""
        section = settings.section("alert_service")["webhooks"]
        options = WebhookOptions(
            allowed_hosts=tuple(str(h) for h in section["allowed_hosts"]),
            timeout_seconds=float(section["timeout_seconds"]),
            attempts=int(section["attempts"]),
            backoff_seconds=float(section["backoff_seconds"]),
            queue_size=int(section["queue_size"]),
            batch_max=int(section["batch_max"]),
        )
        return cls(store, options)

    def reload(self) -> None:
        """Start workers for new subscriptions and stop those of removed ones."""
        current = {s["subscription_id"]: s for s in self.store.webhook_subscriptions()}
        with self._lock:
            for gone in set(self._targets) - set(current):
                self._targets.pop(gone).close()
            for sub_id, sub in current.items():
                if sub_id not in self._targets:
                    self._targets[sub_id] = _Target(self, sub)

    def notify(self, items: list[dict]) -> None:
        """Queue each item for every subscription whose center may see it."""
        policy = self.store.policy
        with self._lock:
            targets = list(self._targets.values())
        for target in targets:
            center = policy.center(target.subscription["center_id"])
            for item in items:
                if center.sees(item["town_code"] or None, item["village_code"] or None):
                    target.put(item)

    def record(self, sub, delivery_id, items, status, attempts, error, queued_at) -> None:
        """Keep a delivery's outcome (delivered, or dead-lettered with its last error)."""
        self.store.record_webhook_delivery(
            delivery_id,
            sub["subscription_id"],
            [item["alert_id"] for item in items],
            status,
            attempts,
            error,
            queued_at,
            self.clock(),
        )
        if status == "dead":
            log.warning(
                "webhook delivery %s to %s dead-lettered after %d attempt(s): %s",
                delivery_id,
                sub["url"],
                attempts,
                error,
            )

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            for target in self._targets.values():
                target.close()
            self._targets.clear()
