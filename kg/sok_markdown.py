"""Read the SoK README's Markdown: its three tables (found by header meaning) and reference lists.

Tables are runs of lines starting with ``|`` whose second line is a ``|---|:---:|`` separator.
A table's kind is recognised from its column headers, not its position: ``Intuition`` or
``Main Weakness`` -> defenses; ``Batch Size`` or ``Learning Algorithm`` -> attacks;
``Real-World Applicability`` or ``Model Updates`` -> threat models. Headers are compared
normalised: ``**`` and ``<br>`` removed, bracketed notes such as ``[Ref]`` dropped, case and
spacing ignored, so ``**Work** [Ref]`` and ``**Work**`` mean the same column. Other tables are
ignored. Every cell keeps its line number and column header for error messages.

Reference entries are lines ``[N] text`` outside tables and code blocks (see
:func:`read_reference` for how a title and venue are read from them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.errors import InputError

#: Column key -> accepted normalised headers, per table kind. Unlisted headers are an error,
#: except in the threat-model table, where other columns are capabilities.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "threat-models": {
        "id": ("id", "letter"),
        "name": ("threat model", "name"),
        "applicability": ("real-world applicability", "applicability"),
    },
    "attacks": {
        "category": ("category", "cat"),
        "technique": ("technique",),
        "work": ("work", "reference", "ref"),
        "threat_model": ("threat model",),
        "algorithm": ("learning algorithm", "algorithm"),
        "resolution": ("image resolution", "resolution"),
        "batch": ("batch size",),
        "model": ("shared model", "shared models", "model"),
        "task": ("learning task", "learning tasks", "task"),
        "labels": ("label recovery",),
        "code": ("open source", "code"),
    },
    "defenses": {
        "category": ("cat", "category"),
        "technique": ("technique",),
        "work": ("work", "reference", "ref"),
        "year": ("year",),
        "where": ("where",),
        "coverage": ("threat models", "threat model", "coverage"),
        "intuition": ("intuition",),
        "weakness": ("main weakness", "weakness"),
        "code": ("open source", "code"),
    },
}

_KIND_MARKERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("defenses", frozenset({"intuition", "main weakness"})),
    ("attacks", frozenset({"batch size", "learning algorithm"})),
    ("threat-models", frozenset({"real-world applicability", "model updates"})),
)

_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_REFERENCE_LINE = re.compile(r"^\s*\[(\d+)\]\s*(.*?)\s*$")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_AUTHORS = re.compile(r"^(?P<authors>[^\[\]]+?\(\d{4}[a-z]?\))\.?\s+")
_TITLE_END = re.compile(r"[.?!](?=\s|$)")


@dataclass(frozen=True)
class Cell:
    """One table cell as written (stripped), with where it came from."""

    text: str
    line: int
    column: str


@dataclass
class Row:
    """One table row: column key -> cell."""

    line: int
    cells: dict[str, Cell]

    def __getitem__(self, key: str) -> Cell:
        return self.cells[key]


@dataclass
class Table:
    """A recognised table; ``columns`` maps keys (or capability headers) to headers as written."""

    kind: str
    line: int
    columns: dict[str, str]
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class ReferenceEntry:
    """One ``[N] ...`` line, read by :func:`read_reference`."""

    number: int
    line: int
    raw: str
    citation_text: str
    title: str
    venue: str | None
    links: tuple[tuple[str, str], ...]


@dataclass
class SokDocument:
    """What the importer needs from the README."""

    title: str | None
    tables: dict[str, Table]
    references: dict[int, ReferenceEntry]


def normalize_header(text: str) -> str:
    """Compare headers by meaning: no ``**``/``<br>``/``[notes]``, lower case, single spaces."""
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\[[^\]]*\]", " ", text.replace("*", ""))
    return " ".join(text.split()).strip(" .:").lower()


def display_header(text: str) -> str:
    """A header as shown in error messages: ``**Label <br> Recovery**`` -> ``Label Recovery``."""
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE).replace("*", "")
    return " ".join(text.split())


def split_row(line: str) -> list[str]:
    """Cells of a ``| a | b |`` line, stripped; ``\\|`` stays a literal bar inside a cell."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", body)]


def _classify(headers: list[str]) -> str | None:
    names = set(headers)
    for kind, markers in _KIND_MARKERS:
        if names & markers:
            return kind
    return None


