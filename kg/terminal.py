"""Human output on a terminal: fit tables to its width and colour the effectiveness levels.

The decisions live here; kg.results only passes a ``Terminal`` along. ``detect`` looks at the
output stream once: a pipe or a file gets today's full plain text (``Terminal(None, False)``), a
terminal gets its width (``COLUMNS`` first, as POSIX shells set it) and colour unless ``NO_COLOR``
(https://no-color.org) or ``TERM=dumb`` says otherwise; ``--color always|never`` overrides both.

``fit`` lays a table out in the first of three layouts that fits:

1. the natural table (every cell whole, as in a pipe);
2. the widest columns narrowed to one common cap (water-filling, never below ``MIN_CAP`` so the
   short columns such as the levels stay whole; ``ref`` columns are never narrowed): the last
   column wraps onto continuation lines indented under it when it holds free text (audit's
   ``evidence``), every other narrowed cell is shortened with "…";
3. one block of ``column  value`` lines per row, values wrapped (psql's ``\\x auto``), when even the
   narrowed table does not fit (the coverage matrix below 131 columns).

Colour codes wrap the visible text only, and padding is computed on the visible width, so a
coloured table has the same visible text and alignment as the plain one.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TextIO

from kg.engine import is_ref_column
from kg.errors import UsageError
from kg.paths import ONTOLOGY_FILE

COLOR_CHOICES = ("auto", "always", "never")
#: SGR colour of a level by its place in the rank order (queries/vocab/level.rq, best first): the
#: SoK's green for the best, red for the worst, orange (yellow, 33, in the 16-colour palette every
#: terminal has) for the levels between. The one place colours are chosen.
BEST_SGR, MIDDLE_SGR, WORST_SGR = "32", "33", "31"
RESET = "\x1b[0m"
#: Space between columns (as kg.results.aligned).
GAP = "  "
#: A narrowed column keeps at least this many characters (so levels, 11, and refs stay whole).
MIN_CAP = 12
#: Narrower terminals are laid out as if they had this many columns.
MIN_WIDTH = 20
ELLIPSIS = "…"

_SGR = re.compile(r"\x1b\[[0-9;]*m")
_LINE_CONTROLS = str.maketrans(dict.fromkeys("\t\n\r\v\f\x85\u2028\u2029", " "))


@dataclass(frozen=True)
class Terminal:
    """Where human output goes: ``width`` to fit (None: no fitting) and whether to colour levels."""

    width: int | None = None
    color: bool = False

    def __post_init__(self) -> None:
        if self.width is not None and (not isinstance(self.width, int) or self.width < 1):
            raise UsageError(f"terminal width {self.width!r}: expected a positive number of columns")

    @property
    def plain(self) -> bool:
        """True when output is exactly today's full plain text (a pipe or a file)."""
        return self.width is None and not self.color

    def narrower(self, by: int) -> Terminal:
        """The same terminal less ``by`` columns, for text printed after an indent."""
        return self if self.width is None else replace(self, width=max(1, self.width - by))

    def paint(self, text: str) -> str:
        """``text`` in its level's colour when colour is on and it is a level label, else as is."""
        if not self.color:
            return text
        code = level_colors().get(text.strip().lower())
        return f"\x1b[{code}m{text}{RESET}" if code else text


def detect(stream: TextIO, color: str = "auto", *, width: int | None = None) -> Terminal:
    """How to write to ``stream``: fit and colour only on a terminal (``color``: auto, always, never).

    A ``width`` given fits the output to it even in a pipe; ``always`` colours a pipe too and wins
    over ``NO_COLOR``.
    """
    if color not in COLOR_CHOICES:
        raise UsageError(f"--color {color}: expected one of {', '.join(COLOR_CHOICES)}")
    tty = _isatty(stream)
    if color == "auto":
        use_color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    else:
        use_color = color == "always"
    if width is None and tty:
        width = _tty_width(stream)
    return Terminal(width, use_color)


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _tty_width(stream: TextIO) -> int | None:
    """``COLUMNS`` when it is a positive number, else the terminal's own size; None when unknown."""
    given = os.environ.get("COLUMNS", "")
    if given.isascii() and given.isdigit() and int(given) > 0:
        return int(given)
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = shutil.get_terminal_size(fallback=(0, 0)).columns
    return columns if columns > 0 else None


@cache
def level_colors() -> dict[str, str]:
    """Level label (lower case) → SGR colour, by rank: read from the ontology with level.rq."""
    import pyoxigraph as ox

    from kg.engine import Dataset
    from kg.queries import vocabulary

    store = ox.Store()
    store.load(path=str(ONTOLOGY_FILE), format=ox.RdfFormat.TURTLE)
    labels = list(vocabulary(Dataset(store, [ONTOLOGY_FILE]), ["level"])["level"])
    last = len(labels) - 1
    return {
        label: BEST_SGR if i == 0 else WORST_SGR if i == last else MIDDLE_SGR
        for i, label in enumerate(labels)
    }


# ---------------------------------------------------------------- visible text


