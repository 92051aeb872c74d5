"""Cache housekeeping (kg/store.py, issue 13): a build keeps the stores of the last few data
folders; ``cache_entries``, ``prune`` and ``clean`` list and empty the cache on request, never
touching what is not theirs; a store removed while open keeps answering (Linux semantics).

Last use is the store folder's mtime, so the tests set it with ``os.utime`` to hand-picked
times instead of sleeping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg import engine, queries, store
from kg.cli import main
from kg.errors import InputError
from tests.conftest import OTHER_UID, as_root

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600
#: 2026-01-01 00:00:00 UTC.
NEW_YEAR = 1767225600


def tiny(tmp_path: Path, name: str, objects: int = 3) -> list[Path]:
    """A data folder of one file holding ``objects`` hand-written triples; its file list."""
    folder = tmp_path / name
    folder.mkdir()
    values = ", ".join(str(i) for i in range(1, objects + 1))
    (folder / "a.ttl").write_text(f"<https://example.org/{name}> <https://example.org/p> {values} .\n")
    return [folder / "a.ttl"]


def kg_copy(tmp_path: Path, name: str) -> list[Path]:
    """A copy of the shipped data (kg/data), as a user's checkout or --kg folder; its file list."""
    folder = shutil.copytree(ROOT / "kg" / "data", tmp_path / name, ignore=shutil.ignore_patterns(".*"))
    return engine.dataset_files(folder)


def used_at(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def homes(cache: Path) -> set[str]:
    return {p.name for p in cache.iterdir() if p.is_dir()}


def stores(cache: Path) -> set[Path]:
    return set(cache.glob("*/store-*"))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def build_six(tmp_path: Path, make=tiny) -> tuple[dict[str, Path], list[Path]]:
    """Stores of data folders a-e last used 5, 1, 3, 2 and 4 hours ago; the files of f (not built)."""
    built = {name: store.ensure(make(tmp_path, name)).path for name in "abcde"}
    now = time.time()
    for name, hours in {"a": 5, "b": 1, "c": 3, "d": 2, "e": 4}.items():
        used_at(built[name], now - hours * HOUR)
    return built, make(tmp_path, "f")


# ---------------------------------------------------------------- automatic: the last N data folders


def test_build_keeps_the_four_most_recently_used_data_folders(cache: Path, tmp_path: Path) -> None:
    built, f_files = build_six(tmp_path, kg_copy)
    assert len(homes(cache)) == 5, "within the grace minute nothing was removed yet"
    f = store.ensure(f_files)
    assert f.built
    # f (just built), then b (1 h ago), d (2 h), c (3 h); e (4 h) and a (5 h) go, homes and all.
    assert stores(cache) == {f.path, built["b"], built["d"], built["c"]}
    assert homes(cache) == {p.parent.name for p in (f.path, built["b"], built["d"], built["c"])}
    again = store.ensure(f_files)
    assert not again.built and again.path == f.path


@pytest.mark.parametrize(("keep", "kept"), [("1", "f"), ("2", "fb"), (" 5 ", "fbdce"), ("", "fbdc")])
def test_keep_count_comes_from_the_environment(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: str, kept: str
) -> None:
    built, f_files = build_six(tmp_path)
    monkeypatch.setenv("GIA_KG_CACHE_KEEP", keep)
    built["f"] = store.ensure(f_files).path
    assert stores(cache) == {built[name] for name in kept}


@pytest.mark.parametrize("bad", ["0", "-1", "four", "2.5", "1e3", "٣"])
def test_bad_keep_count_is_one_clear_error(
    cache: Path, tmp_path: Path, data_copy: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], bad: str,
) -> None:
    files = tiny(tmp_path, "a")
    monkeypatch.setenv("GIA_KG_CACHE_KEEP", bad)
    expected = (f"GIA_KG_CACHE_KEEP={bad!r}: expected a whole number of data folders whose query "
                "stores are kept, at least 1 (default 4)")
    with pytest.raises(InputError) as raised:
        store.ensure(files)
    assert str(raised.value) == expected
    with pytest.raises(InputError):  # the query path too: not a silent fall-back to memory
        store.open_store(files)
    assert not cache.exists(), "nothing built"
    assert main(["--kg", str(data_copy), "build"]) == 2
    assert capsys.readouterr().err == f"gia-kg: error: {expected}\n"


