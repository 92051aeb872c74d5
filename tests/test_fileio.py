"""``write_atomic``: regular files are replaced atomically, anything else is written through.

Renaming a temporary file over ``/dev/null`` (as root) would turn the device into a regular
file; these tests use device nodes made in a temporary folder, so nothing system-wide is touched.
"""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kg import cli
from kg.errors import InputError
from kg.fileio import write_atomic

ROOT = Path(__file__).resolve().parent.parent
KG = ROOT / "kg" / "data"
TEXT = "@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")


def _chardev(path: Path, minor: int) -> Path:
    """A copy of /dev/null (minor 3) or /dev/full (minor 7) at ``path``."""
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    return path


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _no_temporaries(folder: Path) -> None:
    assert [n for n in _names(folder) if "gia-kg-tmp" in n or n.startswith(".")] == []


def test_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.ttl", TEXT)
    finally:
        os.umask(old)
    assert (tmp_path / "new.ttl").read_text() == TEXT
    assert stat.S_IMODE((tmp_path / "new.ttl").stat().st_mode) == 0o640
    _no_temporaries(tmp_path)


def test_existing_file_keeps_its_mode_and_is_a_new_inode(tmp_path: Path) -> None:
    target = tmp_path / "out.ttl"
    target.write_text("old\n")
    target.chmod(0o604)
    before = target.stat().st_ino
    write_atomic(target, TEXT)
    assert target.read_text() == TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert target.stat().st_ino != before  # replaced by rename, not rewritten in place
    _no_temporaries(tmp_path)