def visible_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: colour codes and combining marks 0, wide (CJK) 2."""
    width = 0
    for char in _SGR.sub("", text):
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def strip_color(text: str) -> str:
    """``text`` without its SGR colour codes: what the reader sees."""
    return _SGR.sub("", text)


def clean(text: str) -> str:
    """One terminal line: line breaks and tabs become spaces, other control characters "\ufffd".

    Data must not move the cursor or send escape sequences to the user's terminal.
    """
    text = text.translate(_LINE_CONTROLS)
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in text)


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` visible columns, ending in "…" when something was cut."""
    if visible_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        size = visible_width(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + ELLIPSIS


def wrap(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` visible columns, broken between words where possible."""
    if visible_width(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for word in text.split():
        while visible_width(word) > width:  # a word longer than a line: break it
            room = width - visible_width(line) - (1 if line else 0)
            if room <= 0:
                lines.append(line)
                line, room = "", width
            head = _take(word, room)
            line = f"{line} {head}" if line else head
            word = word[len(head):]
        if not line:
            line = word
        elif visible_width(line) + 1 + visible_width(word) <= width:
            line = f"{line} {word}"
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _take(word: str, width: int) -> str:
    """The longest start of ``word`` within ``width`` columns (at least one character)."""
    used = 0
    for i, char in enumerate(word):
        used += visible_width(char)
        if used > width:
            return word[:i] or word[:1]
    return word


def _pad(text: str, width: int) -> str:
    return text + " " * (width - visible_width(text))


# ---------------------------------------------------------------- layout


def fit(
    headers: Sequence[str], rows: Sequence[Sequence[str]], terminal: Terminal, *, rule: bool = True
) -> list[str]:
    """Lines of the table for ``terminal``: fitted to its width (see the module text), levels coloured."""
    heads = [clean(h) for h in headers]
    cells = [[clean(c) for c in row] for row in rows]
    natural = [max(visible_width(r[i]) for r in [heads, *cells]) for i in range(len(heads))]
    if terminal.width is None or _total(natural) <= max(terminal.width, MIN_WIDTH):
        return _table(heads, cells, natural, natural, terminal, rule)
    room = max(terminal.width, MIN_WIDTH)
    widths = _capped(natural, [is_ref_column(h) for h in headers], room)
    if widths is None:
        return _records(heads, cells, room, terminal)
    return _table(heads, cells, natural, widths, terminal, rule)


def _total(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _capped(natural: list[int], fixed: list[bool], room: int) -> list[int] | None:
    """Widths with every non-fixed column cut to the largest common cap that fits, or None.

    None when that cap would be below MIN_CAP (short columns would be cut).
    """
    flexible = [i for i, keep in enumerate(fixed) if not keep]
    budget = room - len(GAP) * (len(natural) - 1) - sum(n for n, keep in zip(natural, fixed, strict=True) if keep)
    cap = next(
        (c for c in range(max((natural[i] for i in flexible), default=0), MIN_CAP - 1, -1)
         if sum(min(natural[i], c) for i in flexible) <= budget),
        None,
    )
    if cap is None:
        return None
    widths = [n if keep else min(n, cap) for n, keep in zip(natural, fixed, strict=True)]
    spare = budget - sum(widths[i] for i in flexible)
    for i in reversed(flexible):  # what the integer cap leaves: to the last narrowed columns
        extra = min(spare, natural[i] - widths[i])
        widths[i] += extra
        spare -= extra
    return widths


def _table(
    heads: list[str],
    cells: list[list[str]],
    natural: list[int],
    widths: list[int],
    terminal: Terminal,
    rule: bool,
) -> list[str]:
    last = len(heads) - 1
    wraps = widths[last] < natural[last] and any(" " in row[last] for row in cells)

    def pieces(i: int, text: str) -> list[str]:
        if visible_width(text) <= widths[i]:
            return [terminal.paint(text)]
        return wrap(text, widths[i]) if i == last and wraps else [shorten(text, widths[i])]

    def lines(values: list[str], header: bool = False) -> list[str]:
        columns = [[shorten(v, widths[i])] if header else pieces(i, v) for i, v in enumerate(values)]
        height = max(len(c) for c in columns)
        return [
            GAP.join(_pad(c[k] if k < len(c) else "", w) for c, w in zip(columns, widths, strict=True))
            .rstrip()
            for k in range(height)
        ]

    ruled = [GAP.join("-" * w for w in widths).rstrip()] if rule else []
    return [*lines(heads, header=True), *ruled, *(line for row in cells for line in lines(row))]


def _records(heads: list[str], cells: list[list[str]], room: int, terminal: Terminal) -> list[str]:
    """One block per row: each column name, then its value wrapped under the value column."""
    key = min(max(visible_width(h) for h in heads), room // 3)
    value_width = room - key - len(GAP)
    if not cells:
        return wrap(GAP.join(heads), room)
    out: list[str] = []
    for n, row in enumerate(cells):
        if n:
            out.append("")
        for head, value in zip(heads, row, strict=True):
            parts = wrap(value, value_width)
            first = terminal.paint(value) if len(parts) == 1 else parts[0]
            out.append((_pad(shorten(head, key), key) + GAP + first).rstrip())
            out += [(" " * (key + len(GAP)) + part).rstrip() for part in parts[1:]]
    return out
