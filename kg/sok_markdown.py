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

Text is normalised here, once, so that a name means one thing however it was typed (see
:func:`clean_line` and :func:`clean_cell`): invisible format characters (Unicode category Cf:
zero-width spaces and joiners, BOMs, soft hyphens, bidi controls) are removed, cells are put in
NFC and their whitespace (non-breaking spaces included) collapsed to single spaces. Control
characters are refused. Numbers are ASCII digits only (``[0-9]``, never ``\\d``, which also
matches ``８`` or ``٨``); links must be absolute http(s) IRIs (:func:`link_problem`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kg.errors import InputError, InputErrors

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
_REFERENCE_LINE = re.compile(r"^\s*\[([0-9]+)\]\s*(.*?)\s*$")
#: ``[text](target)``: the target is anything up to the closing ``)`` (one level of balanced
#: parentheses allowed, as in ``Foo_(bar)``), so that a link with a space, ``>`` or ``"`` is
#: still seen as a link, and refused by :func:`link_problem`, not read as plain text.
LINK = re.compile(r"\[([^\]]*)\]\(((?:[^()]|\([^()]*\))*)\)")
#: A positive number as the SoK writes it: ASCII digits, no sign, no leading zero, at most 9
#: digits (so ``int()`` never sees a 5000-digit string, which it refuses with a ValueError).
POSITIVE = re.compile(r"[1-9][0-9]{0,8}")
_AUTHORS = re.compile(r"^(?P<authors>[^\[\]]+?\([0-9]{4}[a-z]?\))\.?\s+")
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
    #: What was tolerated (stripped HTML, merged duplicate references), one line each.
    notes: list[str] = field(default_factory=list)


# Normalise rather than refuse: invisible characters arrive by copy and paste (a zero-width
# space from a PDF, a soft hyphen from a word processor, a BOM from a Windows editor), and the
# author cannot see them to remove them. Refusing would give an error about text that looks
# correct; keeping them would mint a second technique or model for a visually identical name.
# Removing Cf characters, NFC and collapsing whitespace makes equal-looking text equal text.
# Control characters (Cc, other than whitespace) are different: they are never typed in a
# table by accident, would reach the terminal in error messages, and are refused.


#: Inline HTML tags a cell may carry by accident (``Attacks</em>``); ``<br>`` is a line break of
#: coverage cells and is kept.
_HTML_TAG = re.compile(r"</?(?!br\b)[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>", re.IGNORECASE)


def strip_html(text: str) -> tuple[str, list[str]]:
    """``text`` without inline HTML tags other than ``<br>``, and the tags removed."""
    tags = _HTML_TAG.findall(text)
    return (_HTML_TAG.sub("", text), tags) if tags else (text, [])


def clean_line(line: str) -> str:
    """``line`` without its invisible format characters (category Cf: U+200B, U+FEFF, U+00AD...).

    Done on whole lines before tables are recognised, so that a zero-width space before a row's
    first ``|`` neither ends the table nor hides the row.
    """
    if line.isascii():
        return line
    return "".join(ch for ch in line if unicodedata.category(ch) != "Cf")


def clean_cell(text: str) -> str:
    """A cell's text as the importer reads it: NFC, whitespace runs (NBSP too) as one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def control_character(text: str) -> str | None:
    """The first control character of ``text`` that is not whitespace, as ``U+001B``, or None."""
    for ch in text:
        if unicodedata.category(ch) == "Cc" and not ch.isspace():
            return f"U+{ord(ch):04X}"
    return None


def link_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link of the graph, or None when it is fine.

    A link must be an absolute ``http://`` or ``https://`` IRI with a host, that Oxigraph accepts
    (rdflib writes whatever it is given into Turtle, so a ``>`` or a space would break the
    file, and a relative ``dlg`` would break every query); and it must not be an IRI of this
    graph (``https://w3id.org/gia-kg/``), whose resources the link's label would change.
    """
    from pyoxigraph import NamedNode

    from kg.namespaces import ID_BASE, ONTOLOGY_IRI

    expected = "expected an absolute http(s) link"
    if not url.startswith(("http://", "https://")):
        return expected
    try:
        NamedNode(url)
        host = urlsplit(url).hostname
    except ValueError:
        return expected
    if not host:
        return expected
    if url.startswith((ID_BASE, ONTOLOGY_IRI)):
        return "expected a link to an outside page, not an IRI of this graph"
    return None


def number_problem(text: str) -> str | None:
    """Why ``text`` is not a reference number (``1`` to ``999999999``), or None."""
    if POSITIVE.fullmatch(text):
        return None
    return "expected a reference number from 1 (ASCII digits, no leading zero)"


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
    return [clean_cell(cell.replace("\\|", "|")) for cell in re.split(r"(?<!\\)\|", body)]


def _classify(headers: list[str]) -> str | None:
    names = set(headers)
    for kind, markers in _KIND_MARKERS:
        if names & markers:
            return kind
    return None


def _read_table(path: str, lines: list[str], start: int, notes: list[str]) -> tuple[Table | None, int]:
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
    bad_rows: list[str] = []
    for index in range(start + 2, end):
        values = split_row(lines[index])
        if len(values) != len(keys):
            bad_rows.append(
                f"{path}:{index + 1}: {kind} table row has {len(values)} cells, "
                f"expected {len(keys)} like its header"
            )
            continue
        cells = {}
        for k, v in zip(keys, values, strict=True):
            text, tags = strip_html(v)
            if tags:
                notes.append(f"{path}:{index + 1}: column '{table.columns[k]}': removed inline "
                             f"HTML {' '.join(tags)}")
            cells[k] = Cell(text, index + 1, table.columns[k])
        bad = [f"{path}:{cell.line}: column '{cell.column}': expected text without control "
               f"characters, got {control_character(cell.text)}"
               for cell in cells.values() if control_character(cell.text)]
        if bad:
            bad_rows += bad
            continue
        table.rows.append(Row(index + 1, cells))
    if bad_rows:
        raise InputErrors(bad_rows)
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
    raw = clean_cell(raw)
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


def references_entry(
    path: str, line: int, match: re.Match[str], references: dict[int, ReferenceEntry],
    notes: list[str],
) -> None:
    """Read one ``[N] ...`` line into ``references``, checking its number, text and links."""
    where = f"{path}:{line}: reference [{match.group(1)}]"
    problem = number_problem(match.group(1))
    if problem:
        raise InputError(f"{where}: {problem}, got '{match.group(1)}'")
    number = int(match.group(1))
    if number in references:
        first = references[number]
        if clean_cell(match.group(2)) == first.raw:
            notes.append(f"{path}:{line}: reference [{number}] is listed twice, identically "
                         f"(also at line {first.line}); merged")
            return
        raise InputError(
            f"{path}:{line}: reference [{number}] is listed twice with different texts "
            f"(also at line {first.line}); expected one entry per number"
        )
    bad = control_character(match.group(2))
    if bad:
        raise InputError(f"{where}: expected text without control characters, got {bad}")
    raw, tags = strip_html(match.group(2))
    if tags:
        notes.append(f"{where}: removed inline HTML {' '.join(tags)}")
    entry = read_reference(number, line, raw)
    for _label, url in entry.links:
        problem = link_problem(url)
        if problem:
            raise InputError(f"{where}: {problem}, got '{url}'")
    references[number] = entry


def parse_document(path: str, text: str) -> SokDocument:
    """Tables by kind and reference entries by number; duplicates are errors naming both lines."""
    # Lines end at "\n" only (a "\r" before it is dropped), as editors and grep -n count them:
    # str.splitlines() also splits at U+2028, "\x0c" or "\x1c", which would shift every line
    # number after one and split a table row in two.
    lines = [clean_line(line.removesuffix("\r")) for line in text.split("\n")]
    tables: dict[str, Table] = {}
    references: dict[int, ReferenceEntry] = {}
    notes: list[str] = []
    problems: list[str] = []
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
            title = clean_cell(stripped[2:])
            bad = control_character(title)
            if bad:
                raise InputError(f"{path}:{index + 1}: title: expected text without control "
                                 f"characters, got {bad}")
        if stripped.startswith("|"):
            try:
                table, index = _read_table(path, lines, index, notes)
            except InputError as exc:  # report it with the others; skip the rest of the table
                problems.extend(getattr(exc, "messages", [str(exc)]))
                while index < len(lines) and lines[index].lstrip().startswith("|"):
                    index += 1
                continue
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
            try:
                references_entry(path, index + 1, match, references, notes)
            except InputError as exc:
                problems.extend(getattr(exc, "messages", [str(exc)]))
        index += 1
    if problems:  # a table that could not be read hides its rows: report what we have
        raise InputErrors(problems)
    for kind in COLUMNS:
        if kind not in tables:
            raise InputError(f"{path}: no {kind} table found (recognised by its column headers)")
    return SokDocument(title, tables, references, notes)
