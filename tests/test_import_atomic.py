"""``import-sok -o DIR`` swaps DIR in one atomic step: a kill at any moment leaves it whole.

Kills are real: ``strace`` injects SIGKILL at a chosen system call of the swap (the exchange, the
removal of the old folder), or the process is killed after a delay. After each kill the target
holds either the complete old or the complete new import with its inferred.ttl, and a re-run
succeeds, keeps inferred.ttl and leaves nothing beside the target.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.sok_import import FILES

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "tests" / "fixtures" / "sok" / "sok_gias_fl-README-2025-07-15.md"
STRACE = shutil.which("strace")
INFERRED = b"# inferred.ttl: not written by import-sok, kept across imports\n"
ALL = sorted([*FILES, "inferred.ttl", "registry.tsv"])

needs_strace = pytest.mark.skipif(STRACE is None, reason="strace is not installed (apt-get install strace)")


def _env(cache: Path) -> dict[str, str]:
    # no .pyc writes: their renames would be counted by the injected kills; no Java on PATH, so
    # the import keeps inferred.ttl instead of reasoning (whose own writes would be counted too)
    return {**os.environ, "PYTHONPATH": str(ROOT), "GIA_KG_CACHE": str(cache),
            "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/nonexistent"}


def _cmd(target: Path, version: str) -> list[str]:
    return [sys.executable, "-m", "kg", "import-sok", str(README), "-o", str(target),
            "--source-version", version]


def _read(folder: Path) -> dict[str, bytes] | None:
    if not folder.is_dir():
        return None
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


class Imports:
    """A previous import (``old``) with an inferred.ttl, and what an import of ``new`` writes."""

    def __init__(self, base: Path) -> None:
        self.env = _env(base / "cache")
        self.old_dir, new_dir = base / "old" / "out", base / "new" / "out"
        for folder in (self.old_dir, new_dir):
            folder.mkdir(parents=True)
            (folder / "inferred.ttl").write_bytes(INFERRED)
        start = time.monotonic()
        procs = [subprocess.Popen(_cmd(folder, version), env=self.env, stdout=subprocess.DEVNULL)
                 for folder, version in ((self.old_dir, "old"), (new_dir, "new"))]
        assert [proc.wait(120) for proc in procs] == [0, 0]
        self.seconds = time.monotonic() - start  # of one import, with another one beside it
        self.old, self.new = _read(self.old_dir), _read(new_dir)
        assert self.old is not None and sorted(self.old) == ALL and self.old != self.new
        assert self.new is not None and self.new["inferred.ttl"] == INFERRED

    def target(self, base: Path) -> Path:
        """A fresh copy of the previous import at ``base/parent/out``."""
        target = base / "parent" / "out"
        target.parent.mkdir(parents=True)
        shutil.copytree(self.old_dir, target)
        return target


@pytest.fixture(scope="module")
def imports(tmp_path_factory: pytest.TempPathFactory) -> Imports:
    return Imports(tmp_path_factory.mktemp("imports"))


@dataclass
class Outcome:
    """What one killed import left, and what the re-run after it did."""

    code: int
    log: str
    after_kill: dict[str, bytes] | None  # None: the target folder is missing
    aside: list[dict[str, bytes] | None]  # .out.gia-kg-old-* folders left after the kill
    rerun_code: int
    rerun_err: str
    after_rerun: dict[str, bytes] | None
    siblings: list[str]  # names in the parent folder after the re-run


_TRACED = "trace=rename,renameat,renameat2,unlinkat,rmdir"
#: name -> (strace options, the system call killed, whether the new import is in place by then).
#: (strace 6.1 ignores the injection when --seccomp-bpf is combined with trace=; do not add it.)
KILL_POINTS = {
    "at-the-exchange": (["-e", "inject=rename,renameat,renameat2:signal=KILL:when=1"],
                        "renameat2", False),
    "removing-old-third-file": (["-e", "inject=unlinkat:signal=KILL:when=3"], "unlinkat", True),
    "removing-old-folder": (["-e", "inject=rmdir:signal=KILL:when=1"], "rmdir", True),
    # renameat2 refused as by a file system without RENAME_EXCHANGE: the two-rename fallback,
    # killed between its renames (x86_64 only: there os.rename is the distinct rename syscall)
    "fallback-between-renames": (["-e", "inject=renameat2:error=EINVAL",
                                  "-e", "inject=rename:signal=KILL:when=2"], "rename", False),
}
DELAYS = {"after-60-percent": 0.6, "after-100-percent": 1.0}


def _scenario(imports: Imports, name: str, base: Path) -> Outcome:
    target = imports.target(base)
    log = ""
    if name in KILL_POINTS:
        trace = base / "trace"
        cmd = [STRACE or "strace", "-f", "-qq", "-o", str(trace), "-e", _TRACED,
               *KILL_POINTS[name][0], *_cmd(target, "new")]
        code = subprocess.run(cmd, env=imports.env, capture_output=True, timeout=120).returncode
        log = trace.read_text()
    else:
        proc = subprocess.Popen(_cmd(target, "new"), env=imports.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(imports.seconds * DELAYS[name])
        proc.kill()
        code = proc.wait(60)
    after_kill = _read(target)
    aside = [_read(p) for p in target.parent.iterdir() if p.name.startswith(".out.gia-kg-old-")]
    rerun = subprocess.run(_cmd(target, "new"), env=imports.env, capture_output=True, text=True,
                           timeout=120)
    return Outcome(code, log, after_kill, aside, rerun.returncode, rerun.stderr, _read(target),
                   sorted(os.listdir(target.parent)))


@pytest.fixture(scope="module")
def outcomes(imports: Imports, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every kill scenario, each in its own folder, two at a time (the import is CPU-bound)."""
    names = list(DELAYS)
    if STRACE is not None:
        names += [n for n in KILL_POINTS
                  if n != "fallback-between-renames" or platform.machine() == "x86_64"]
    base = tmp_path_factory.mktemp("kills")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_scenario, imports, name, base / name) for name in names}
        return {name: future.result() for name, future in futures.items()}


