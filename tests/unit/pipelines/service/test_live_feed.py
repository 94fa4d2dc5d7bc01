"""Tests for pipelines.service.live_feed: each page gets what its center may see, and a slow page loses its oldest."""

from __future__ import annotations

import asyncio
import json

from pipelines.service.live_feed import LiveFeed


def _item(alert_id, town, village):
    return {"alert_id": alert_id, "town_code": town, "village_code": village}


def _id(event: str) -> str:
    name, data = event.rstrip("\n").split("\n")
    assert name == "event: alert"
    return json.loads(data.removeprefix("data: "))["alert_id"]


def _drain(sub):
    out = []
    while not sub.queue.empty():
        out.append(_id(sub.queue.get_nowait()))
    return out


def test_each_subscriber_gets_only_what_its_center_may_see(policy):
    async def run():
        feed = LiveFeed(policy)
        subs = {
            c: feed.subscribe(c) for c in ("110118", "110118001", "110118001001", "110118001002")
        }
        feed.deliver(
            [
                _item("in-village-1", "110118001", "110118001001"),
                _item("in-town-2", "110118002", "110118002001"),
                _item("unlocated", "", ""),
            ]
        )
        return {c: _drain(s) for c, s in subs.items()}

    assert asyncio.run(run()) == {
        "110118": ["in-village-1", "in-town-2", "unlocated"],
        "110118001": ["in-village-1"],
        "110118001001": ["in-village-1"],
        "110118001002": [],
    }


def test_a_full_queue_drops_its_oldest_and_counts_them(policy):
    async def run():
        feed = LiveFeed(policy, queue_size=2)
        sub = feed.subscribe("110118")
        feed.deliver([_item(f"a{i}", "110118001", "") for i in range(5)])
        feed.unsubscribe(sub)
        feed.deliver([_item("after", "110118001", "")])
        return _drain(sub), sub.dropped, feed.subscribers

    assert asyncio.run(run()) == (["a3", "a4"], 3, 0)


def test_publish_from_another_thread_lands_on_the_loop(policy):
    async def run():
        feed = LiveFeed(policy)
        feed.bind(asyncio.get_running_loop())
        sub = feed.subscribe("110118")
        await asyncio.to_thread(feed.publish, [_item("x", "110118001", "")])
        return _id(await asyncio.wait_for(sub.queue.get(), 1))

    assert asyncio.run(run()) == "x"
