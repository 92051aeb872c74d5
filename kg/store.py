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
- Housekeeping: every open stamps the store folder's mtime (``os.utime``, about 2 µs): that is its
  "last used" time. After a build only the stores of the ``$GIA_KG_CACHE_KEEP`` (default 4) most
  recently used data folders are kept, the one just built counting as one; a bad value is an
  InputError naming the variable, like ``GIA_KG_MAX_INPUT_MB``, on every use of the cache (never a
  silent default). Not removed even then: a data folder's stores while a live process builds in its
  sub-folder, and a store used within the last minute (``_IN_USE_GRACE``: another process may be
  between checking it and opening it). ``prune`` and ``clean`` (``gia-kg build --prune``,
  ``gia-kg cache clean``) remove on request without that grace; ``cache_entries`` lists the cache.
  Removing a store that a process has open is safe on Linux (measured, pyoxigraph 0.5): a read-only
  Oxigraph store opens every SST file up front, so after the folder is renamed aside and deleted the
  open handles keep answering, and the disk space is freed when the last reader closes. A process
  that checked a store just as it was removed fails to open it (RocksDB reports the missing file)
  and rebuilds it or loads the graph in memory; it never reads half a store. Folders failing the
  trust checks are never removed or entered: an untrusted cache root raises CacheRefused, an
  untrusted data-folder sub-folder or store is skipped.
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
#: How many data folders' stores a build keeps (the one just built included), unless overridden by:
DEFAULT_KEEP = 4
KEEP_ENV = "GIA_KG_CACHE_KEEP"
#: A store used this recently (seconds) is never removed by a build's housekeeping.
_IN_USE_GRACE = 60

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


@dataclass(frozen=True)
class CacheEntry:
    """One store of the cache, as ``gia-kg cache list`` shows it.

    ``data_folder``, ``triples`` are None when the store has no readable ``meta.json``;
    ``size_bytes`` is the space allocated on disk (what ``du`` counts); ``last_used`` is a POSIX
    timestamp (the folder's mtime, stamped on every open); ``stale`` is true when the store is not
    the up-to-date one of its data folder's current files (also when the folder is gone).
    """

    path: Path
    data_folder: Path | None
    inferred: bool
    triples: int | None
    size_bytes: int
    last_used: float
    folder_exists: bool
    stale: bool


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


def keep_count() -> int:
    """How many data folders' stores a build keeps: ``$GIA_KG_CACHE_KEEP`` or DEFAULT_KEEP.

    A value that is not a whole number of at least 1 is an InputError naming the variable (a typo
    should not silently keep 4 or delete everything).
    """
    raw = os.environ.get(KEEP_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_KEEP
    text = raw.strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise InputError(
            f"{KEEP_ENV}={raw!r}: expected a whole number of data folders whose query stores are "
            f"kept, at least 1 (default {DEFAULT_KEEP})"
        )
    return int(text)


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


def _remove(path: Path) -> bool:
    """Delete a store folder of ours: first renamed aside (atomic), so no reader finds it half deleted.

    Whether it was removed: names of other patterns and folders failing the trust checks are not.
    """
    if not _STORE_NAME.fullmatch(path.name):
        return False
    try:
        if _untrusted(os.lstat(path)) is not None:
            return False  # not ours to remove
    except OSError:
        return False
    aside = path.with_name(f"{_BUILDING}gone-{os.getpid()}-{path.name}")
    try:
        os.replace(path, aside)
    except OSError:
        return False
    shutil.rmtree(aside, ignore_errors=True)
    return True


def _touch(path: Path) -> None:
    """Record that a store is used now (its folder's mtime; "last used" for the housekeeping)."""
    with contextlib.suppress(OSError, NotImplementedError):  # a read-only cache still answers
        os.utime(path, follow_symlinks=False)


def _build(home: Path, target: Path, files: list[Path], fp: str) -> int:
    """Build the store of ``files`` in a temporary folder and rename it to ``target``."""
    _private_folder(home)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_BUILDING}{os.getpid()}-", dir=home))  # mode 0700
    try:
        digest = _new_digest()
        store = ox.Store(str(tmp))
        try:
            load_files(store, files, digest)
        except InputError as exc:
            # RocksDB may still be compacting what the files before this one loaded: wait for it
            # and close the store before the folder is removed, or it writes into the removed folder
            with contextlib.suppress(OSError, RuntimeError):
                store.optimize()
            del store
            raise exc.with_traceback(None) from None
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


