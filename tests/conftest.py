"""Shared fixtures: paths of the repository and of the shipped data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
#: The SoK releases are kept in the repository (GPL-3.0, tests/fixtures/sok/LICENSE).
SOK_README = FIXTURES / "sok" / "sok_gias_fl-README-2025-07-15.md"


DATA = ROOT / "kg" / "data"
HAVE_DATA = all((DATA / n).is_file() for n in ("attacks.ttl", "defenses.ttl", "inferred.ttl"))
real_data = pytest.mark.skipif(not HAVE_DATA, reason="kg/data not imported/reasoned yet")

#: A uid that is not ours, for simulated other users (chown needs root).
OTHER_UID = 12345
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="simulating another user needs chown (root)")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty store cache for one test (the default store kind and keep count)."""
    from kg import store

    folder = tmp_path / "cache"
    monkeypatch.setenv("GIA_KG_CACHE", str(folder))
    monkeypatch.delenv("GIA_KG_STORE", raising=False)
    monkeypatch.delenv("GIA_KG_CACHE_KEEP", raising=False)
    monkeypatch.setattr(store, "_warned", False)  # one warning per process: reset per test
    return folder


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped instance data (kg/data)."""
    target = tmp_path / "data"
    shutil.copytree(ROOT / "kg" / "data", target, ignore=shutil.ignore_patterns(".*"))
    return target


@pytest.fixture(autouse=True, scope="session")
def _no_progress_lines():
    """Tests compare stderr exactly: progress lines (kg.progress) only where a test asks for them
    (session-wide, so module-scoped fixtures that run the CLI are quiet too)."""
    import os

    old = os.environ.get("GIA_KG_QUIET")
    os.environ["GIA_KG_QUIET"] = "1"
    yield
    if old is None:
        os.environ.pop("GIA_KG_QUIET", None)
    else:
        os.environ["GIA_KG_QUIET"] = old


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
