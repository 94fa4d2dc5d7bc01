"""The platform's consumer groups, and starting the streams afresh.

A demo or a test scenario starts from empty topics and forgotten offsets, so
that every count it reports belongs to it.
"""

from __future__ import annotations

import shutil

from pipelines.io.flink import checkpoint_folder
from pipelines.io.kafka import delete_groups, reset_topics
from pipelines.settings import Settings
from pipelines.streaming import alert_store, hotspot_job, lake_writer, normalize_job

__all__ = ["CONSUMER_GROUPS", "forget_groups", "fresh_streams"]

#: Every consumer group the platform's jobs commit offsets for.
CONSUMER_GROUPS = (
    normalize_job.GROUP_ID,
    hotspot_job.GROUP_ID,
    lake_writer.GROUP_ID,
    alert_store.GROUP_ID,
)


def fresh_streams(settings: Settings) -> None:
    """Forget the jobs' offsets and checkpoints, and re-create every declared topic empty.

    A checkpoint holds offsets in the old topics: a job resuming from it
    would skip the new topics' records.
    """
    forget_groups(settings, CONSUMER_GROUPS)
    reset_topics(settings, settings.declared_topics)


def forget_groups(settings: Settings, groups) -> None:
    """Forget ``groups``' checkpoints and committed offsets: their jobs start from the beginning."""
    for group in groups:
        shutil.rmtree(checkpoint_folder(settings, group), ignore_errors=True)
    delete_groups(settings, list(groups))
