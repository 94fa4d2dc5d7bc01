"""The ``zongzhi`` command: one entry point for everything a user does.

Every subcommand answers ``--help``. Bad arguments and unreachable services
print one line, ``zongzhi: ...``, and exit non-zero (2 for bad input, 1 for
a failure of the platform or a service).

The argument types are in :mod:`pipelines.cli.arguments`, the parser in
:mod:`pipelines.cli.parser` and :mod:`pipelines.cli.harness_parsers`, what
each subcommand does in :mod:`pipelines.cli.commands`, and :func:`main`,
which maps errors to exit codes, in :mod:`pipelines.cli.app`.
"""

from pipelines.cli.app import main
from pipelines.cli.parser import build_parser

__all__ = ["main", "build_parser"]
