"""``python -m pipelines.cli``: the ``zongzhi`` command without its console script."""

import sys

from pipelines.cli.app import main

sys.exit(main())
