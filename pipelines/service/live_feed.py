"""The live feed: every connected page's queue, filled with the alerts its center may see.

The alert store's consumer runs in a thread of its own and publishes
committed alerts from there; :meth:`LiveFeed.publish` hands them to the
event loop, which puts each into the queue of every subscriber whose
center may see it (the jurisdiction policy's rule, the same as the API's).
A subscriber that does not keep up loses its oldest items, never blocks
the others, and is told how many it lost. Each item is rendered as a
server-sent event once, whatever the number of pages it goes to.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass

from features.jurisdiction_policy import JurisdictionPolicy

__all__ = ["LiveFeed", "Subscription", "server_sent_event"]


def server_sent_event(name: str, data: dict) -> str:
    """One server-sent event: its name and its data as one line of JSON.

    >>> server_sent_event("alert", {"alert_id": "a1", "place": "鼓楼街道"})
    'event: alert\\ndata: {"alert_id": "a1", "place": "鼓楼街道"}\\n\\n'
    """
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


@dataclass(eq=False)
class Subscription:
    """One connected page: its center, its queue and how many items it lost."""

    center_id: str
    queue: asyncio.Queue
    dropped: int = 0


class LiveFeed:
    """Fan-out of published alerts to the subscribers who may see them."""

    def __init__(self, policy: JurisdictionPolicy, *, queue_size: int = 1000):
        self.policy = policy
        self.queue_size = queue_size
        self._by_center: dict[str, set[Subscription]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on ``loop`` (the server's event loop)."""
        self._loop = loop

    @property
    def subscribers(self) -> int:
        """How many pages are connected."""
        return sum(len(s) for s in self._by_center.values())

    def subscribe(self, center_id: str) -> Subscription:
        """A new subscription for a page of ``center_id`` (call on the event loop)."""
        sub = Subscription(center_id, asyncio.Queue(self.queue_size))
        self._by_center[center_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a page that went away."""
        self._by_center[sub.center_id].discard(sub)

    def publish(self, items: list[dict]) -> None:
        """Deliver items from any thread; dropped when no server loop is bound."""
        if self._loop is not None and items:
            self._loop.call_soon_threadsafe(self.deliver, items)

    def deliver(self, items: list[dict]) -> None:
        """Put each item, as its event, into the queue of every subscriber allowed to see it (on the loop)."""
        rendered: dict[int, str] = {}

        def event(i: int) -> str:
            if i not in rendered:
                rendered[i] = server_sent_event("alert", items[i])
            return rendered[i]

        for center_id, subs in list(self._by_center.items()):
            if not subs:
                continue
            center = self.policy.center(center_id)
            visible = [
                event(i)
                for i, item in enumerate(items)
                if center.sees(item["town_code"] or None, item["village_code"] or None)
            ]
            for sub in subs:
                for text in visible:
                    if sub.queue.full():
                        sub.queue.get_nowait()
                        sub.dropped += 1
                    sub.queue.put_nowait(text)
