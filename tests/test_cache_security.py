"""The store cache trusts only what this user built (kg/store.py), reads sources safely, and
sweeps the build folders of killed processes.

The tests run as root here: another user is simulated with ``os.chown`` to uid 12345, a shared
folder with mode 0777.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import engine, queries, store
from kg.cli import main
from kg.errors import InputError
from tests.conftest import OTHER_UID, as_root

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "kg" / "data"
#: attacks-feasible for threat model A on the shipped data: Zhu et al. (2019), Zhao et al. (2020).
FEASIBLE_AT_A = 2
#: The shipped data's 36 attacks, all moved to threat model A (the attacker's planted store).
ALL_ATTACKS = 36



@pytest.fixture
def data(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA, tmp_path / "data", ignore=shutil.ignore_patterns(".*")))


def feasible_at_a(folder: Path) -> list[list[str]]:
    return queries.run_saved("attacks-feasible", {"threat_model": "A"}, kg_dir=folder).text_rows()


def chown_tree(path: Path, uid: int) -> None:
    os.chown(path, uid, -1, follow_symlinks=False)
    for entry in path.rglob("*"):
        os.chown(entry, uid, -1, follow_symlinks=False)


def plant_poisoned_store(victim: Path, tmp_path: Path) -> Path:
    """What the attacker does: a store of altered data, named and stamped for the victim's data."""
    poisoned = Path(shutil.copytree(victim, tmp_path / "poisoned"))
    attacks = poisoned / "attacks.ttl"
    text = attacks.read_text(encoding="utf-8")
    for tm in "BCDEFGH":
        text = text.replace(f"gia:threatModel tm:{tm} ", "gia:threatModel tm:A ")
    attacks.write_text(text, encoding="utf-8")
    built = store.load_files(ox.Store(str(tmp_path / "built")), engine.dataset_files(poisoned))
    triples = len(built)
    del built
    files = engine.dataset_files(victim)
    fp = store.fingerprint(files)
    home = store.store_home(files)
    home.mkdir(parents=True)
    for folder in (home.parent, home):
        os.chmod(folder, 0o700)
    target = home / f"store-{fp[:32]}"
    shutil.move(tmp_path / "built", target)
    meta = {"fingerprint": fp, "format": store.STORE_FORMAT, "pyoxigraph": ox.__version__,
            "sources": [str(p.resolve()) for p in files], "triples": triples}
    (target / store.META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    return target


def test_in_memory_answer_is_two_rows(cache: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIA_KG_STORE", "memory")
    assert [row[1] for row in feasible_at_a(data)] == ["Zhu et al. (2019)", "Zhao et al. (2020)"]


@as_root
def test_planted_store_of_another_user_is_not_used(
    cache: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = plant_poisoned_store(data, tmp_path)
    chown_tree(target, OTHER_UID)
    rows = feasible_at_a(data)
    assert len(rows) == FEASIBLE_AT_A
    err = capsys.readouterr().err
    assert err == (f"gia-kg: warning: cache folder {target} is owned by uid {OTHER_UID}, not by you "
                   f"(uid {os.geteuid()}); not using it, loading the graph in memory\n")
    assert (target / store.META_NAME).stat().st_uid == OTHER_UID, "the foreign store is left alone"
    # The plant is a real threat: the same store, were it ours, would answer with every attack.
    chown_tree(target, os.geteuid())
    files = engine.dataset_files(data)
    poisoned = engine.Dataset(store.open_store(files), files)
    assert len(queries.run_saved("attacks-feasible", {"threat_model": "A"}, dataset=poisoned).rows) == ALL_ATTACKS


@as_root
def test_planted_meta_of_another_user_is_not_used(cache: Path, data: Path, tmp_path: Path, capsys) -> None:
    target = plant_poisoned_store(data, tmp_path)
    os.chown(target / store.META_NAME, OTHER_UID, -1)
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert f"{target / store.META_NAME} is owned by uid {OTHER_UID}" in capsys.readouterr().err


def test_group_writable_store_or_meta_is_not_used(cache: Path, data: Path, tmp_path: Path, capsys) -> None:
    target = plant_poisoned_store(data, tmp_path)
    os.chmod(target / store.META_NAME, 0o666)
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert f"{target / store.META_NAME} is writable by others (mode 0666)" in capsys.readouterr().err
    os.chmod(target / store.META_NAME, 0o600)
    os.chmod(target, 0o770)
    files = engine.dataset_files(data)
    with pytest.raises(store.CacheRefused, match="is writable by its group \\(mode 0770\\)"):
        store.ensure(files)


def test_symlinked_meta_is_not_used(cache: Path, data: Path, tmp_path: Path, capsys) -> None:
    target = plant_poisoned_store(data, tmp_path)
    (target / store.META_NAME).rename(tmp_path / "meta.json")
    (target / store.META_NAME).symlink_to(tmp_path / "meta.json")
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert f"{target / store.META_NAME} is a symbolic link" in capsys.readouterr().err


@as_root
@pytest.mark.parametrize("level", ["root", "home"])
def test_cache_folders_of_another_user_are_not_used(
    cache: Path, data: Path, tmp_path: Path, capsys, level: str
) -> None:
    target = plant_poisoned_store(data, tmp_path)
    folder = cache if level == "root" else target.parent
    os.chown(folder, OTHER_UID, -1)
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert f"cache folder {folder} is owned by uid {OTHER_UID}" in capsys.readouterr().err
    assert main(["--kg", str(data), "build", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gia-kg: error: cache folder {folder} is owned by uid {OTHER_UID}")
    assert len(err.splitlines()) == 1


def test_world_writable_root_is_not_used_and_warned_about_once(
    cache: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache.mkdir()
    os.chmod(cache, 0o777)
    other = Path(shutil.copytree(data, tmp_path / "other"))
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert len(feasible_at_a(other)) == FEASIBLE_AT_A  # a second data folder: no second warning
    err = capsys.readouterr().err
    assert err == (f"gia-kg: warning: cache folder {cache} is writable by others (mode 0777); "
                   "not using it, loading the graph in memory\n")
    assert list(cache.iterdir()) == [], "nothing is written into a shared folder"


def test_world_writable_root_in_a_fresh_process(cache: Path, data: Path) -> None:
    cache.mkdir()
    os.chmod(cache, 0o777)
    proc = subprocess.run(
        [sys.executable, "-m", "kg", "--kg", str(data), "query", "attacks-feasible", "-p", "threat_model=A"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "(2 rows)" in proc.stdout
    assert proc.stderr.count("\n") == 1 and "is writable by others (mode 0777)" in proc.stderr


def test_umask_zero_still_makes_private_folders(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "missing" / "parents" / "cache"
    monkeypatch.setenv("GIA_KG_CACHE", str(root))
    monkeypatch.delenv("GIA_KG_STORE", raising=False)
    old = os.umask(0)
    try:
        info = store.ensure(engine.dataset_files(data))
    finally:
        os.umask(old)
    folders = [tmp_path / "missing", tmp_path / "missing" / "parents", root, info.path.parent, info.path]
    assert [oct(stat.S_IMODE(p.stat().st_mode)) for p in folders] == ["0o700"] * 5
    assert oct(stat.S_IMODE((info.path / store.META_NAME).stat().st_mode)) == "0o600"
    again = store.ensure(engine.dataset_files(data))
    assert not again.built, "a cache made private is used"


def test_existing_private_0755_cache_is_used(cache: Path, data: Path, capsys) -> None:
    files = engine.dataset_files(data)
    home = store.store_home(files)
    home.mkdir(parents=True)
    os.chmod(cache, 0o755)
    os.chmod(home, 0o755)
    assert store.ensure(files).built
    assert not store.ensure(files).built
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert capsys.readouterr().err == ""


def test_symlinked_cache_root_is_refused(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "cache-link"
    link.symlink_to(real)
    monkeypatch.setenv("GIA_KG_CACHE", str(link))
    monkeypatch.delenv("GIA_KG_STORE", raising=False)
    monkeypatch.setattr(store, "_warned", False)
    assert len(feasible_at_a(data)) == FEASIBLE_AT_A
    assert f"cache folder {link} is a symbolic link; not using it" in capsys.readouterr().err
    assert list(real.iterdir()) == []
    with pytest.raises(store.CacheRefused):
        store.ensure(engine.dataset_files(data))


def test_symlinked_home_is_refused(cache: Path, data: Path, tmp_path: Path) -> None:
    files = engine.dataset_files(data)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    cache.mkdir(mode=0o700)
    store.store_home(files).symlink_to(elsewhere)
    with pytest.raises(store.CacheRefused, match="is a symbolic link"):
        store.ensure(files)
    assert list(elsewhere.iterdir()) == []


# ---------------------------------------------------------------- reading the sources


def test_fingerprint_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "x.ttl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"x\.ttl: is a FIFO \(named pipe\); expected a regular file"):
        store.fingerprint([fifo])  # O_NONBLOCK: returns at once, no writer needed


def test_fingerprint_and_load_refuse_a_device(tmp_path: Path) -> None:
    link = tmp_path / "zero.ttl"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match=r"zero\.ttl: is a device"):
        store.fingerprint([link])
    with pytest.raises(InputError, match=r"zero\.ttl: is a device"):
        store.memory_store([link])


def test_fingerprint_refuses_an_over_limit_file_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.ttl"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # 3 GiB, sparse: reading it whole was a MemoryError
    with pytest.raises(InputError, match=r"huge\.ttl: 3221225472 bytes is over the input limit"):
        store.fingerprint([huge])


def test_env_limit_applies_to_fingerprint_and_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "two-mb.ttl"
    path.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    assert len(store.fingerprint([path])) == 64
    monkeypatch.setenv("GIA_KG_MAX_INPUT_MB", "1")
    for call in (store.fingerprint, store.memory_store):
        with pytest.raises(InputError, match=r"two-mb\.ttl: 2097155 bytes is over the input limit of 1048576"):
            call([path])


def test_fingerprint_sees_every_chunk(tmp_path: Path) -> None:
    path = tmp_path / "a.ttl"
    body = b"# " + b"y" * (3 * 1024 * 1024) + b"\n"
    path.write_bytes(body)
    first = store.fingerprint([path])
    path.write_bytes(body[:-2] + b"z\n")  # same size, last chunk differs
    assert store.fingerprint([path]) != first
    path.write_bytes(body)
    assert store.fingerprint([path]) == first


def test_undecodable_file_name_is_hashed(tmp_path: Path) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.ttl"))
    path.write_bytes(b"<https://example.org/a> <https://example.org/p> 1 .\n")
    assert len(store.fingerprint([path])) == 64
    assert len(store.memory_store([path])) == 1


# ---------------------------------------------------------------- build folders of killed processes


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_build_folders_of_dead_processes_are_swept(cache: Path, data: Path) -> None:
    files = engine.dataset_files(data)
    first = store.ensure(files)
    home = first.path.parent
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        gone = dead_pid()
        names = {
            "dead": f".build-{gone}-k1ll3d_x",
            "dead-removal": f".build-gone-{gone}-store-{'0' * 32}",
            "live": f".build-{live.pid}-running1",
            "legacy-old": ".build-abcd_123",
            "legacy-new": ".build-efgh_456",
            "foreign-dot": ".build-not ours",
            "foreign": "notes",
            "foreign-store": "store-handmade",
        }
        for name in names.values():
            (home / name).mkdir(mode=0o700)
            (home / name / "CURRENT").write_text("x\n")
        hour_and_more = time.time() - store._ABANDONED_AFTER - 60
        os.utime(home / names["legacy-old"], (hour_and_more, hour_and_more))
        (data / "extra.ttl").write_text("<https://example.org/a> <https://example.org/p> 1 .\n")
        second = store.ensure(engine.dataset_files(data))  # a new build sweeps its home
        assert second.built
        left = sorted(p.name for p in home.iterdir())
        kept = [names[k] for k in ("live", "legacy-new", "foreign-dot", "foreign", "foreign-store")]
        assert left == sorted([second.path.name, *kept])
    finally:
        live.kill()
        live.wait()


def test_build_folder_name_holds_the_pid(cache: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = store.load_files

    def spy(st, files, digest=None):
        seen.extend(p.name for p in store.store_home(files).iterdir() if p.name.startswith(".build-"))
        return real(st, files, digest)

    monkeypatch.setattr(store, "load_files", spy)
    store.ensure(engine.dataset_files(data))
    assert len(seen) == 1 and seen[0].startswith(f".build-{os.getpid()}-")
    assert store._BUILD_NAME.fullmatch(seen[0])


def test_sources_changed_during_build_are_not_installed(cache: Path, data: Path) -> None:
    files = engine.dataset_files(data)
    stale = store.fingerprint(files)
    (data / "extra.ttl").write_text("<https://example.org/a> <https://example.org/p> 1 .\n")
    home = store.store_home(files)
    home.mkdir(parents=True)
    target = home / f"store-{stale[:32]}"
    with pytest.raises(OSError, match="sources changed"):
        store._build(home, target, engine.dataset_files(data), stale)
    assert not target.exists() and list(home.iterdir()) == []
