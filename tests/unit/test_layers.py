"""The layer contract in pyproject.toml holds, and it can fail.

``lint-imports`` runs on a temporary copy of the packages: once as they are
(kept), once with an import that points up a layer (broken).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("features", "models", "pipelines", "jobs")


def _lint_imports(copy: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(executable), "--config", str(copy / "pyproject.toml"), "--no-cache"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_layer_contracts_are_kept(copy):
    result = _lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_import_up_a_layer_breaks_the_contract(copy, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(copy, broken)
    taxonomy = broken / "features" / "taxonomy.py"
    taxonomy.write_text(taxonomy.read_text() + "\nimport pipelines.harness.demo  # noqa\n")
    result = _lint_imports(broken)
    assert result.returncode == 1
    assert "Contracts: 1 kept, 1 broken." in result.stdout
    assert "features.taxonomy -> pipelines.harness.demo" in result.stdout


def test_a_leaf_that_imports_the_project_breaks_the_contract(copy, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(copy, broken)
    settings = broken / "pipelines" / "settings.py"
    settings.write_text(settings.read_text() + "\nimport features.taxonomy  # noqa\n")
    result = _lint_imports(broken)
    assert result.returncode == 1
    assert "pipelines.settings is not allowed to import features" in result.stdout