def test_fifo_with_a_reader_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:  # blocks until the writer opens
            got.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 5
    while True:  # the reader thread must have opened its end before we write
        try:
            write_atomic(fifo, TEXT * 2000)  # larger than a pipe buffer: the write must block
            break
        except InputError as exc:
            assert "no reader" in str(exc)
            assert time.monotonic() < deadline, "the reader never opened the FIFO"
            time.sleep(0.01)
    reader.join(5)
    assert got == [(TEXT * 2000).encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _names(tmp_path) == ["pipe"]


def test_fifo_without_a_reader_fails_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(InputError) as info:
        write_atomic(fifo, TEXT)
    assert time.monotonic() - start < 2
    message = str(info.value)
    assert message.startswith(f"{fifo}: ") and "no reader" in message and "\n" not in message
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _names(tmp_path) == ["pipe"]


@needs_root
def test_dev_null_copy_stays_a_device(tmp_path: Path) -> None:
    null = _chardev(tmp_path / "null", 3)
    write_atomic(null, TEXT)
    info = os.lstat(null)
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert _names(tmp_path) == ["null"]


@needs_root
def test_dev_full_copy_fails_naming_the_path(tmp_path: Path) -> None:
    full = _chardev(tmp_path / "full", 7)
    with pytest.raises(InputError) as info:
        write_atomic(full, TEXT)
    assert str(info.value) == f"{full}: cannot write: No space left on device"
    assert stat.S_ISCHR(os.lstat(full).st_mode) and os.lstat(full).st_rdev == os.makedev(1, 7)
    assert _names(tmp_path) == ["full"]


@needs_root
def test_symlink_to_a_device_writes_through(tmp_path: Path) -> None:
    null = _chardev(tmp_path / "null", 3)
    (tmp_path / "link").symlink_to("null")
    write_atomic(tmp_path / "link", TEXT)
    assert (tmp_path / "link").is_symlink() and os.readlink(tmp_path / "link") == "null"
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert _names(tmp_path) == ["link", "null"]


def test_symlink_to_a_regular_file_replaces_the_target(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "real.ttl"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.ttl"
    link.symlink_to("data/real.ttl")
    inode = real.stat().st_ino
    write_atomic(link, TEXT)
    assert link.is_symlink() and os.readlink(link) == "data/real.ttl"
    assert real.read_text() == TEXT and real.stat().st_ino != inode
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    _no_temporaries(tmp_path)
    _no_temporaries(tmp_path / "data")


def test_chain_of_symlinks_replaces_the_final_target(tmp_path: Path) -> None:
    real = tmp_path / "real.ttl"
    real.write_text("old\n")
    (tmp_path / "one").symlink_to("real.ttl")
    (tmp_path / "two").symlink_to("one")
    write_atomic(tmp_path / "two", TEXT)
    assert real.read_text() == TEXT
    assert (tmp_path / "one").is_symlink() and (tmp_path / "two").is_symlink()


def test_dangling_symlink_into_an_existing_folder_creates_the_target(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    link = tmp_path / "link.ttl"
    link.symlink_to("data/new.ttl")
    write_atomic(link, TEXT)
    assert link.is_symlink() and (tmp_path / "data" / "new.ttl").read_text() == TEXT
    _no_temporaries(tmp_path / "data")


def test_dangling_symlink_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.ttl"
    link.symlink_to("missing/new.ttl")
    with pytest.raises(InputError) as info:
        write_atomic(link, TEXT)
    assert str(info.value) == f"{link}: folder {tmp_path / 'missing'} does not exist"
    assert _names(tmp_path) == ["link.ttl"]


def test_symlink_loop_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(InputError) as info:
        write_atomic(tmp_path / "loop", TEXT)
    assert str(info.value).startswith(f"{tmp_path / 'loop'}: cannot write: ")
    assert _names(tmp_path) == ["loop"]


def test_folder_and_missing_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder; expected a file name"):
        write_atomic(tmp_path, TEXT)
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "no" / "x.ttl", TEXT)
    assert _names(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_unwritable_folder_names_the_target_not_the_temporary(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InputError) as info:
            write_atomic(locked / "x.ttl", TEXT)
    finally:
        locked.chmod(0o755)
    assert str(info.value) == f"{locked / 'x.ttl'}: cannot write: Permission denied"


def test_failed_rename_names_the_target_and_leaves_no_temporary(tmp_path: Path) -> None:
    """A regular file that became a non-empty folder between the check and the rename."""
    from kg import fileio

    target = tmp_path / "out.ttl"
    target.write_text("old\n")
    info = os.lstat(target)
    target.unlink()
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(InputError) as caught:
        fileio._replace_regular(target, TEXT.encode(), str(target), info)
    message = str(caught.value)
    assert message.startswith(f"{target}: cannot write: ") and "gia-kg-tmp" not in message
    assert _names(tmp_path) == ["out.ttl"] and _names(target) == ["keep"]


def test_file_size_limit_keeps_the_old_file(tmp_path: Path) -> None:
    """A write that fails half-way (EFBIG under RLIMIT_FSIZE): old content, no temporary."""
    target = tmp_path / "out.ttl"
    target.write_text("old\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run(
        [sys.executable, "-m", "kg", "--kg", str(KG), "export", "-o", str(target)],
        capture_output=True, text=True, preexec_fn=limit, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"gia-kg: error: {target}: cannot write: File too large\n"
    assert target.read_text() == "old\n"
    assert _names(tmp_path) == ["out.ttl"]


def test_export_to_dev_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--kg", str(KG), "export", "--format", "nt", "-o", "/dev/stdout"])
    out, err = capfd.readouterr()
    assert (code, err) == (0, "")
    assert out.count("\n") > 1000 and out.startswith("<")


def test_export_to_a_fifo_without_reader_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert cli.main(["--kg", str(KG), "export", "-o", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gia-kg: error: {fifo}: ") and err.count("\n") == 1
    assert _names(tmp_path) == ["pipe"]


@needs_root
def test_export_to_dev_full_copy_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = _chardev(tmp_path / "full", 7)
    assert cli.main(["--kg", str(KG), "export", "-o", str(full)]) == 2
    assert capsys.readouterr().err == f"gia-kg: error: {full}: cannot write: No space left on device\n"
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert _names(tmp_path) == ["full"]
