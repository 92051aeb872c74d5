"""Atomic writes: a file or a folder appears whole or not at all.

- ``write_atomic`` replaces a regular file (or creates a new one) through a temporary file and a
  rename, so a reader never sees half a file. A path that exists and is not a regular file (a
  device such as ``/dev/null``, a FIFO, ``/dev/stdout``) is written *through*: renaming over it
  would replace the device node with a regular file. A symbolic link stays a link: its final
  target is what gets replaced or written through.
- ``replace_dir_atomic`` swaps a freshly built folder in with one ``renameat2(RENAME_EXCHANGE)``
  (Linux), so a kill at any moment leaves the target whole, either old or new. It serialises
  imports into the same parent with ``flock`` and cleans up what killed runs left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import platform
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from kg.errors import InputError

#: Marker in the names of our temporary siblings: ``.{name}.gia-kg-{tmp|old}-{pid}-{random}``.
_TMP_TAG = "gia-kg-tmp"
_OLD_TAG = "gia-kg-old"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.gia-kg-(?P<kind>tmp|old)-(?P<pid>\d+)-[A-Za-z0-9_]+$")
#: What earlier versions' two-rename swap left after a kill between its renames: the old folder.
_LEGACY_OLD = re.compile(r"^\.(?P<name>.+)\.old-(?P<pid>\d+)$")


def _why(exc: OSError) -> str:
    """The reason of an OSError without its file names (which may be our temporary name)."""
    return exc.strerror or str(exc).splitlines()[0]


# ---------------------------------------------------------------- files


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: atomically for a regular file, through anything else.

    Errors are one-line InputErrors naming ``path`` as given (never the temporary file); for a
    regular target nothing half-written remains.
    """
    shown = str(path)
    data = text.encode("utf-8")
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"{shown}: cannot write: {_why(exc)}") from None
    final: Path | None = Path(path)
    if info is not None and stat.S_ISLNK(info.st_mode):
        final, info = _follow(Path(path), shown)
    if final is None:  # a regular file with no name to rename over (/dev/stdout > file)
        _write_through(Path(path), data, shown)
    elif info is None:
        if not final.parent.is_dir():
            raise InputError(f"{shown}: folder {final.parent} does not exist")
        _replace_regular(final, data, shown, None)
    elif stat.S_ISDIR(info.st_mode):
        raise InputError(f"{shown}: is a folder; expected a file name")
    elif stat.S_ISREG(info.st_mode):
        _replace_regular(final, data, shown, info)
    else:
        _write_through(Path(path), data, shown)


def _follow(link: Path, shown: str) -> tuple[Path | None, os.stat_result | None]:
    """The final target of a symlink and its stat (None if missing), for replacing it by name.

    ``/proc/self/fd/N`` links (``/dev/stdout``) may lead to a regular file whose realpath is not
    that file (deleted, or in another mount namespace): then the path is None and the caller
    writes through the link instead of creating a stray file.
    """
    try:
        info: os.stat_result | None = os.stat(link)
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a loop, a component that is not a folder, ...
        raise InputError(f"{shown}: cannot write: {_why(exc)}") from None
    final = Path(os.path.realpath(link))
    if info is None or not stat.S_ISREG(info.st_mode):
        return final, info
    try:
        same = os.stat(final, follow_symlinks=False)
    except OSError:
        same = None
    if same is None or (same.st_dev, same.st_ino) != (info.st_dev, info.st_ino):
        return None, info
    return final, info


