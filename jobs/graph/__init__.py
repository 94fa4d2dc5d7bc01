"""The nightly relation-graph job, one stage per module.

:mod:`~jobs.graph.job` runs the night (extract → transform → load):
:mod:`~jobs.graph.extract` (the window's events and their mentions),
:mod:`~jobs.graph.resolution` (entity resolution through Spark, over the pure
:mod:`~jobs.graph.person_resolution` and :mod:`~jobs.graph.vehicle_resolution`),
:mod:`~jobs.graph.edges` (the typed graph), :mod:`~jobs.graph.companions`,
:mod:`~jobs.graph.mining`, :mod:`~jobs.graph.risk`,
:mod:`~jobs.graph.watch_list`, :mod:`~jobs.graph.snapshot` (the lake) and
:mod:`~jobs.graph.serving` (PostgreSQL, rows from
:mod:`~jobs.graph.serving_frames`).
"""

from jobs.graph.job import GraphReport, graph_config, report_dict, run
from jobs.graph.snapshot import snapshot_path

__all__ = ["GraphReport", "graph_config", "report_dict", "run", "snapshot_path"]
