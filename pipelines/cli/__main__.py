"""``python -m pipelines.cli``: the ``zongzhi`` command without its console script."""

import sys

from pipelines.cli.app import main

# Guarded: a child process started by "spawn" imports this module again.
if __name__ == "__main__":
    sys.exit(main())