def _rerun_is_clean(outcome: Outcome, imports: Imports) -> None:
    assert outcome.rerun_code == 0, outcome.rerun_err
    assert outcome.after_rerun == imports.new  # inferred.ttl kept
    assert outcome.siblings == ["out"]  # no .out.* left beside it


@needs_strace
@pytest.mark.parametrize("point", [n for n in KILL_POINTS if n != "fallback-between-renames"])
def test_kill_during_the_swap_leaves_the_target_whole(
    point: str, outcomes: dict[str, Outcome], imports: Imports
) -> None:
    _options, syscall, swapped = KILL_POINTS[point]
    outcome = outcomes[point]
    assert outcome.code in (-9, 137) and "killed by SIGKILL" in outcome.log, outcome
    killed = [line.split(None, 1)[1] for line in outcome.log.splitlines() if line.endswith("= ?")]
    assert len(killed) == 1 and killed[0].startswith(f"{syscall}("), outcome.log  # hit the swap
    assert ("RENAME_EXCHANGE) = 0" in outcome.log) == swapped, outcome.log
    assert outcome.after_kill == (imports.new if swapped else imports.old)
    _rerun_is_clean(outcome, imports)


@needs_strace
@pytest.mark.skipif(platform.machine() != "x86_64",
                    reason="os.rename must be the rename syscall, distinct from renameat2")
def test_kill_in_the_two_step_fallback_is_recovered(
    outcomes: dict[str, Outcome], imports: Imports
) -> None:
    """Without RENAME_EXCHANGE a kill between the two renames leaves no target but the complete
    old folder aside; the next import puts it back before importing, so inferred.ttl survives."""
    outcome = outcomes["fallback-between-renames"]
    assert outcome.code in (-9, 137) and "RENAME_EXCHANGE) = -1 EINVAL" in outcome.log, outcome
    assert outcome.after_kill is None and outcome.aside == [imports.old]
    _rerun_is_clean(outcome, imports)


@pytest.mark.parametrize("delay", list(DELAYS))
def test_kill_after_a_delay_leaves_the_target_whole(
    delay: str, outcomes: dict[str, Outcome], imports: Imports
) -> None:
    outcome = outcomes[delay]
    assert outcome.after_kill in (imports.old, imports.new)
    _rerun_is_clean(outcome, imports)


def test_concurrent_imports_into_one_target(imports: Imports, tmp_path: Path) -> None:
    target = imports.target(tmp_path)
    procs = [subprocess.Popen(_cmd(target, version), env=imports.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for version in ("new", "other", "new")]
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    files = _read(target)
    assert files is not None and sorted(files) == ALL and files["inferred.ttl"] == INFERRED
    versions = {files[name].split(b"\n", 1)[0] for name in FILES}
    assert len(versions) == 1, versions  # all files from one import, not a mix
    if b"(version new)" in versions.pop():
        assert files == imports.new
    assert os.listdir(target.parent) == ["out"]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_leftovers_of_killed_runs_are_recovered_or_removed(imports: Imports, tmp_path: Path) -> None:
    """What a killed run of the earlier two-rename swap left: no target, the old copy aside."""
    target = imports.target(tmp_path)
    parent = target.parent
    dead = _dead_pid()
    target.rename(parent / f".out.old-{dead}")  # the old version's kill between its renames
    (parent / f".out.gia-kg-tmp-{dead}-0badc0de").mkdir()  # a half-filled temporary
    (parent / f".out.gia-kg-tmp-{dead}-0badc0de" / "works.ttl").write_text("# partial\n")
    (parent / f".x.ttl.gia-kg-tmp-{dead}-abcd_123").write_text("# a killed export -o\n")
    kept = {
        f".other.gia-kg-tmp-{os.getpid()}-1": "a live process's temporary",
        f".other.gia-kg-old-{dead}-2": "the only copy of a missing folder 'other'",
        ".out.notes": "not our pattern",
        ".out.old-notes": "not our pattern",
    }
    for name, text in kept.items():
        (parent / name).write_text(text)
    proc = subprocess.run(_cmd(target, "new"), env=imports.env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _read(target) == imports.new  # recovered first, so inferred.ttl was kept
    assert sorted(os.listdir(parent)) == sorted(["out", *kept])
    for name, text in kept.items():
        assert (parent / name).read_text() == text


def test_a_failing_fill_names_the_target_and_leaves_it_untouched(tmp_path: Path) -> None:
    from kg.errors import InputError
    from kg.fileio import replace_dir_atomic

    target = tmp_path / "out"
    target.mkdir()
    (target / "works.ttl").write_text("# old\n")

    def fill(tmp: Path) -> None:
        (tmp / "works.ttl").write_text("# new\n")
        (tmp / "missing" / "x.ttl").write_text("")  # a real OSError naming the temporary

    with pytest.raises(InputError) as info:
        replace_dir_atomic(target, fill)
    assert str(info.value) == f"{target}: cannot write: No such file or directory"
    assert _read(target) == {"works.ttl": b"# old\n"}
    assert os.listdir(tmp_path) == ["out"]
