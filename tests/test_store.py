"""The persistent query store (kg/store.py): fresh stores reused, stale or broken ones rebuilt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import engine, queries, store
from kg.cli import main

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "queries"
ATTACK = "https://w3id.org/gia-kg/ontology#Attack"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
COUNT_ATTACKS = f"SELECT (COUNT(?a) AS ?n) WHERE {{ ?a a <{ATTACK}> }}"
# The hand-written fixture holds 8 attack rows: Zhu 2019, Geiping 2020, Dimitrov 2022, Yue 2023,
# Yin 2021, Wen 2022, Fowl 2022, Boenisch 2023 (tests/fixtures/queries/attacks.ttl).
FIXTURE_ATTACKS = 8


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder, so tests never touch ~/.cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("GIA_KG_CACHE", str(folder))
    monkeypatch.delenv("GIA_KG_STORE", raising=False)
    return folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of the query fixture's data folder."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "data"))


def files_of(folder: Path) -> list[Path]:
    return engine.dataset_files(folder)


def attacks_in(path: Path) -> int:
    """Attacks counted in a store on disk, opened read-only as the query path does."""
    result = ox.Store.read_only(str(path)).query(COUNT_ATTACKS)
    return int(next(iter(result))[0].value)


def test_build_once_then_reuse(cache: Path, data: Path) -> None:
    first = store.ensure(files_of(data))
    assert first.built and first.path.parent.parent == cache
    assert attacks_in(first.path) == FIXTURE_ATTACKS
    again = store.ensure(files_of(data))
    assert not again.built and again.path == first.path and again.triples == first.triples


def test_content_change_with_same_size_and_mtime_is_stale(cache: Path, data: Path) -> None:
    first = store.ensure(files_of(data))
    path = data / "attacks.ttl"
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert '"Zhu et al. (2019)"' in text
    path.write_text(text.replace('"Zhu et al. (2019)"', '"Zhu et al. (2091)"'), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # a mtime-only check would miss this
    assert path.stat().st_size == st.st_size
    second = store.ensure(files_of(data))
    assert second.built and second.path != first.path
    assert not first.path.exists(), "the stale store is swept"
    label = ox.Store.read_only(str(second.path)).query(
        f'ASK {{ ?a a <{ATTACK}> ; <{RDFS_LABEL}> "Zhu et al. (2091)" }}'
    )
    assert bool(label)


def test_added_and_removed_files_are_stale(cache: Path, data: Path) -> None:
    first = store.ensure(files_of(data))
    (data / "extra.ttl").write_text(
        f"<https://w3id.org/gia-kg/id/attack/extra> a <{ATTACK}> .\n", encoding="utf-8"
    )
    added = store.ensure(files_of(data))
    assert added.built and added.triples == first.triples + 1
    assert attacks_in(added.path) == FIXTURE_ATTACKS + 1
    (data / "extra.ttl").unlink()
    (data / "works.ttl").unlink()
    removed = store.ensure(files_of(data))
    assert removed.built and removed.triples < first.triples
    assert attacks_in(removed.path) == FIXTURE_ATTACKS


@pytest.mark.parametrize("damage", ["meta", "current", "sst"])
def test_broken_store_is_rebuilt(cache: Path, data: Path, damage: str) -> None:
    first = store.ensure(files_of(data))
    if damage == "meta":  # a build interrupted before its stamp
        (first.path / store.META_NAME).unlink()
    elif damage == "current":  # RocksDB's pointer to its manifest
        (first.path / "CURRENT").write_text("garbage\n")
    else:
        for sst in first.path.glob("*.sst"):
            sst.write_bytes(b"\0" * 64)
    result = engine.Dataset(store.open_store(files_of(data)), files_of(data)).select(COUNT_ATTACKS)
    assert int(result.rows[0][0].value) == FIXTURE_ATTACKS
    assert attacks_in(first.path) == FIXTURE_ATTACKS  # same fingerprint, rebuilt in place
    assert (first.path / store.META_NAME).is_file()


def test_losing_a_build_race_keeps_the_winner(cache: Path, data: Path) -> None:
    files = files_of(data)
    winner = store.ensure(files)
    fp = store.fingerprint(files)
    # A second process finishing the same build later: its rename fails, it uses the winner's.
    assert store._build(winner.path.parent, winner.path, files, fp) == winner.triples
    assert attacks_in(winner.path) == FIXTURE_ATTACKS
    assert [p.name for p in winner.path.parent.iterdir()] == [winner.path.name]


def test_unwritable_cache_falls_back_to_memory(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GIA_KG_CACHE", str(blocker / "cache"))
    result = engine.Dataset(store.open_store(files_of(data)), files_of(data)).select(COUNT_ATTACKS)
    assert int(result.rows[0][0].value) == FIXTURE_ATTACKS


def test_saved_queries_equal_in_memory_results(cache: Path, data: Path) -> None:
    files = files_of(data)
    disk = engine.Dataset(store.open_store(files), files)
    memory = engine.Dataset(store.memory_store(files), files)
    assert len(disk) == len(memory)
    catalog = queries.load_catalog()
    assert catalog
    for name, query in catalog.items():
        vocab = queries.vocabulary(disk)
        params = {p.name: (p.default or (p.choices(vocab) or ("1",))[0]) for p in query.params}
        on_disk = queries.run_saved(name, params, dataset=disk)
        in_memory = queries.run_saved(name, params, dataset=memory)
        assert on_disk.columns == in_memory.columns, name
        assert on_disk.text_rows() == in_memory.text_rows(), name


def test_cli_build(cache: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--kg", str(data), "build"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(str(cache)) and ": built, " in out
    assert main(["--kg", str(data), "build"]) == 0
    assert ": up to date, " in capsys.readouterr().out
    assert main(["--kg", str(data), "build", "--force"]) == 0
    assert ": built, " in capsys.readouterr().out


def test_cli_build_reports_bad_turtle(cache: Path, data: Path, capsys) -> None:
    (data / "attacks.ttl").write_text("this is not turtle\n", encoding="utf-8")
    assert main(["--kg", str(data), "build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gia-kg: error: ") and "attacks.ttl" in err and "Traceback" not in err
    assert not any(p.name.startswith(".build-") for p in cache.rglob("*"))


def test_query_path_does_not_import_rdflib(cache: Path, data: Path) -> None:
    code = (
        "import sys\nfrom kg import engine\n"
        f"d = engine.open_dataset({str(data)!r})\n"
        f"print(d.select({COUNT_ATTACKS!r}).rows[0][0].value)\n"
        "print('rdflib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env=dict(os.environ, GIA_KG_CACHE=str(cache)),
    ).stdout.split()
    assert out == [str(FIXTURE_ATTACKS), "False"]
    assert len(list(cache.glob("*/store-*"))) == 1


def test_stores_of_vanished_folders_are_pruned(cache: Path, data: Path, tmp_path: Path) -> None:
    gone = Path(shutil.copytree(data, tmp_path / "temporary"))
    orphan = store.ensure(files_of(gone))
    shutil.rmtree(gone)
    kept = store.ensure(files_of(data))
    assert not orphan.path.exists() and not orphan.path.parent.exists()
    assert kept.path.exists()
