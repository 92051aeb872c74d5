"""Shared fixtures: paths of the repository and of the shipped data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SOK_README = ROOT.parent / "shared" / "sok" / "sok_gias_fl-README-2025-07-15.md"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped instance data (kg/data)."""
    target = tmp_path / "data"
    shutil.copytree(ROOT / "kg" / "data", target, ignore=shutil.ignore_patterns(".*"))
    return target


@pytest.fixture(autouse=True, scope="session")
def _private_store_cache(tmp_path_factory: pytest.TempPathFactory):
    """Query stores built by the tests go to a temporary cache, not the user's ~/.cache."""
    import os

    old = os.environ.get("GIA_KG_CACHE")
    os.environ["GIA_KG_CACHE"] = str(tmp_path_factory.mktemp("store-cache"))
    yield
    if old is None:
        os.environ.pop("GIA_KG_CACHE", None)
    else:
        os.environ["GIA_KG_CACHE"] = old
