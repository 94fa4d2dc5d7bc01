"""Run the alert service: the API and live page under uvicorn, the alerts consumer, escalation.

One process does it all. The consumer is the alert store
(:func:`pipelines.streaming.alert_store.store_alerts`), followed in a
thread of its own with the :class:`AlertRouter` as its hook: every batch
is written to PostgreSQL with its routing in one transaction, its offsets
committed after, then handed to the live feed. Escalation runs on the
event loop every ``escalation_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import uvicorn
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from pipelines.io.kafka_produce import RecordProducer
from pipelines.io.kafka_security import INGEST
from pipelines.io.platform_state import (
    load_district,
    load_jurisdiction_policy,
    load_routing_rules,
    load_work_order_rules,
)
from pipelines.service.alert_router import AlertRouter
from pipelines.service.api import ServiceOptions, create_app
from pipelines.service.case_outcomes import CaseOutcomes
from pipelines.service.channels import build_channels
from pipelines.service.duty_store import DutyStore, utc_now
from pipelines.service.live_feed import LiveFeed
from pipelines.service.live_items import live_item
from pipelines.service.open311 import open311_router
from pipelines.service.watch_review import WatchReview
from pipelines.settings import Settings
from pipelines.streaming.alert_store import store_alerts

__all__ = ["AlertService", "build_service", "serve"]

log = logging.getLogger(__name__)

#: How often unacknowledged alerts and open cases are checked against their time limits.
ESCALATION_SECONDS = 30.0
#: How long the consumer waits before it tries Kafka again after an error.
CONSUMER_RETRY_SECONDS = 5.0


@dataclass
class AlertService:
    """The parts of a running service, for the server and for tests."""

    app: FastAPI
    store: DutyStore
    feed: LiveFeed
    router: AlertRouter


def _options(settings: Settings) -> ServiceOptions:
    section = settings.section("alert_service")
    departments = section["departments"]
    return ServiceOptions(
        departments=tuple(str(d) for d in departments["resident"] + departments["on_call"]),
        keep_alive_seconds=section.number("keep_alive_seconds"),
        max_body_bytes=section.integer("max_body_bytes"),
        webhook_hosts=tuple(str(h) for h in section["webhooks"]["allowed_hosts"]),
    )


def build_service(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> AlertService:
    """The service over the configured policy, routing rules and PostgreSQL; demo accounts made."""
    section = settings.section("alert_service")
    district = load_district(settings)
    policy = load_jurisdiction_policy(settings, district)
    rules = load_routing_rules(settings)
    store = DutyStore(
        settings,
        policy,
        rules,
        load_work_order_rules(settings),
        session_hours=section.number("session_hours"),
    )
    store.ensure_demo_accounts(settings.var / section.text("accounts_file"))
    feed = LiveFeed(policy)
    channels = build_channels(settings, store)

    def publish(items: list[dict]) -> None:
        feed.publish(items)
        channels.notify(items)

    router = AlertRouter(policy, rules, publish)
    stop = threading.Event()
    poll_seconds = section.number("poll_seconds")

    def consume() -> None:
        while not stop.is_set():
            try:
                store_alerts(
                    settings,
                    follow=True,
                    poll_seconds=poll_seconds,
                    hook=router,
                    stop=stop.is_set,
                )
            except Exception:  # the service outlives Kafka; it logs and tries again
                log.exception(
                    "the alerts consumer failed; retrying in %.0f s", CONSUMER_RETRY_SECONDS
                )
                stop.wait(CONSUMER_RETRY_SECONDS)

    async def escalate_forever() -> None:
        while True:
            await asyncio.sleep(ESCALATION_SECONDS)
            try:
                moved = await run_in_threadpool(store.escalate_due, clock())
                await run_in_threadpool(store.supervise_due, clock())
                await run_in_threadpool(watch.import_proposals, clock())
                await run_in_threadpool(watch.expire_due, clock())
                await run_in_threadpool(outcomes.measure_due, clock())
            except Exception:
                log.exception("escalation failed; trying again in %.0f s", ESCALATION_SECONDS)
                continue
            feed.deliver(
                [
                    live_item(
                        a, center_id=a["center_id"], center_name=policy.center(a["center_id"]).name
                    )
                    for a in moved
                ]
            )

    @asynccontextmanager
    async def lifespan(app):
        feed.bind(asyncio.get_running_loop())
        # The stream watches what PostgreSQL holds approved, from the start.
        await run_in_threadpool(watch.import_proposals, clock())
        await run_in_threadpool(watch.publish, clock())
        consumer = threading.Thread(target=consume, name="alerts-consumer", daemon=True)
        consumer.start()
        escalation = asyncio.create_task(escalate_forever())
        try:
            yield
        finally:
            escalation.cancel()
            stop.set()
            await run_in_threadpool(consumer.join, 10.0)
            channels.close()
            store.close()

    hotline_topic = settings.topic("raw_hotline")

    def submit(key: str, value: bytes) -> None:
        with RecordProducer(settings, principal=INGEST, flush_timeout=10.0) as producer:
            producer.send(hotline_topic, value, key=key.encode())

    open311 = open311_router(store, policy, district, clock=clock, submit=submit)
    watch = WatchReview(
        store,
        settings.lake_table("watch_list"),
        float(settings.section("watch_list")["approval_days"]),
    )
    cooling = section["cooling"]
    outcomes = CaseOutcomes(
        store,
        settings.lake_table("normalized"),
        settings.pg["schema"],
        hours=float(cooling["hours"]),
        alpha=float(cooling["alpha"]),
    )
    webhooks = channels.by_name.get("webhook")
    app = create_app(
        store,
        feed,
        policy,
        _options(settings),
        clock=clock,
        lifespan=lifespan,
        subscriptions_changed=webhooks.reload if webhooks else lambda: None,
        open311=open311,
        watch=watch,
    )
    return AlertService(app, store, feed, router)


def serve(settings: Settings) -> None:
    """Serve on ``alert_service.host:port`` until stopped (SIGTERM or Ctrl-C)."""
    section = settings.section("alert_service")
    service = build_service(settings)
    uvicorn.run(
        service.app,
        host=section.text("host"),
        port=section.integer("port"),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