def _sweep_builds(home: Path) -> list[Path]:
    """Remove the build folders in ``home`` whose builder is gone (best effort); those removed."""
    now = time.time()
    try:
        entries = sorted(home.iterdir())
    except OSError:
        return []
    removed = []
    for entry in entries:
        if _abandoned_build(entry, now):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


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
    _touch(target)  # before opening: the housekeeping of other processes then sees it in use
    try:
        return ox.Store.read_only(str(target)), meta
    except (OSError, RuntimeError):  # RocksDB reports corruption as RuntimeError
        return None


def _ensure(files: list[Path], force: bool) -> tuple[StoreInfo, ox.Store | None]:
    """``ensure``, also returning the store when an existing one was opened to check it."""
    keep = keep_count()  # a bad $GIA_KG_CACHE_KEEP is reported on every use, not only after a build
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
    _touch(target)
    _sweep(home, target)
    _prune_orphans(home.parent)
    _keep_recent(home.parent, home, keep)
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



# ---------------------------------------------------------------- housekeeping: list, keep, prune, clean


def _homes(root: Path) -> list[Path]:
    """The data-folder sub-folders of the cache that pass the trust checks, sorted by name.

    Empty when there is no cache yet; CacheRefused when the root itself is not this user's; a
    sub-folder that is not ours (or not a name we make) is skipped, never entered.
    """
    try:
        _check_folder(root)
        names = sorted(root.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"cache folder {root}: cannot read it: {exc.strerror or exc}") from None
    homes = []
    for home in names:
        if not _HOME_NAME.fullmatch(home.name):
            continue
        try:
            _check_folder(home)
        except (OSError, CacheRefused):
            continue
        homes.append(home)
    return homes


def _stores_in(home: Path) -> list[tuple[Path, os.stat_result]]:
    """The store folders of ours in ``home`` (name and trust checked), sorted, with their lstat."""
    try:
        names = sorted(home.iterdir())
    except OSError:
        return []
    stores = []
    for entry in names:
        if not _STORE_NAME.fullmatch(entry.name):
            continue
        try:
            info = os.lstat(entry)
        except OSError:
            continue
        if _untrusted(info) is None and stat.S_ISDIR(info.st_mode):
            stores.append((entry, info))
    return stores


def _building(home: Path, now: float) -> bool:
    """Whether a live process is building a store in ``home`` right now."""
    try:
        names = list(home.iterdir())
    except OSError:
        return False
    for entry in names:
        match = _BUILD_NAME.fullmatch(entry.name)
        if match is not None and match.group(2) is not None and not _abandoned_build(entry, now):
            try:
                if _untrusted(os.lstat(entry)) is None:
                    return True
            except OSError:
                continue
    return False


def _drop_empty(home: Path) -> None:
    with contextlib.suppress(OSError):
        home.rmdir()  # only when empty: a foreign entry keeps it


def _keep_recent(root: Path, current: Path, keep: int) -> list[Path]:
    """Keep the stores of the ``keep`` most recently used data folders (``current`` first); remove
    the others' stores, except while a live process builds in that folder's sub-folder or a store
    was used in the last ``_IN_USE_GRACE`` seconds. The removed store folders, sorted.
    """
    now = time.time()
    used = []
    for home in _homes(root):
        stores = _stores_in(home)
        if home != current and stores:
            last = max(info.st_mtime for _, info in stores)
            used.append((-last, home.name, home, stores))
    used.sort(key=lambda item: (item[0], item[1]))
    removed = []
    for _, _, home, stores in used[keep - 1 :]:
        if _building(home, now):
            continue
        for path, info in stores:
            if now - info.st_mtime >= _IN_USE_GRACE and _remove(path):
                removed.append(path)
        _drop_empty(home)
    return sorted(removed)


def _disk_usage(path: Path) -> int:
    """Bytes allocated to a folder and everything in it, as ``du -s -B1`` counts (no links followed)."""
    total = 0
    pending = [path]
    while pending:
        folder = pending.pop()
        with contextlib.suppress(OSError):
            total += _allocated(os.lstat(folder))
            with os.scandir(folder) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(Path(entry.path))
                        else:
                            total += _allocated(entry.stat(follow_symlinks=False))
    return total


def _allocated(info: os.stat_result) -> int:
    blocks = getattr(info, "st_blocks", None)
    return info.st_size if blocks is None else blocks * 512


def _current_files(sources: list[str]) -> list[Path]:
    """The files a dataset of the same data folder and variant loads today (the store's key).

    As ``engine.dataset_files``: the files from elsewhere (the ontology) first, then the folder's
    sorted ``*.ttl``, inferred.ttl only when the store was built with it.
    """
    folder = Path(sources[-1]).parent
    inferred = any(Path(s).name == INFERRED_NAME for s in sources)
    outside = [Path(s) for s in sources if Path(s).parent != folder]
    here = sorted(p for p in folder.glob("*.ttl") if inferred or p.name != INFERRED_NAME)
    return [*outside, *here]