def _read_table(path: str, lines: list[str], start: int) -> tuple[Table | None, int]:
    """Read the table whose header is ``lines[start]``; returns it (or None) and the next index."""
    end = start
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        end += 1
    if end - start < 2 or not _SEPARATOR.match(lines[start + 1].strip()):
        return None, end
    headers = split_row(lines[start])
    normalized = [normalize_header(h) for h in headers]
    kind = _classify(normalized)
    if kind is None:
        return None, end
    aliases = COLUMNS[kind]
    keys: list[str] = []
    for header, norm in zip(headers, normalized, strict=True):
        key = next((k for k, names in aliases.items() if norm in names), None)
        if key is None:
            if kind != "threat-models":
                expected = ", ".join(names[0] for names in aliases.values())
                raise InputError(
                    f"{path}:{start + 1}: column '{display_header(header)}': unknown column in "
                    f"the {kind} table, expected one of: {expected}"
                )
            key = "capability:" + norm
        if key in keys:
            raise InputError(
                f"{path}:{start + 1}: column '{display_header(header)}': appears twice in the "
                f"{kind} table"
            )
        keys.append(key)
    missing = [names[0] for k, names in aliases.items() if k not in keys]
    if missing:
        raise InputError(
            f"{path}:{start + 1}: {kind} table: missing column(s) {', '.join(missing)}"
        )
    table = Table(kind, start + 1, dict(zip(keys, map(display_header, headers), strict=True)))
    for index in range(start + 2, end):
        values = split_row(lines[index])
        if len(values) != len(keys):
            raise InputError(
                f"{path}:{index + 1}: {kind} table row has {len(values)} cells, "
                f"expected {len(keys)} like its header"
            )
        cells = {
            k: Cell(v, index + 1, table.columns[k]) for k, v in zip(keys, values, strict=True)
        }
        table.rows.append(Row(index + 1, cells))
    return table, end


def read_reference(number: int, line: int, raw: str) -> ReferenceEntry:
    """Read ``[N] [Authors (YYYY).] Title. Venue. [paper](url) [GitHub](url)`` tolerantly.

    * links ``[label](url)`` are collected in order and removed; the rest, with spaces
      collapsed, is the citation text;
    * a leading author list ending in a year in parentheses (``Usynin, D., et al. (2023).``)
      is skipped when reading the title;
    * the title runs to the first ``.``, ``?`` or ``!`` followed by a space or the end
      (a ``?`` stays part of the title, a ``.`` does not); titles may contain ``:`` and ``-``;
    * what follows the title, without a final ``.``, is the venue (absent when empty).
    """
    links = tuple((label.strip(), url) for label, url in LINK.findall(raw))
    text = " ".join(LINK.sub(" ", raw).split())
    body = text
    authors = _AUTHORS.match(body)
    if authors:
        body = body[authors.end() :]
    end = _TITLE_END.search(body)
    if end is None:
        title, venue = body, ""
    else:
        keep = end.end() if body[end.start()] in "?!" else end.start()
        title, venue = body[:keep], body[end.end() :]
    venue = venue.strip().rstrip(".").strip()
    return ReferenceEntry(number, line, raw, text, title.strip(), venue or None, links)


def parse_document(path: str, text: str) -> SokDocument:
    """Tables by kind and reference entries by number; duplicates are errors naming both lines."""
    lines = text.splitlines()
    tables: dict[str, Table] = {}
    references: dict[int, ReferenceEntry] = {}
    title = None
    in_code = False
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            index += 1
            continue
        if in_code:
            index += 1
            continue
        if title is None and stripped.startswith("# "):
            title = stripped[2:].strip()
        if stripped.startswith("|"):
            table, index = _read_table(path, lines, index)
            if table is not None:
                if table.kind in tables:
                    raise InputError(
                        f"{path}:{table.line}: a second {table.kind} table "
                        f"(the first starts at line {tables[table.kind].line})"
                    )
                tables[table.kind] = table
            continue
        match = _REFERENCE_LINE.match(line)
        if match:
            number = int(match.group(1))
            if number in references:
                raise InputError(
                    f"{path}:{index + 1}: reference [{number}] is listed twice "
                    f"(also at line {references[number].line})"
                )
            references[number] = read_reference(number, index + 1, match.group(2))
        index += 1
    for kind in COLUMNS:
        if kind not in tables:
            raise InputError(f"{path}: no {kind} table found (recognised by its column headers)")
    return SokDocument(title, tables, references)
