"""Files only their owner may read: generated passwords and plans that carry them."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_private_text"]


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, mode 600 from its creation.

    The file is made under a temporary name with mode 600 (never readable by
    others, not even for a moment) and renamed over ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)
