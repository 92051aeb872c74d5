"""Progress lines on stderr for the steps that can take more than a second.

A step says nothing when it finishes within a second (the common case stays quiet); past that it
prints one ``gia-kg: <what>...`` line, and ``done in N s`` when it ends. ``-q`` (``set_quiet``)
or ``GIA_KG_QUIET=1`` silences it. Library code announces steps; only the CLI turns them on, so a
notebook using the Python API sees nothing unless it asks (``enable()``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

#: Seconds a step runs before its line appears.
DELAY = 1.0

_enabled = False
_quiet = False


def enable(quiet: bool = False) -> None:
    """Turn progress lines on (the CLI does, unless ``-q``)."""
    global _enabled, _quiet
    _enabled = True
    _quiet = quiet or os.environ.get("GIA_KG_QUIET", "") not in ("", "0")


def disable() -> None:
    """Turn progress lines off again (tests, embedding)."""
    global _enabled
    _enabled = False


def _say(text: str) -> None:
    stream = sys.stderr
    if stream is None or stream.closed:
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(f"gia-kg: {text}\n")
        stream.flush()


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Announce ``what`` on stderr if it takes more than DELAY seconds."""
    if not _enabled or _quiet:
        yield
        return
    start = time.monotonic()
    shown = threading.Event()

    def announce() -> None:
        shown.set()
        _say(f"{what}...")

    timer = threading.Timer(DELAY, announce)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            _say(f"{what}: done in {time.monotonic() - start:.1f} s")
