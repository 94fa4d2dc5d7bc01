"""Channels: how an alert leaves the service besides the live page.

The extension point for SMS or e-mail gateways. A channel is a class with
a ``name``, built from the settings and the store, that receives every
committed alert as a live item (:meth:`Channel.notify`) and decides itself
which of its targets may see it (the jurisdiction policy, as the live page
does). Routing never changes when a channel is added:

1. write a class with ``notify(items)`` and ``close()``; ``notify`` is
   called on the consumer's thread and must not block: hand the items to
   workers of your own, one per target, so that a slow target never delays
   the others (:class:`pipelines.service.webhooks.WebhookChannel` shows how);
2. register it in :data:`CHANNEL_KINDS` under its kind's name;
3. name the kind in ``alert_service.channels`` in the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from pipelines.errors import SettingsError
from pipelines.service.duty_store import DutyStore
from pipelines.service.webhooks import WebhookChannel
from pipelines.settings import Settings

__all__ = ["CHANNEL_KINDS", "Channel", "Channels", "build_channels"]


class Channel(Protocol):
    """An outgoing channel of alerts."""

    name: str

    def notify(self, items: list[dict]) -> None:
        """Take committed alerts (live items) for delivery, without blocking."""

    def close(self) -> None:
        """Stop the channel's workers."""


#: Channel kinds by the name ``alert_service.channels`` uses, each built from
#: the settings and the store.
CHANNEL_KINDS: dict[str, Callable[[Settings, DutyStore], Channel]] = {
    "webhook": WebhookChannel.from_settings,
}


class Channels:
    """Every configured channel, notified in turn."""

    def __init__(self, channels: Iterable[Channel]):
        self.by_name = {c.name: c for c in channels}

    def notify(self, items: list[dict]) -> None:
        """Hand committed alerts to every channel."""
        for channel in self.by_name.values():
            channel.notify(items)

    def close(self) -> None:
        """Stop every channel."""
        for channel in self.by_name.values():
            channel.close()


def build_channels(settings: Settings, store: DutyStore) -> Channels:
    """The channels ``alert_service.channels`` names; a one-line error for an unknown kind."""
    kinds = settings.section("alert_service")["channels"] or []
    unknown = [k for k in kinds if k not in CHANNEL_KINDS]
    if unknown:
        raise SettingsError(
            f"alert_service.channels names {unknown[0]!r}, not one of: {', '.join(CHANNEL_KINDS)}"
        )
    return Channels(CHANNEL_KINDS[k](settings, store) for k in kinds)
