"""THE parser of the SoK's coverage cells (``A (green) - C (green) D (orange) - H (orange)``).

Reading rules:

* a cell is a sequence of items ``LETTER (level)``; ``<br>`` line breaks and extra spaces are
  ignored;
* ``X (l) - Y (l)`` is a range: every letter from X to Y (in the order of ``letters``) gets level
  ``l``; both ends must carry the same level and X must come before Y;
* every letter of ``letters`` must receive exactly one level, and every level must be one of
  ``levels``.

Anything else raises :class:`CoverageError` naming the problem; callers add file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"\s*(?:(?P<letter>[A-Za-z])\s*\(\s*(?P<level>[^()]*?)\s*\)|(?P<dash>-))\s*")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)

EXPECTED_FORM = "items like 'A (green) - C (green) D (orange)'"


class CoverageError(ValueError):
    """A coverage cell that cannot be read; the message says what was expected."""


def _tokens(text: str) -> list[tuple[str, str]]:
    """Tokens of a cell: ``(letter, level)`` items and ``("-", "")`` range dashes."""
    cleaned = _BREAK.sub(" ", text).strip()
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(cleaned):
        match = _TOKEN.match(cleaned, pos)
        if match is None or match.end() == pos:
            rest = cleaned[pos:].strip()
            raise CoverageError(f"expected {EXPECTED_FORM}, cannot read {rest!r}")
        if match.group("dash"):
            tokens.append(("-", ""))
        else:
            tokens.append((match.group("letter"), match.group("level")))
        pos = match.end()
    return tokens


def parse_coverage(
    text: str, letters: Sequence[str], levels: Sequence[str]
) -> dict[str, str]:
    """Letter -> level word for one cell; every letter of ``letters`` exactly once."""
    tokens = _tokens(text)
    if not tokens:
        raise CoverageError(f"expected {EXPECTED_FORM}, got an empty cell")
    order = {letter: i for i, letter in enumerate(letters)}
    result: dict[str, str] = {}

    def assign(letter: str, level: str) -> None:
        if letter in result:
            raise CoverageError(
                f"threat model {letter} is given two levels ({result[letter]!r} and {level!r})"
            )
        result[letter] = level

    def check(letter: str, level: str) -> None:
        if letter not in order:
            raise CoverageError(
                f"unknown threat model {letter!r}, expected one of {', '.join(letters)}"
            )
        if level not in levels:
            raise CoverageError(
                f"unknown level {level!r} for {letter}, expected one of {', '.join(levels)}"
            )

    i = 0
    while i < len(tokens):
        letter, level = tokens[i]
        if letter == "-":
            raise CoverageError(f"expected {EXPECTED_FORM}, a range dash has no start letter")
        check(letter, level)
        if i + 1 < len(tokens) and tokens[i + 1][0] == "-":
            if i + 2 >= len(tokens) or tokens[i + 2][0] == "-":
                raise CoverageError(f"range from {letter} has no end letter")
            end, end_level = tokens[i + 2]
            check(end, end_level)
            if end_level != level:
                raise CoverageError(
                    f"range {letter}-{end} has two levels ({level!r} and {end_level!r})"
                )
            if order[end] <= order[letter]:
                raise CoverageError(f"range {letter}-{end} does not go forward")
            for span in letters[order[letter] : order[end] + 1]:
                assign(span, level)
            i += 3
        else:
            assign(letter, level)
            i += 1
    missing = [letter for letter in letters if letter not in result]
    if missing:
        raise CoverageError(f"no level for threat model(s) {', '.join(missing)}")
    return {letter: result[letter] for letter in letters}


def format_coverage(levels_by_letter: dict[str, str], letters: Sequence[str]) -> str:
    """The compact SoK form: a run of one level is ``X (l) - Y (l)``, a single letter ``X (l)``."""
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if not run:
            return
        level = levels_by_letter[run[0]]
        if len(run) == 1:
            parts.append(f"{run[0]} ({level})")
        else:
            parts.append(f"{run[0]} ({level}) - {run[-1]} ({level})")
        run.clear()

    for letter in letters:
        if run and levels_by_letter[letter] != levels_by_letter[run[0]]:
            flush()
        run.append(letter)
    flush()
    return " ".join(parts)
