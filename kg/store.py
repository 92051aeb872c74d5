"""The persistent query store: the Turtle sources loaded once into an on-disk Oxigraph store.

Turtle stays the source of truth; the store is a cache, keyed by a fingerprint of its sources and
never used when they changed. Why each choice:

- Fingerprint: SHA-256 of every source file's content (ontology + each ``*.ttl`` of the data
  folder, with its name), plus the store format and pyoxigraph version. Content, not mtimes: a
  ``git checkout``, ``cp -p`` or an edit within the same clock tick keeps or restores mtimes, and
  an installed package's copy changes them without changing anything. Hashing is cheap next to the
  query (about 2 ms per MB); see benchmarks/results.md. Files are hashed in 1 MB chunks and read
  only through kg.inputs (regular files within the size cap: a FIFO or device named ``x.ttl`` is
  refused instead of hanging).
- Location: the data folder may be read-only, so stores live in a cache folder: ``$GIA_KG_CACHE``,
  else ``$XDG_CACHE_HOME/gia-kg``, else ``~/.cache/gia-kg``, one sub-folder per data folder (hash of
  its absolute path) holding ``store-<fingerprint>`` folders.
- Trust: a store is used only if this user built it. The cache root, the data folder's sub-folder,
  the store folder and its ``meta.json`` must each be owned by the effective user, not writable by
  group or others, and not a symbolic link; every folder is created here with mode 0700 whatever
  the umask. Otherwise anyone able to write into a shared ``$GIA_KG_CACHE`` (or an
  ``$XDG_CACHE_HOME`` under /tmp) could plant a store with the fingerprint of the victim's data
  and change their query answers. A cache that fails these checks is not used: the query path
  warns once per process on stderr and loads the graph in memory; ``gia-kg build`` refuses.
- Atomic and race-safe: a store is built in a private temporary folder (``.build-<pid>-<random>``),
  closed, stamped with ``meta.json`` and renamed into place. A finished store is never written
  again (readers open it read-only), so two processes racing both build and the loser of the
  rename discards its copy. A store without a matching ``meta.json`` or that RocksDB cannot open is
  removed and rebuilt. Build folders whose process is gone (a killed build, about 30 MB) are
  removed by the next build; only names of our own pattern are ever removed. Each build also
  removes the stores of data folders that no longer exist (temporary copies).
- When no cache folder can be written, the graph is loaded in memory (slower, never stale);
  ``GIA_KG_STORE=memory`` asks for that path explicitly.

This module must not import rdflib (the query path's start-up budget).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError
from kg.inputs import check_utf8, iter_chunks, read_bytes
from kg.paths import INFERRED_NAME

#: Bump when the store's layout or loading changes: old stores then count as stale.
STORE_FORMAT = 1
META_NAME = "meta.json"
_PREFIX = "store-"
_BUILDING = ".build-"
#: Left-over build folders without a pid in their name (older versions) are removed after this
#: many seconds; so is a build folder whose pid is alive but is this old (the pid was reused).
_ABANDONED_AFTER = 3600
_PID_REUSED_AFTER = 24 * 3600
#: Largest meta.json read (bytes); ours are well under 2 KB.
_META_LIMIT = 1 << 20

#: Names this module creates, and the only ones it ever removes.
_STORE_NAME = re.compile(r"store-[0-9a-f]{32}")
_HOME_NAME = re.compile(r"[0-9a-f]{16}")
#: ``.build-<pid>-<mkdtemp suffix>`` (a build) and ``.build-gone-<pid>-store-...`` (a removal).
_BUILD_NAME = re.compile(r"\.build-(?:gone-(\d+)-store-[0-9a-f]{32}|(\d+)-[a-z0-9_]+)")
#: Build folders of versions before the pid was in the name (``tempfile.mkdtemp``'s 8 characters).
_LEGACY_BUILD_NAME = re.compile(r"\.build-[a-z0-9_]{8}")


@dataclass(frozen=True)
class StoreInfo:
    """Where a built store is, how many triples it holds, and whether this call built it."""

    path: Path
    triples: int
    built: bool


class CacheRefused(InputError):
    """A cache folder or store that this user cannot trust (not theirs, shared, or a link)."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(
            f"cache folder {path} {why}; not using it "
            "(remove it, or set GIA_KG_CACHE to a folder only you can write)"
        )

    def warning(self) -> str:
        return f"gia-kg: warning: cache folder {self.path} {self.why}; not using it, loading the graph in memory"


class _SourcesChanged(OSError):
    """A source file changed while its store was being built: the store is not installed."""


#: Whether this process already printed its one cache warning.
_warned = False


def _warn_once(refused: CacheRefused) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    line = refused.warning() + "\n"
    try:
        sys.stderr.write(line)
    except UnicodeEncodeError:  # a path that is not valid in the terminal's encoding
        sys.stderr.write(line.encode("ascii", "backslashreplace").decode("ascii"))
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()


