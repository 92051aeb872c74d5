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
from kg.errors import InputError

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


# ---------------------------------------------------------------- reading the sources safely

BIG = 17 * 1024 * 1024  # over Oxigraph's 16 MB token buffer when it parses from a path


def test_literal_over_16_mb_is_loaded(cache: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data / "big.ttl").write_text(
        f'<https://w3id.org/gia-kg/id/attack/big> <{RDFS_LABEL}> "{"a" * BIG}" .\n', encoding="utf-8"
    )
    assert main(["--kg", str(data), "build"]) == 0
    assert ": built, " in capsys.readouterr().out
    files = files_of(data)
    on_disk = engine.Dataset(store.open_store(files), files)
    query = f"SELECT (STRLEN(?l) AS ?n) WHERE {{ <https://w3id.org/gia-kg/id/attack/big> <{RDFS_LABEL}> ?l }}"
    assert int(on_disk.select(query).rows[0][0].value) == BIG
    assert main(["--kg", str(data), "export", "--format", "nt"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and f'"{"a" * 100}' in out and len(out) > BIG


class _FailingStore:
    """Stands in for ox.Store: its loader fails as pyoxigraph's does when memory runs out."""

    def bulk_load(self, **_kwargs) -> None:
        raise MemoryError("Reached the buffer maximal size of 16777216")


def test_memory_error_while_loading_names_the_file(data: Path) -> None:
    path = data / "attacks.ttl"
    with pytest.raises(InputError, match=r"attacks\.ttl: too large to load into memory \(\d+ bytes\)$"):
        store.load_files(_FailingStore(), [path])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this is not turtle\n", r"bad\.ttl:1:1: Turtle syntax error: this is not a valid subject"),
        ('<https://e.org/a> <https://e.org/p> "x" ,, .\n', r"bad\.ttl:1:\d+: Turtle syntax error: , is not"),
        ('<https://e.org/a> <https://e.org/p> "x\n', r"bad\.ttl:1:\d+: Turtle syntax error: "),
    ],
)
def test_turtle_errors_name_file_line_and_column(data: Path, text: str, expected: str) -> None:
    bad = data / "bad.ttl"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=expected) as caught:
        store.memory_store([bad])
    assert "\n" not in str(caught.value) and "(line " not in str(caught.value)


def test_turtle_error_line_far_into_a_big_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    good = "".join(f'<https://e.org/a{i}> <https://e.org/p> "v{i}" .\n' for i in range(200_000))
    bad.write_text(good + "oops\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.ttl:200001:1: Turtle syntax error: "):
        store.memory_store([bad])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'<https://e.org/a> <https://e.org/p> "caf\xe9" .\n', r"bad\.ttl:1:41: byte 0xe9 is not UTF-8"),
        (b"# \xff comment\n", r"bad\.ttl:1:3: byte 0xff is not UTF-8"),
        (b"\xff\xfe<\x00", r"bad\.ttl:1:1: byte 0xff is not UTF-8"),
        (b"<https://e.org/a> <https://e.org/p> 1 .\n" * 40_000 + b"\xc3", r"bad\.ttl:40001:1: byte 0xc3"),
    ],
)
def test_non_utf8_byte_is_one_line(tmp_path: Path, raw: bytes, expected: str) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_bytes(raw)
    with pytest.raises(InputError, match=expected):
        store.memory_store([bad])


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.ttl"
    path.write_bytes(b"\xef\xbb\xbf<https://e.org/a> <https://e.org/p> \"\xc3\xa9\" .\n")
    assert [q.object.value for q in store.memory_store([path])] == ["\u00e9"]


def test_cli_reports_a_fifo_in_the_data_folder(cache: Path, data: Path, capsys) -> None:
    os.mkfifo(data / "x.ttl")
    for argv in (["build"], ["query", "attacks-feasible", "-p", "threat_model=A"], ["export"]):
        assert main(["--kg", str(data), *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gia-kg: error: ") and "x.ttl: " in err and len(err.splitlines()) == 1