def _replace_regular(path: Path, data: bytes, shown: str, old: os.stat_result | None) -> None:
    """Temporary file in the same folder, fsync, then rename over ``path`` (keeps an old mode)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_TMP_TAG}-{os.getpid()}-",
                                   dir=path.parent)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write: {_why(exc)}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if old is None:
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; a new file gets the usual mode
            else:
                os.chmod(tmp, stat.S_IMODE(old.st_mode))
                if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):  # only root may give a file away
                        os.chown(tmp, old.st_uid, old.st_gid)
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(f"{shown}: cannot write: {_why(exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_through(path: Path, data: bytes, shown: str) -> None:
    """Open an existing non-regular file for writing (no create, no truncate) and write into it.

    ``O_NONBLOCK`` makes opening a FIFO without a reader fail (ENXIO) instead of hanging; the
    descriptor is made blocking again before writing so a slow reader gets everything.
    """
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        kind = _kind(path)
        if exc.errno == errno.ENXIO and kind == "FIFO":
            raise InputError(f"{shown}: is a FIFO (named pipe) with no reader; expected a "
                             "reading process on it, or a regular file") from None
        if exc.errno == errno.ENXIO and kind == "socket":
            raise InputError(f"{shown}: is a socket; expected a file, a FIFO or a device") from None
        raise InputError(f"{shown}: cannot write: {_why(exc)}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{shown}: is a folder; expected a file name")
        os.set_blocking(fd, True)
        if stat.S_ISREG(info.st_mode):  # reached through /dev/stdout & co: behave like `>`
            os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        with contextlib.suppress(OSError):  # devices and pipes may not support fsync (EINVAL)
            os.fsync(fd)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write: {_why(exc)}") from None
    finally:
        os.close(fd)


def _kind(path: Path) -> str:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "missing"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# ---------------------------------------------------------------- folders

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: renameat2 system call numbers, for a libc without the wrapper (glibc < 2.28, some musl).
_SYS_RENAMEAT2 = {"x86_64": 316, "amd64": 316, "aarch64": 276, "arm64": 276}


def _rename_exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux renameat2 RENAME_EXCHANGE).

    Returns False where the exchange is unavailable (not Linux, old kernel or libc, a file
    system that refuses it), so the caller falls back; raises OSError for a real failure.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    src, dst = os.fsencode(a), os.fsencode(b)
    func = getattr(libc, "renameat2", None)
    if func is not None:
        func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        func.restype = ctypes.c_int
        result = func(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_EXCHANGE)
    else:
        number = _SYS_RENAMEAT2.get(platform.machine().lower())
        if number is None:
            return False
        libc.syscall.restype = ctypes.c_long
        result = libc.syscall(ctypes.c_long(number), ctypes.c_int(_AT_FDCWD), src,
                              ctypes.c_int(_AT_FDCWD), dst, ctypes.c_uint(_RENAME_EXCHANGE))
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def pid_alive(pid: int) -> bool:
    """Whether a process of that id exists (a leftover of a live process may be in use).

    When unsure (another user's process, an unexpected error) the answer is yes: keep the leftover.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


def _remove(path: Path) -> None:
    """Delete a file or folder without following a symlink (best effort)."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the parent folder: one swap at a time per parent."""
    fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def recover_leftovers(target: Path) -> None:
    """Undo what a killed swap left beside ``target``; call with the parent lock held.

    If ``target`` is missing but a complete old copy exists (the fallback's first rename, or
    the ``.NAME.old-PID`` of earlier versions), it is renamed back. Then every sibling named like
    our temporaries whose process is gone is removed; an old copy only once its own target
    exists again. Nothing that does not match ``_LEFTOVER`` is deleted.
    """
    parent = target.parent
    try:
        names = os.listdir(parent)
    except OSError:
        return
    found: list[tuple[Path, str, str]] = []  # (path, name it belongs to, kind)
    legacy: list[Path] = []  # only ever renamed back, never deleted: the pattern is too loose
    for entry in names:
        match = _LEFTOVER.match(entry)
        if match is not None:
            if not pid_alive(int(match["pid"])):
                found.append((parent / entry, match["name"], match["kind"]))
            continue
        match = _LEGACY_OLD.match(entry)
        if match is not None and match["name"] == target.name and not pid_alive(int(match["pid"])):
            legacy.append(parent / entry)
    if not os.path.lexists(target):
        olds = [p for p, name, kind in found if name == target.name and kind == "old"]
        olds = [p for p in olds + legacy if p.is_dir() and not p.is_symlink()]
        if olds:
            newest = max(olds, key=lambda p: p.lstat().st_ctime)
            os.rename(newest, target)
            _fsync_dir(parent)
    for path, name, kind in found:
        if not os.path.lexists(path):
            continue
        if kind == "old" and not os.path.lexists(parent / name):
            continue  # the only copy of a folder another import will recover
        _remove(path)


def replace_dir_atomic(
    target: Path,
    fill: Callable[[Path], None],
    check: Callable[[Path], None] | None = None,
) -> None:
    """Build a folder with ``fill(tmp)`` beside ``target``, then swap it in atomically.

    Under an exclusive lock on the parent folder: leftovers of killed runs are recovered or
    removed, ``check(target)`` runs (it sees the recovered folder), the new folder is filled and
    exchanged with the old one in one ``renameat2`` step (a plain rename for a new target).
    On error the target is untouched and the temporary folder removed.

    Without RENAME_EXCHANGE the swap takes two renames: target -> ``.NAME.gia-kg-old-...``,
    then tmp -> target. A kill between them leaves the target missing and the complete old
    folder aside, which the next run's ``recover_leftovers`` puts back.
    """
    target = Path(target).resolve()
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with _parent_lock(parent):
            recover_leftovers(target)
            if check is not None:
                check(target)
            tmp = parent / f".{target.name}.{_TMP_TAG}-{os.getpid()}-{secrets.token_hex(4)}"
            os.mkdir(tmp, 0o700)
            try:
                fill(tmp)
                _swap(tmp, target)
            except BaseException:
                _remove(tmp)
                raise
            _fsync_dir(parent)
            _remove(tmp)  # after an exchange, the old content sits here
    except OSError as exc:  # named as the target: the temporary name means nothing to the user
        raise InputError(f"{target}: cannot write: {_why(exc)}") from None


def _swap(tmp: Path, target: Path) -> None:
    """Put ``tmp`` at ``target``; afterwards ``tmp`` holds the old folder or nothing."""
    if not os.path.lexists(target):
        os.rename(tmp, target)  # atomic for a new name; fails if another folder appeared
        return
    if _rename_exchange(tmp, target):
        return
    aside = target.with_name(f".{target.name}.{_OLD_TAG}-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(target, aside)  # a kill from here until the next rename: recover_leftovers
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(aside, target)
        raise
    _remove(aside)