def _is_stale(path: Path, meta: dict | None, sources: list[str]) -> bool:
    """Whether ``ensure`` on the store's data folder today would not use this store."""
    fp = (meta or {}).get("fingerprint")
    if not isinstance(fp, str) or path.name != f"{_PREFIX}{fp[:32]}" or not sources:
        return True
    try:
        return fingerprint(_current_files(sources)) != fp
    except (InputError, OSError):  # a source is gone or unreadable: it would be rebuilt or fail
        return True


def _entry(path: Path, info: os.stat_result) -> CacheEntry | None:
    """What ``cache_entries`` reports of one store; None when its meta.json is not ours."""
    try:
        meta = _read_meta(path)
    except CacheRefused:
        return None
    raw = (meta or {}).get("sources")
    sources = raw if isinstance(raw, list) and all(isinstance(s, str) for s in raw) else []
    folder = Path(sources[-1]).parent if sources else None
    triples = (meta or {}).get("triples")
    return CacheEntry(
        path=path,
        data_folder=folder,
        inferred=any(Path(s).name == INFERRED_NAME for s in sources),
        triples=triples if isinstance(triples, int) and not isinstance(triples, bool) else None,
        size_bytes=_disk_usage(path),
        last_used=info.st_mtime,
        folder_exists=folder is not None and folder.is_dir(),
        stale=_is_stale(path, meta, sources),
    )


def cache_entries() -> list[CacheEntry]:
    """Every store of the cache (``gia-kg cache list``): most recently used first, then by path.

    Folders and stores failing the trust checks are not listed (nor entered); a cache root that
    fails them raises CacheRefused; no cache yet is an empty list.
    """
    entries = []
    for home in _homes(cache_root()):
        for path, info in _stores_in(home):
            entry = _entry(path, info)
            if entry is not None:
                entries.append(entry)
    return sorted(entries, key=lambda e: (-e.last_used, str(e.path)))


def prune(keep_files: list[Path] | None = None) -> list[Path]:
    """Remove every store but the up-to-date one of ``keep_files`` (all of them without), for
    ``gia-kg build --prune``; also the build folders of processes that are gone. The removed
    store folders, sorted. Untrusted folders are left alone (see ``cache_entries``).
    """
    keep = None
    if keep_files:  # None or [] keeps nothing
        keep = store_home(keep_files) / f"{_PREFIX}{fingerprint(keep_files)[:32]}"
    removed = []
    for home in _homes(cache_root()):
        for path, _ in _stores_in(home):
            if path != keep and _remove(path):
                removed.append(path)
        _sweep_builds(home)
        _drop_empty(home)
    return sorted(removed)


def clean() -> list[Path]:
    """Remove every store of the cache and every build folder whose process is gone, for
    ``gia-kg cache clean``; the removed folders, sorted (stores are rebuilt on demand).

    Only names of this module's patterns in folders passing the trust checks are removed: other
    files stay (so does the cache root), as do the build folders of live processes.
    """
    removed = []
    for home in _homes(cache_root()):
        for path, _ in _stores_in(home):
            if _remove(path):
                removed.append(path)
        removed.extend(_sweep_builds(home))
        _drop_empty(home)
    return sorted(removed)


def _human_size(size: int) -> str:
    """Bytes in decimal units with one decimal (``1.3 MB``): short, and exact below 1 kB."""
    if size < 1000:
        return f"{size} B"
    value, unit = size / 1000, "kB"
    for bigger in ("MB", "GB", "TB"):
        if value < 999.95:  # 999.96 kB would print as "1000.0 kB"
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"


def _state(entry: CacheEntry) -> str:
    if entry.data_folder is None:
        return "unreadable"
    if not entry.folder_exists:
        return "folder gone"
    return "stale" if entry.stale else "current"


def render_entries(entries: list[CacheEntry]) -> str:
    """``cache_entries`` as an aligned table, one store a line, in the given order, and a total."""
    from kg.results import aligned  # lazily: only the cache command prints tables

    headers = ["LAST USED (UTC)", "SIZE", "TRIPLES", "INFERRED", "STATE", "DATA FOLDER", "STORE"]
    rows = [
        [
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(e.last_used)),
            _human_size(e.size_bytes),
            "?" if e.triples is None else str(e.triples),
            "yes" if e.inferred else "no",
            _state(e),
            "?" if e.data_folder is None else str(e.data_folder),
            str(e.path),
        ]
        for e in entries
    ]
    total = sum(e.size_bytes for e in entries)
    lines = aligned(headers, rows)
    lines.append(f"({len(entries)} store{'s' if len(entries) != 1 else ''}, {_human_size(total)})")
    return "\n".join(lines) + "\n"
