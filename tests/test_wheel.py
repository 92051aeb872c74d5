"""Install-from-wheel smoke test: the artefacts ship inside the package, no checkout needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCES = ["pyproject.toml", "README.md", "kg", "ontology", "shapes", "queries", "mappings"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(src)],
        check=True, capture_output=True,
    )
    (built,) = out.glob("gia_kg-*.whl")
    return built


def test_wheel_contains_the_artefacts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "kg/ontology/gia.ttl" in names
    assert "kg/data/threat-models.ttl" in names and "kg/data/inferred.ttl" in names
    assert any(n.startswith("kg/queries/order/") and n.endswith(".rq") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "gia-kg = kg.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_runs_order_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import kg; print(kg.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    )
    assert where.stdout.strip().startswith(str(target))
    result = subprocess.run(
        [sys.executable, "-m", "kg", "order", "--format", "csv"],
        cwd=elsewhere, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "stronger,weaker"
    assert "H,G" in result.stdout.splitlines()
