"""The faults ``zongzhi bench faults`` injects, by name.

A module of its own, importing nothing, so that the CLI builds its parser
(``--help``, the ``--faults`` choices) without loading the bench and its
Kafka and PostgreSQL clients. What each fault does is in
:mod:`pipelines.harness.fault_bench_run`.

Examples
--------
>>> FAULTS[0], len(FAULTS)
('normalize-kill', 4)
"""

__all__ = ["FAULTS"]

FAULTS = ("normalize-kill", "hotspot-kill", "postgres-outage", "poison-records")
