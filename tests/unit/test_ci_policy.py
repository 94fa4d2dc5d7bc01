"""In CI a skipped test fails, with its reason; locally it still skips."""

import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

SKIPPING = """
import pytest

def test_skips_in_its_body():
    pytest.skip("no shared data")

@pytest.fixture
def gone():
    pytest.skip("fixture gone")

def test_skips_in_a_fixture(gone):
    pass

@pytest.mark.xfail(strict=True)
def test_expected_to_fail():
    assert False
"""


def _run(folder: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _suite(tmp_path: Path) -> Path:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    return tmp_path


def test_a_skip_in_ci_is_a_failure_naming_the_reason(tmp_path):
    result = _run(_suite(tmp_path), "true")
    assert result.returncode == 1
    assert "1 failed, 1 xfailed, 1 error" in result.stdout
    assert "skipped in CI, where nothing may skip: Skipped: no shared data" in result.stdout
    assert "Skipped: fixture gone" in result.stdout


def test_outside_ci_a_skip_stays_a_skip(tmp_path):
    result = _run(_suite(tmp_path), None)
    assert result.returncode == 0
    assert "2 skipped, 1 xfailed" in result.stdout