def test_stores_in_use_or_being_built_are_not_removed(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = {name: store.ensure(tiny(tmp_path, name)).path for name in "abcd"}
    now = time.time()
    used_at(built["a"], now - 30)  # opened half a minute ago: another process may be opening it
    for name in "bcd":
        used_at(built[name], now - 2 * HOUR)
    live = built["b"].parent / f".build-{os.getpid()}-inprogress"  # this process: alive
    dead = built["d"].parent / f".build-{dead_pid()}-k1ll3d_x"
    for folder in (live, dead):
        folder.mkdir(mode=0o700)
    monkeypatch.setenv("GIA_KG_CACHE_KEEP", "1")
    f = store.ensure(tiny(tmp_path, "f")).path
    assert stores(cache) == {f, built["a"], built["b"]}
    assert live.is_dir()
    assert not built["d"].parent.exists(), "a dead build does not protect its folder"


def test_every_open_records_the_use(cache: Path, tmp_path: Path) -> None:
    files = tiny(tmp_path, "a")
    path = store.ensure(files).path
    for open_it in (store.ensure, store.open_store):
        used_at(path, NEW_YEAR)
        before = time.time()
        open_it(files)
        assert before - 1 <= path.stat().st_mtime <= time.time() + 1


# ---------------------------------------------------------------- listing


def du_bytes(path: Path) -> int:
    """Bytes allocated to ``path`` as GNU du counts them (an independent measure)."""
    out = subprocess.run(["du", "-s", "-B1", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def test_cache_entries_describe_every_store(cache: Path, tmp_path: Path) -> None:
    assert store.cache_entries() == [], "no cache yet"
    x = store.ensure(tiny(tmp_path, "x", 3)).path
    y = store.ensure(tiny(tmp_path, "y", 2)).path
    z = store.ensure(tiny(tmp_path, "z", 1)).path
    w = store.ensure(tiny(tmp_path, "w", 4)).path
    v_files = tiny(tmp_path, "v", 2)
    (tmp_path / "v" / "inferred.ttl").write_text("<https://example.org/v> <https://example.org/q> 9 .\n")
    v = store.ensure([*v_files, tmp_path / "v" / "inferred.ttl"]).path
    (tmp_path / "y" / "a.ttl").write_text("<https://example.org/y> <https://example.org/p> 7 .\n")
    shutil.rmtree(tmp_path / "z")
    (w / store.META_NAME).unlink()
    times = {v: NEW_YEAR, x: NEW_YEAR - HOUR, y: NEW_YEAR - HOUR, z: NEW_YEAR - 2 * HOUR, w: NEW_YEAR - 3 * HOUR}
    for path, when in times.items():
        used_at(path, when)
    folder = tmp_path.resolve()

    def entry(path: Path, name: str | None, inferred: bool, triples: int | None, exists: bool, stale: bool):
        return store.CacheEntry(path, None if name is None else folder / name, inferred, triples,
                                du_bytes(path), float(times[path]), exists, stale)

    tied = sorted([entry(x, "x", False, 3, True, False), entry(y, "y", False, 2, True, True)],
                  key=lambda e: str(e.path))  # same last use: by path
    assert store.cache_entries() == [
        entry(v, "v", True, 3, True, False),
        *tied,
        entry(z, "z", False, 1, False, True),
        entry(w, None, False, None, False, True),
    ]


def test_render_entries_is_an_aligned_table() -> None:
    entries = [
        store.CacheEntry(Path("/c/0123456789abcdef/store-" + "a" * 32), Path("/data/main"), True, 4087,
                         888_832, NEW_YEAR + 59, True, False),
        store.CacheEntry(Path("/c/1111111111111111/store-" + "b" * 32), Path("/wt"), False, 12,
                         1_234_567, NEW_YEAR - 25 * HOUR, True, True),
        store.CacheEntry(Path("/c/2222222222222222/store-" + "c" * 32), Path("/tmp/x"), False, 3,
                         999, NEW_YEAR - 48 * HOUR, False, True),
        store.CacheEntry(Path("/c/3333333333333333/store-" + "d" * 32), None, False, None,
                         0, NEW_YEAR - 49 * HOUR, False, True),
    ]
    assert store.render_entries(entries) == (
        "LAST USED (UTC)   SIZE      TRIPLES  INFERRED  STATE        DATA FOLDER  STORE\n"
        "----------------  --------  -------  --------  -----------  -----------  "
        + "-" * 58 + "\n"
        "2026-01-01 00:00  888.8 kB  4087     yes       current      /data/main   /c/0123456789abcdef/store-"
        + "a" * 32 + "\n"
        "2025-12-30 23:00  1.2 MB    12       no        stale        /wt          /c/1111111111111111/store-"
        + "b" * 32 + "\n"
        "2025-12-30 00:00  999 B     3        no        folder gone  /tmp/x       /c/2222222222222222/store-"
        + "c" * 32 + "\n"
        "2025-12-29 23:00  0 B       ?        no        unreadable   ?            /c/3333333333333333/store-"
        + "d" * 32 + "\n"
        "(4 stores, 2.1 MB)\n"
    )


# ---------------------------------------------------------------- prune and clean on request


def test_prune_keeps_exactly_the_current_store(cache: Path, tmp_path: Path) -> None:
    a_files = tiny(tmp_path, "a")
    a, b, c = (store.ensure(files).path for files in (a_files, tiny(tmp_path, "b"), tiny(tmp_path, "c")))
    (b.parent / "notes.txt").write_text("mine\n")
    live = c.parent / f".build-{os.getpid()}-inprogress"
    dead = c.parent / f".build-{dead_pid()}-k1ll3d_x"
    for folder in (live, dead):
        folder.mkdir(mode=0o700)
    assert store.prune(a_files) == sorted([b, c]), "just built, used now: removed all the same"
    assert stores(cache) == {a}
    assert sorted(p.name for p in b.parent.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in c.parent.iterdir()) == [live.name]
    (tmp_path / "a" / "a.ttl").write_text("<https://example.org/a> <https://example.org/p> 9 .\n")
    assert store.prune(a_files) == [a], "a stale store is not the current one"
    assert store.prune(None) == [] and not a.parent.exists()


def test_prune_without_files_removes_every_store(cache: Path, tmp_path: Path) -> None:
    a, b = (store.ensure(tiny(tmp_path, name)).path for name in "ab")
    assert store.prune(None) == sorted([a, b])
    assert list(cache.iterdir()) == []


def test_clean_empties_the_cache_but_keeps_foreign_files(cache: Path, tmp_path: Path) -> None:
    a, b = (store.ensure(tiny(tmp_path, name)).path for name in "ab")
    dead = a.parent / f".build-{dead_pid()}-k1ll3d_x"
    gone = b.parent / f".build-gone-{dead_pid()}-store-{'0' * 32}"
    for folder in (dead, gone):
        folder.mkdir(mode=0o700)
        (folder / "CURRENT").write_text("x\n")
    (cache / "notes.txt").write_text("not a store\n")
    (cache / "0123456789abcdeg").mkdir()  # not a name of ours (g is not hex)
    assert store.clean() == sorted([a, b, dead, gone])
    assert sorted(p.name for p in cache.iterdir()) == ["0123456789abcdeg", "notes.txt"]
    assert store.cache_entries() == [] and store.clean() == []


def test_clean_keeps_a_live_build_and_foreign_names_in_a_home(cache: Path, tmp_path: Path) -> None:
    a = store.ensure(tiny(tmp_path, "a")).path
    live = a.parent / f".build-{os.getpid()}-inprogress"
    live.mkdir(mode=0o700)
    (a.parent / "store-handmade").mkdir()
    assert store.clean() == [a]
    assert sorted(p.name for p in a.parent.iterdir()) == [live.name, "store-handmade"]


def test_nothing_to_clean_without_a_cache(cache: Path) -> None:
    assert store.clean() == [] and store.prune(None) == [] and store.cache_entries() == []
    assert not cache.exists()


# ---------------------------------------------------------------- untrusted folders are left alone


def test_untrusted_home_and_store_are_never_removed_or_listed(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared, loose, mine = (store.ensure(tiny(tmp_path, name)).path for name in "abc")
    os.chmod(shared.parent, 0o770)  # a group-writable data-folder sub-folder
    os.chmod(loose, 0o750 | 0o020)  # a group-writable store in a folder of ours
    outside = tmp_path / "elsewhere"
    outside.mkdir(mode=0o700)
    planted = Path(shutil.copytree(mine, outside / mine.name))
    link = cache / "fedcba9876543210"
    link.symlink_to(outside, target_is_directory=True)  # a home that is a symbolic link
    assert [e.path for e in store.cache_entries()] == [mine]
    assert store.prune(None) == [mine]
    assert store.clean() == []
    used_at(shared, time.time() - 5 * HOUR)
    used_at(loose, time.time() - 5 * HOUR)
    monkeypatch.setenv("GIA_KG_CACHE_KEEP", "1")
    store.ensure(tiny(tmp_path, "d"))  # the automatic housekeeping skips them too
    assert shared.is_dir() and loose.is_dir() and planted.is_dir() and link.is_symlink()


@as_root
def test_home_of_another_user_is_left_alone(cache: Path, tmp_path: Path) -> None:
    theirs = store.ensure(tiny(tmp_path, "a")).path
    os.chown(theirs.parent, OTHER_UID, -1)
    assert store.clean() == [] and store.cache_entries() == []
    assert theirs.is_dir()


def test_untrusted_cache_root_is_refused(cache: Path, tmp_path: Path) -> None:
    a = store.ensure(tiny(tmp_path, "a")).path
    os.chmod(cache, 0o777)
    for call in (store.clean, store.prune, store.cache_entries):
        with pytest.raises(store.CacheRefused, match=r"is writable by others \(mode 0777\)"):
            call()
    assert a.is_dir()


# ---------------------------------------------------------------- a reader of a removed store


@pytest.mark.parametrize("remove", ["prune", "clean", "keep"])
def test_an_open_store_still_answers_after_its_removal(
    cache: Path, data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remove: str
) -> None:
    files = engine.dataset_files(data_copy)
    dataset = engine.Dataset(store.open_store(files), files)
    (path,) = store.store_home(files).iterdir()  # the store just built, open in ``dataset``

    def feasible_at_a() -> list[str]:
        rows = queries.run_saved("attacks-feasible", {"threat_model": "A"}, dataset=dataset).text_rows()
        return [row[1] for row in rows]

    assert feasible_at_a() == ["Zhu et al. (2019)", "Zhao et al. (2020)"]
    if remove == "prune":
        assert store.prune(None) == [path]
    elif remove == "clean":
        assert store.clean() == [path]
    else:  # a build of another data folder evicts it while it is open
        used_at(path, time.time() - HOUR)
        monkeypatch.setenv("GIA_KG_CACHE_KEEP", "1")
        store.ensure(tiny(tmp_path, "other"))
    assert not path.exists() and not path.parent.exists()
    assert feasible_at_a() == ["Zhu et al. (2019)", "Zhao et al. (2020)"]
