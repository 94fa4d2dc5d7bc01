"""Streaming and I/O: the Flink jobs and stores (``streaming``), the I/O adapters
(``io``), the harnesses that drive and measure them (``harness``), the CLI, and
the two leaf modules every layer may import: ``errors`` and ``settings``.

The layers are declared in pyproject.toml and drawn in docs/architecture.md.
"""
