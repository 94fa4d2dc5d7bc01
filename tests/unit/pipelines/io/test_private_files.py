"""A private file is mode 600 from the start, and replaces the old one whole."""

from __future__ import annotations

import os
import stat

from pipelines.io.private_files import write_private_text


def test_written_mode_600_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        path = tmp_path / "secrets" / "accounts.json"
        write_private_text(path, '{"a": 1}')
    finally:
        os.umask(old)
    assert path.read_text(encoding="utf-8") == '{"a": 1}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_private_text(path, '{"a": 2}')
    assert path.read_text(encoding="utf-8") == '{"a": 2}'
    assert sorted(p.name for p in path.parent.iterdir()) == ["accounts.json"]
