"""The set-up scripts name a missing or wrong prerequisite in one line."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOLS = [
    "bash",
    "dirname",
    "mkdir",
    "chmod",
    "stat",
    "cat",
    "awk",
    "readlink",
    "head",
    "cut",
    "sha256sum",
]


@pytest.fixture()
def bare_path(tmp_path):
    """A PATH with the shell basics only: no java, no mvn."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def _check(bin_dir, function):
    env = {
        "PATH": str(bin_dir),
        "HOME": os.environ.get("HOME", "/root"),
        "ZONGZHI_VAR": str(bin_dir.parent / "var"),
    }
    return subprocess.run(
        ["bash", "-c", f'source "{ROOT}/infra/lib/common.sh"; {function}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_missing_java_is_named(bare_path):
    result = _check(bare_path, "zz_require_java17")
    assert result.returncode == 1
    assert result.stderr == (
        "zongzhi: Java 17 is required but 'java' is not on PATH: install a "
        "JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)\n"
    )


def test_wrong_java_version_is_named(bare_path):
    fake = bare_path / "java"
    fake.write_text("#!/bin/bash\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    fake.chmod(0o755)
    result = _check(bare_path, "zz_require_java17")
    assert result.returncode == 1
    assert result.stderr.startswith("zongzhi: Java 17 is required but 'java' is version '11.0.22'")
    assert result.stderr.count("\n") == 1


def test_missing_maven_is_named(bare_path):
    result = _check(bare_path, "zz_require_maven")
    assert result.returncode == 1
    assert result.stderr == (
        "zongzhi: Maven is required but 'mvn' is not on PATH: install "
        "Maven 3.8+ (Debian: apt-get install maven)\n"
    )
