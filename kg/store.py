"""The persistent query store: the Turtle sources loaded once into an on-disk Oxigraph store.

Turtle stays the source of truth; the store is a cache, keyed by a fingerprint of its sources and
never used when they changed. Why each choice:

- Fingerprint: SHA-256 of every source file's content (ontology + each ``*.ttl`` of the data
  folder, with its name), plus the store format and pyoxigraph version. Content, not mtimes: a
  ``git checkout``, ``cp -p`` or an edit within the same clock tick keeps or restores mtimes, and
  an installed package's copy changes them without changing anything. Hashing is cheap next to the
  query (about 2 ms per MB); see benchmarks/results.md.
- Location: the data folder may be read-only, so stores live in a cache folder: ``$GIA_KG_CACHE``,
  else ``$XDG_CACHE_HOME/gia-kg``, else ``~/.cache/gia-kg``, one sub-folder per data folder (hash of
  its absolute path) holding ``store-<fingerprint>`` folders.
- Atomic and race-safe: a store is built in a private temporary folder, closed, stamped with
  ``meta.json`` and renamed into place. A finished store is never written again (readers open it
  read-only), so two processes racing both build and the loser of the rename discards its copy.
  A store without a matching ``meta.json`` or that RocksDB cannot open is removed and rebuilt.
  Each build also removes the stores of data folders that no longer exist (temporary copies).
- When no cache folder can be written, the graph is loaded in memory (slower, never stale);
  ``GIA_KG_STORE=memory`` asks for that path explicitly.

This module must not import rdflib (the query path's start-up budget).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError
from kg.paths import INFERRED_NAME

#: Bump when the store's layout or loading changes: old stores then count as stale.
STORE_FORMAT = 1
META_NAME = "meta.json"
_PREFIX = "store-"
_BUILDING = ".build-"
#: Left-over build folders of crashed processes older than this (seconds) are removed.
_ABANDONED_AFTER = 3600


@dataclass(frozen=True)
class StoreInfo:
    """Where a built store is, how many triples it holds, and whether this call built it."""

    path: Path
    triples: int
    built: bool


def cache_root() -> Path:
    """The folder holding all stores: $GIA_KG_CACHE, $XDG_CACHE_HOME/gia-kg or ~/.cache/gia-kg."""
    explicit = os.environ.get("GIA_KG_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "gia-kg"


def store_home(files: list[Path]) -> Path:
    """The cache sub-folder of one data folder (the folder of the last source file).

    With and without inferred.ttl are two homes, so that alternating between them does not
    make each one sweep the other's store away.
    """
    folder = str(Path(files[-1]).resolve().parent)
    variant = "inferred" if any(Path(p).name == INFERRED_NAME for p in files) else "asserted"
    return cache_root() / hashlib.sha256(f"{folder}\0{variant}".encode()).hexdigest()[:16]


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


def fingerprint(files: list[Path]) -> str:
    """SHA-256 over the store format, pyoxigraph's version and each source's name and content."""
    digest = hashlib.sha256(f"gia-kg store {STORE_FORMAT} pyoxigraph {ox.__version__}\n".encode())
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        digest.update(f"{Path(path).name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


_OX_SYNTAX = re.compile(r"^Parser error at line (\d+) between columns (\d+) and \d+: (.*?)(?: \([^()]*, line \d+\))?$")


def load_files(store: ox.Store, files: list[Path]) -> ox.Store:
    """The one Oxigraph loader: parse each Turtle file into ``store``; errors name file and line."""
    for path in files:
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
        except SyntaxError as exc:
            text = str(exc).splitlines()[0]
            match = _OX_SYNTAX.match(text)
            if match:
                line, column, why = match.groups()
                raise InputError(f"{path}:{line}:{column}: Turtle syntax error: {why}") from None
            raise InputError(f"{path}: Turtle syntax error: {text}") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc}".splitlines()[0]) from None
    return store


def memory_store(files: list[Path]) -> ox.Store:
    """The sources parsed into an in-memory store (the path without a cache)."""
    return load_files(ox.Store(), files)


def _read_meta(path: Path) -> dict | None:
    try:
        meta = json.loads((path / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _remove(path: Path) -> None:
    """Delete a folder: first renamed aside (atomic), so no reader finds it half deleted."""
    aside = path.with_name(f"{_BUILDING}gone-{os.getpid()}-{path.name}")
    try:
        os.replace(path, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _build(home: Path, target: Path, files: list[Path], fp: str) -> int:
    """Build the store of ``files`` in a temporary folder and rename it to ``target``."""
    home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_BUILDING, dir=home))
    try:
        store = load_files(ox.Store(str(tmp)), files)
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
        (tmp / META_NAME).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", "utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if _read_meta(target) is None:  # not a finished store from a racing process
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished first: use its store
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return triples


def _sweep(home: Path, keep: Path) -> None:
    """Remove stale stores of this data folder and abandoned build folders (best effort)."""
    now = time.time()
    for entry in home.iterdir():
        if entry == keep:
            continue
        if entry.name.startswith(_PREFIX):
            _remove(entry)
        elif entry.name.startswith(_BUILDING):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _ABANDONED_AFTER:
                    shutil.rmtree(entry, ignore_errors=True)


#: Names of the per-data-folder homes under the cache root (see ``store_home``).
_HOME_NAME = re.compile(r"[0-9a-f]{16}")


def _prune_orphans(root: Path) -> None:
    """Remove the stores of data folders that no longer exist (e.g. test runs' temporary copies)."""
    try:
        homes = list(root.iterdir())
    except OSError:
        return
    for home in homes:
        if not _HOME_NAME.fullmatch(home.name) or not home.is_dir():
            continue  # not a folder this module made: leave it alone
        for entry in home.glob(f"{_PREFIX}*"):
            sources = (_read_meta(entry) or {}).get("sources") or []
            if sources and not Path(sources[-1]).exists():
                _remove(entry)
        with contextlib.suppress(OSError):
            home.rmdir()  # only when empty


def _open_fresh(target: Path, fp: str) -> tuple[ox.Store, dict] | None:
    """The store at ``target`` and its stamp, if it was built from sources with fingerprint ``fp``."""
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
    home = store_home(files)
    target = home / f"{_PREFIX}{fp[:32]}"
    fresh = None if force else _open_fresh(target, fp)
    if fresh is not None:
        store, meta = fresh
        return StoreInfo(target, int(meta.get("triples", 0)), built=False), store
    if target.exists():
        _remove(target)
    triples = _build(home, target, files, fp)
    _sweep(home, target)
    _prune_orphans(home.parent)
    return StoreInfo(target, triples, built=True), None


def ensure(files: list[Path], *, force: bool = False) -> StoreInfo:
    """The up-to-date store of ``files``: reused when its fingerprint matches, else (re)built.

    A store whose ``meta.json`` is missing or does not match, or that cannot be opened, is
    removed and rebuilt. ``force`` rebuilds even a matching store.
    """
    return _ensure(files, force)[0]


def open_store(files: list[Path]) -> ox.Store:
    """A read-only on-disk store of ``files``, built first when missing, stale or broken.

    Falls back to an in-memory store when the cache folder cannot be written, or when
    ``$GIA_KG_STORE`` is ``memory`` (used by the benchmarks and tests to compare both paths).
    """
    if os.environ.get("GIA_KG_STORE") == "memory":
        return memory_store(files)
    try:
        info, store = _ensure(files, force=False)
        return store if store is not None else ox.Store.read_only(str(info.path))
    except (OSError, RuntimeError):  # cache not writable, or RocksDB failing: Turtle still works
        return memory_store(files)