def cache_root() -> Path:
    """The folder holding all stores: $GIA_KG_CACHE, $XDG_CACHE_HOME/gia-kg or ~/.cache/gia-kg."""
    explicit = os.environ.get("GIA_KG_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "gia-kg"
    try:
        home = Path.home()
    except RuntimeError:  # no $HOME and no password entry
        raise OSError(errno.ENOENT, "no home folder for the store cache (set GIA_KG_CACHE)") from None
    return home / ".cache" / "gia-kg"


def store_home(files: list[Path]) -> Path:
    """The cache sub-folder of one data folder (the folder of the last source file).

    With and without inferred.ttl are two homes, so that alternating between them does not
    make each one sweep the other's store away.
    """
    folder = os.fsencode(Path(files[-1]).resolve().parent)
    variant = b"inferred" if any(Path(p).name == INFERRED_NAME for p in files) else b"asserted"
    return cache_root() / hashlib.sha256(folder + b"\0" + variant).hexdigest()[:16]


# ---------------------------------------------------------------- trust checks


def _untrusted(info: os.stat_result) -> str | None:
    """Why an entry with this ``lstat`` cannot be trusted as ours, or None."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    uid = os.geteuid()
    if info.st_uid != uid:
        return f"is owned by uid {info.st_uid}, not by you (uid {uid})"
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH:
        return f"is writable by others (mode {mode:04o})"
    if mode & stat.S_IWGRP:
        return f"is writable by its group (mode {mode:04o})"
    return None


def _check_folder(path: Path) -> None:
    """Raise CacheRefused unless ``path`` is a folder of ours that only we can write."""
    info = os.lstat(path)  # OSError (missing, unreadable) is the caller's to handle
    why = _untrusted(info)
    if why is None and not stat.S_ISDIR(info.st_mode):
        why = "is not a folder"
    if why is not None:
        raise CacheRefused(path, why)


def _private_folder(path: Path) -> None:
    """Create ``path`` with mode 0700 (whatever the umask) or check the existing one is ours."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    else:
        os.chmod(path, 0o700)  # mkdir's mode was narrowed by the umask; never widened
    _check_folder(path)


def _prepare_root(root: Path) -> None:
    """Create the cache root (and missing parents, each 0700), or check the existing one."""
    missing = []
    parent = root.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
            os.chmod(folder, 0o700)
    _private_folder(root)


def _trusted_home(files: list[Path]) -> Path:
    """The data folder's cache sub-folder, created or checked along with the cache root."""
    home = store_home(files)
    _prepare_root(home.parent)
    _private_folder(home)
    return home


def _read_meta(path: Path) -> dict | None:
    """A store's stamp; None when missing or unreadable. CacheRefused when it is not ours."""
    meta_path = path / META_NAME
    try:
        fd = os.open(meta_path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CacheRefused(meta_path, "is a symbolic link") from None
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        why = _untrusted(info)
        if why is None and not stat.S_ISREG(info.st_mode):
            why = "is not a regular file"
        if why is not None:
            raise CacheRefused(meta_path, why)
        try:
            data = handle.read(_META_LIMIT + 1)
        except OSError:
            return None
    if len(data) > _META_LIMIT:
        return None
    try:
        meta = json.loads(data.decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        return None
    return meta if isinstance(meta, dict) else None


# ---------------------------------------------------------------- fingerprint and loading


def stat_signature(files: list[Path]) -> tuple:
    """Names, sizes and mtimes of the sources: a cheap key for a process's cache of open datasets.

    Not used to decide whether a store on disk is fresh (``fingerprint`` is): within one process
    it only has to notice that a file was rewritten since it was last opened.
    """
    sig = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            sig.append((str(path), -1, -1))
        else:
            sig.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(sig)


def _new_digest():
    return hashlib.sha256(f"gia-kg store {STORE_FORMAT} pyoxigraph {ox.__version__}\n".encode())


def _digest_file(digest, path: Path, size: int) -> None:
    digest.update(os.fsencode(Path(path).name) + b"\0" + str(size).encode() + b"\0")


def fingerprint(files: list[Path]) -> str:
    """SHA-256 over the store format, pyoxigraph's version and each source's name and content.

    Each file is read in chunks through kg.inputs: a FIFO, device or over-size file is an
    InputError naming it, and a file of any size is hashed in constant memory.
    """
    digest = _new_digest()
    for path in files:
        body = hashlib.sha256()
        size = 0
        for chunk in iter_chunks(path):
            body.update(chunk)
            size += len(chunk)
        # name and size first, then the content's own hash (the content is not held whole)
        _digest_file(digest, path, size)
        digest.update(body.digest())
    return digest.hexdigest()


#: Oxigraph's Turtle errors: "at line L between columns C and D", "at line L column C" or
#: "between line L column C and line M column D", then the reason and "(file, line L)".
_OX_SYNTAX = re.compile(
    r"^Parser error (?:at line (?P<line>\d+) (?:between columns|column) (?P<col>\d+)(?: and \d+)?"
    r"|between line (?P<line2>\d+) column (?P<col2>\d+) and line \d+ column \d+): (?P<why>.*?)"
    r"(?: \((?:[^()]*, )?line \d+\))?$"
)
def oxigraph_syntax_error(path: Path, exc: SyntaxError, syntax: str = "Turtle") -> InputError:
    """Oxigraph's parse error as ``FILE:LINE:COLUMN: Turtle syntax error: why`` (one format for all)."""
    text = (str(exc).splitlines() or [""])[0]
    match = _OX_SYNTAX.match(text)
    if match:
        line, column = match["line"] or match["line2"], match["col"] or match["col2"]
        return InputError(f"{path}:{line}:{column}: {syntax} syntax error: {match['why']}")
    return InputError(f"{path}: {syntax} syntax error: {text}")


def load_files(store: ox.Store, files: list[Path], digest=None) -> ox.Store:
    """The one Oxigraph loader: parse each Turtle file into ``store``; errors name file and line.

    Each file is read through kg.inputs (a regular file within the size cap, checked to be
    UTF-8) and given to pyoxigraph as bytes: parsing from a path stops at a token over 16 MB
    (a long literal) with a MemoryError, parsing from bytes does not. ``digest``, when given, is
    fed what ``fingerprint`` hashes, from the very bytes loaded.
    """
    for path in files:
        data = read_bytes(path)
        check_utf8(data, str(path))
        if digest is not None:
            _digest_file(digest, path, len(data))
            digest.update(hashlib.sha256(data).digest())
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]  # as kg.inputs.decode_utf8 does; Oxigraph refuses it
        try:
            store.bulk_load(input=data, format=ox.RdfFormat.TURTLE)
        except SyntaxError as exc:
            raise oxigraph_syntax_error(path, exc) from None
        except MemoryError:
            raise InputError(f"{path}: too large to load into memory ({len(data)} bytes)") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot load: {exc}".splitlines()[0]) from None
        finally:
            del data
    return store


def memory_store(files: list[Path]) -> ox.Store:
    """The sources parsed into an in-memory store (the path without a cache)."""
    return load_files(ox.Store(), files)


# ---------------------------------------------------------------- building, sweeping, opening


def _remove(path: Path) -> None:
    """Delete a store folder of ours: first renamed aside (atomic), so no reader finds it half deleted."""
    if not _STORE_NAME.fullmatch(path.name):
        return
    try:
        if _untrusted(os.lstat(path)) is not None:
            return  # not ours to remove
    except OSError:
        return
    aside = path.with_name(f"{_BUILDING}gone-{os.getpid()}-{path.name}")
    try:
        os.replace(path, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _build(home: Path, target: Path, files: list[Path], fp: str) -> int:
    """Build the store of ``files`` in a temporary folder and rename it to ``target``."""
    _private_folder(home)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_BUILDING}{os.getpid()}-", dir=home))  # mode 0700
    try:
        digest = _new_digest()
        store = load_files(ox.Store(str(tmp)), files, digest)
        if digest.hexdigest() != fp:
            del store  # close RocksDB first, or its threads keep writing into the folder being removed
            raise _SourcesChanged(errno.EAGAIN, "the sources changed while the store was built; run again")
        store.optimize()  # one compaction: about 2x faster queries at 100x, 0.1 s to build
        store.flush()
        triples = len(store)
        del store  # closes RocksDB before the folder is renamed
        meta = {
            "fingerprint": fp,
            "format": STORE_FORMAT,
            "pyoxigraph": ox.__version__,
            "sources": [str(Path(p).resolve()) for p in files],
            "triples": triples,
        }
        text = json.dumps(meta, indent=1, sort_keys=True) + "\n"
        fd = os.open(tmp / META_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            os.rename(tmp, target)
        except OSError:
            try:
                finished = _read_meta(target) is not None
            except CacheRefused:
                finished = False
            if not finished:  # not a finished store from a racing process
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished first: use its store
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return triples


def _abandoned_build(entry: Path, now: float) -> bool:
    """Whether ``entry`` is a build (or removal) folder of ours whose process is gone."""
    from kg.fileio import pid_alive  # lazily: kg.fileio loads ctypes, not needed to query

    match = _BUILD_NAME.fullmatch(entry.name)
    legacy = match is None and _LEGACY_BUILD_NAME.fullmatch(entry.name) is not None
    if match is None and not legacy:
        return False  # not a name we make: never touched
    try:
        info = os.lstat(entry)
    except OSError:
        return False
    if _untrusted(info) is not None or not stat.S_ISDIR(info.st_mode):
        return False
    age = now - info.st_mtime
    if legacy:
        return age > _ABANDONED_AFTER
    pid = int(match.group(1) or match.group(2))
    if pid == os.getpid():
        return False
    return not pid_alive(pid) or age > _PID_REUSED_AFTER


def _sweep_builds(home: Path) -> None:
    """Remove the build folders in ``home`` whose builder is gone (best effort)."""
    now = time.time()
    try:
        entries = list(home.iterdir())
    except OSError:
        return
    for entry in entries:
        if _abandoned_build(entry, now):
            shutil.rmtree(entry, ignore_errors=True)


def _sweep(home: Path, keep: Path) -> None:
    """Remove stale stores of this data folder and abandoned build folders (best effort)."""
    with contextlib.suppress(OSError):
        for entry in home.iterdir():
            if entry != keep and _STORE_NAME.fullmatch(entry.name):
                _remove(entry)
    _sweep_builds(home)


def _prune_orphans(root: Path) -> None:
    """Remove the stores of data folders that no longer exist (e.g. test runs' temporary copies)."""
    try:
        homes = list(root.iterdir())
    except OSError:
        return
    for home in homes:
        if not _HOME_NAME.fullmatch(home.name):
            continue  # not a folder this module made: leave it alone
        try:
            _check_folder(home)
        except (OSError, CacheRefused):
            continue
        with contextlib.suppress(OSError):
            for entry in home.iterdir():
                if not _STORE_NAME.fullmatch(entry.name):
                    continue
                try:
                    sources = (_read_meta(entry) or {}).get("sources") or []
                except CacheRefused:
                    continue
                if sources and isinstance(sources[-1], str) and not Path(sources[-1]).exists():
                    _remove(entry)
        _sweep_builds(home)
        with contextlib.suppress(OSError):
            home.rmdir()  # only when empty


def _check_target(target: Path) -> bool:
    """Whether a store folder exists at ``target``; CacheRefused when it is not this user's."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return False
    why = _untrusted(info)
    if why is None and not stat.S_ISDIR(info.st_mode):
        why = "is not a folder"
    if why is not None:
        raise CacheRefused(target, why)
    return True


def _open_fresh(target: Path, fp: str) -> tuple[ox.Store, dict] | None:
    """The store at ``target`` and its stamp, if it was built from sources with fingerprint ``fp``.

    None when there is no such store (missing, unstamped, stale, broken); CacheRefused when there
    is one that this user did not build.
    """
    if not _check_target(target):
        return None
    meta = _read_meta(target)
    if meta is None or meta.get("fingerprint") != fp:
        return None
    try:
        return ox.Store.read_only(str(target)), meta
    except (OSError, RuntimeError):  # RocksDB reports corruption as RuntimeError
        return None


def _ensure(files: list[Path], force: bool) -> tuple[StoreInfo, ox.Store | None]:
    """``ensure``, also returning the store when an existing one was opened to check it."""
    fp = fingerprint(files)
    home = _trusted_home(files)
    target = home / f"{_PREFIX}{fp[:32]}"
    if force:
        _check_target(target)  # a foreign store is refused, not silently built around
    fresh = None if force else _open_fresh(target, fp)
    if fresh is not None:
        store, meta = fresh
        triples = meta.get("triples", 0)
        return StoreInfo(target, triples if isinstance(triples, int) else 0, built=False), store
    if os.path.lexists(target):
        _remove(target)
    triples = _build(home, target, files, fp)
    _sweep(home, target)
    _prune_orphans(home.parent)
    return StoreInfo(target, triples, built=True), None


def ensure(files: list[Path], *, force: bool = False) -> StoreInfo:
    """The up-to-date store of ``files``: reused when its fingerprint matches, else (re)built.

    A store whose ``meta.json`` is missing or does not match, or that cannot be opened, is
    removed and rebuilt. ``force`` rebuilds even a matching store. A cache folder or store that
    is not this user's own (see the module's notes) raises CacheRefused.
    """
    return _ensure(files, force)[0]


def open_store(files: list[Path]) -> ox.Store:
    """A read-only on-disk store of ``files``, built first when missing, stale or broken.

    Falls back to an in-memory store when the cache folder cannot be written, when it cannot be
    trusted (then with one warning per process on stderr), or when ``$GIA_KG_STORE`` is
    ``memory`` (used by the benchmarks and tests to compare both paths).
    """
    if os.environ.get("GIA_KG_STORE") == "memory":
        return memory_store(files)
    try:
        info, store = _ensure(files, force=False)
        return store if store is not None else ox.Store.read_only(str(info.path))
    except CacheRefused as refused:
        _warn_once(refused)
    except (OSError, RuntimeError):  # cache not writable, or RocksDB failing: Turtle still works
        pass
    return memory_store(files)

