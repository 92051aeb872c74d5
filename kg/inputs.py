"""The one way gia-kg reads an input file: a regular file, of bounded size, decoded strictly.

Every loader (Turtle for rdflib and Oxigraph, the store fingerprint, the SoK README, query files)
reads through here, so that a FIFO, a device (``/dev/zero``), a folder or a huge file is refused
with one line naming it instead of hanging, exhausting memory or raising a traceback.

- The file is opened with ``O_NONBLOCK`` (opening a FIFO never waits for a writer), then checked
  with ``fstat`` on the open descriptor, so a swap between check and read changes nothing.
- Size is capped at ``MAX_INPUT_BYTES`` (``$GIA_KG_MAX_INPUT_MB`` overrides it).
- Text must be UTF-8; a bad byte is reported with its line and column. A leading BOM is dropped.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kg.errors import InputError

#: Largest input file read (bytes). The SoK data is under 0.2 MB; 1000x synthetic data is ~150 MB.
MAX_INPUT_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 20


def max_input_bytes() -> int:
    """The size cap in force: ``$GIA_KG_MAX_INPUT_MB`` (a positive integer) or MAX_INPUT_BYTES."""
    raw = os.environ.get("GIA_KG_MAX_INPUT_MB")
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise InputError(f"GIA_KG_MAX_INPUT_MB={raw!r}: expected a positive whole number of MB")
        return value * 1024 * 1024
    return MAX_INPUT_BYTES


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages ("is a FIFO (named pipe)"), from an (l)stat mode."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


@contextlib.contextmanager
def open_regular(path: str | Path, *, limit: int | None = None) -> Iterator[tuple[BinaryIO, int]]:
    """Open ``path`` for binary reading if it is a regular file within the size cap.

    Yields the open file and its size. Symbolic links are followed (the target is checked).
    """
    shown = str(path)
    cap = max_input_bytes() if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a folder; expected a file") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{shown}: is {file_kind(info.st_mode)}; expected a regular file")
        if info.st_size > cap:
            raise InputError(
                f"{shown}: {info.st_size} bytes is over the input limit of {cap} bytes "
                "(set GIA_KG_MAX_INPUT_MB to raise it)"
            )
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle, info.st_size


def read_bytes(path: str | Path, *, limit: int | None = None) -> bytes:
    """The whole content of a regular input file (see ``open_regular``)."""
    cap = max_input_bytes() if limit is None else limit
    with open_regular(path, limit=cap) as (handle, _size):
        try:
            data = handle.read(cap + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except MemoryError:
            raise InputError(f"{path}: too large to read into memory") from None
    if len(data) > cap:  # grew while being read
        raise InputError(f"{path}: over the input limit of {cap} bytes (set GIA_KG_MAX_INPUT_MB to raise it)")
    return data


def iter_chunks(path: str | Path, *, limit: int | None = None) -> Iterator[bytes]:
    """The content of a regular input file in 1 MB chunks (hashing without holding it whole)."""
    cap = max_input_bytes() if limit is None else limit
    seen = 0
    with open_regular(path, limit=cap) as (handle, _size):
        while True:
            try:
                chunk = handle.read(_CHUNK)
            except OSError as exc:
                raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
            if not chunk:
                return
            seen += len(chunk)
            if seen > cap:
                raise InputError(f"{path}: over the input limit of {cap} bytes (set GIA_KG_MAX_INPUT_MB to raise it)")
            yield chunk


def decode_utf8(data: bytes, shown: str) -> str:
    """``data`` as text; a leading BOM is dropped, a byte that is not UTF-8 names its line and column."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise InputError(f"{shown}:{line}:{column}: byte 0x{bad} is not UTF-8; expected a UTF-8 text file") from None
    return text[1:] if text.startswith("\ufeff") else text


_UTF8_SLICE = 1 << 20


def check_utf8(data: bytes, shown: str) -> None:
    """An InputError naming line and column unless ``data`` is UTF-8 (checked in 1 MB slices, so a
    large file is not held twice, as bytes and as text)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _UTF8_SLICE):
            decoder.decode(view[start : start + _UTF8_SLICE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        decode_utf8(data, shown)  # raises with the position of the bad byte
        raise InputError(f"{shown}: not UTF-8; expected a UTF-8 text file") from None


def read_text(path: str | Path, *, limit: int | None = None) -> str:
    """A regular UTF-8 text file (see ``open_regular`` and ``decode_utf8``)."""
    return decode_utf8(read_bytes(path, limit=limit), str(path))
