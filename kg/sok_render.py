"""Graph -> the SoK's tables as Markdown, through the SPARQL queries in ``queries/tables/``.

The queries hold the knowledge (which properties make which cell, row order, header text in
their ``#+ columns:`` line); this module only runs them and formats cells. Rows come in the
README's order (``gia:position``). Multi-valued cells come back ``|``-separated as
``POSITION TEXT`` items (``gia:itemPosition``, docs/data-model.md "Order and layout") and are
put in that order here, ties by text, so output never depends on the engine's order. Category
and technique cells are left blank where they repeat the row above, unless the row
``gia:restates`` them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from kg.coverage import format_coverage
from kg.engine import term_text
from kg.paths import QUERIES_DIR
from kg.queries import SavedQuery, parse_query_file
from kg.results import markdown_table

if TYPE_CHECKING:
    from kg.engine import Dataset

TABLES_DIR = QUERIES_DIR / "tables"
#: Applicability is rated out of this many stars (★★☆ = 2).
MAX_STARS = 3
HAS, HAS_NOT = "✔️", "✗"


def load_query(name: str) -> SavedQuery:
    """``queries/tables/<name>.rq`` with its header (``#+ title:``, ``#+ columns:``)."""
    return parse_query_file(TABLES_DIR / f"{name}.rq")


def run(dataset: Dataset, query: SavedQuery) -> list[dict[str, str]]:
    """Rows of a table query as ``{variable: text}`` (unbound variables are empty strings)."""
    table = dataset.select(query.text)
    return [
        {name: term_text(term) for name, term in zip(table.columns, row, strict=True)}
        for row in table.sorted_rows()
    ]


#: The carried columns, in table order, as ``gia:restates`` names them.
CARRIED = ("category", "technique")


def _items(value: str) -> list[str]:
    return sorted(item for item in value.split("|") if item)


def _ordered(value: str) -> list[str]:
    """``"2 VGG|1 ResNet"`` -> ``["ResNet", "VGG"]``: by position, then (no position) by text."""
    keyed = []
    for item in _items(value):
        position, _, text = item.partition(" ")
        if position.isdigit():
            keyed.append((int(position), text))
        else:  # a code-status symbol such as ✗, which has no position
            keyed.append((0, item))
    return [text for _, text in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _refs(value: str) -> str:
    keyed = sorted((int(p), int(n)) for p, n in (item.split(" ") for item in _items(value)))
    return "[" + ",".join(str(n) for _, n in keyed) + "]"


def _blank_repeats(rows: list[list[str]], restated: list[set[str]]) -> None:
    """Blank the carried cells that repeat the row above (the SoK's style), unless restated."""
    count = len(CARRIED)
    previous: list[str] = []
    for row, kept in zip(rows, restated, strict=True):
        current = row[:count]
        for i, column in enumerate(CARRIED):
            if current[: i + 1] == previous[: i + 1] and column not in kept:
                row[i] = ""
        previous = current


def _tasks(value: str) -> str:
    """Tasks in cell order; one marked as sharing the previous one's last word joins it:
    ``Object Classification`` + ``Face Classification`` -> ``Object and Face Classification``."""
    keyed = []
    for item in _items(value):
        position, shared, text = item.split(" ", 2)
        keyed.append((int(position), text, shared == "+"))
    phrases: list[str] = []
    for _, text, shared in sorted(keyed):
        noun = text.rsplit(" ", 1)[-1]
        if shared and phrases and " " in text and phrases[-1].endswith(f" {noun}"):
            phrases[-1] = f"{phrases[-1].removesuffix(f' {noun}')} and {text}"
        else:
            phrases.append(text)
    return ", ".join(phrases)


def _coverage(value: str, letters: list[str]) -> str:
    """``A=green|B=orange=br|...`` in the compact form, ``<br>`` before the items marked ``br``."""
    levels, breaks = {}, set()
    for item in _items(value):
        letter, level, *rest = item.split("=")
        levels[letter] = level
        if rest == ["br"]:
            breaks.add(letter)
    text = format_coverage(levels, letters + sorted(set(levels) - set(letters)))
    for letter in sorted(breaks):  # before the item of that letter: "D (green) <br> E (orange)"
        text = re.sub(rf"(^|\s)(- )?{re.escape(letter)} \(", rf"\1<br> \2{letter} (", text,
                      count=1)
    return text.strip()


def threat_models(dataset: Dataset) -> str:
    """The threat-model table; capability columns in the ontology's order."""
    query = load_query("threat-models")
    caps = run(dataset, load_query("threat-model-capabilities"))
    columns = query.header_list("columns")
    columns[2:2] = [f"**{cap['label']}**" for cap in caps]
    rows = []
    for row in run(dataset, query):
        stars = int(row["applicability"])
        marks = [HAS if row["letter"] in _items(cap["holders"]) else HAS_NOT for cap in caps]
        rows.append([row["letter"], row["name"], *marks,
                     "★" * stars + "☆" * (MAX_STARS - stars)])
    return markdown_table(columns, rows, escape=False)


def attacks(dataset: Dataset) -> str:
    """The attack table in reference order, category and technique blank when repeated."""
    query = load_query("attacks")
    rows, restated = [], []
    for row in run(dataset, query):
        models = _ordered(row["models"])
        if models and row["notes"]:
            models[-1] += row["notes"]
        refs = "|".join(f"0 {n}" for n in _items(row["refs"]))
        labels = row["labels"]
        if row["sources"]:
            labels = "[" + ",".join(_ordered(row["sources"])) + "]"
        rows.append([
            row["category"], row["technique"], f"{row['label']} {_refs(refs)}",
            row["threatModel"], row["algorithm"], row["resolution"], row["batch"],
            ", ".join(models), _tasks(row["tasks"]), labels,
            " ".join(_ordered(row["code"])),
        ])
        restated.append(set(_items(row["restates"])))
    _blank_repeats(rows, restated)
    return markdown_table(query.header_list("columns"), rows, escape=False)


def defenses(dataset: Dataset) -> str:
    """The defense table in the README's row order; coverage in the compact range form."""
    query = load_query("defenses")
    letters = [row["letter"] for row in run(dataset, load_query("threat-models"))]
    rows, restated = [], []
    for row in run(dataset, query):
        work = _refs(row["refs"])
        rows.append([
            row["category"], row["technique"], f"{row['name']} {work}" if row["name"] else work,
            row["year"], row["where"], _coverage(row["coverage"], letters), row["intuition"],
            row["weakness"], " ".join(_ordered(row["code"])),
        ])
        restated.append(set(_items(row["restates"])))
    _blank_repeats(rows, restated)
    return markdown_table(query.header_list("columns"), rows, escape=False)


def references(dataset: Dataset) -> str:
    """The reference list: ``[N] citation text [paper](url) [GitHub](url)``, one per line."""
    lines = []
    for row in run(dataset, load_query("references")):
        links = [f"[paper]({url})" for url in _items(row["papers"])]
        links += [f"[GitHub]({url})" for url in _items(row["repositories"])]
        lines.append(" ".join([f"[{row['number']}]", row["text"], *links]))
    return "\n".join(lines) + "\n"


def render(kg_dir: str | Path | None = None, *, with_references: bool = True) -> str:
    """The three tables (and the reference list) as one Markdown document."""
    from kg.engine import open_dataset

    dataset = open_dataset(kg_dir, inferred=False)
    sections = [
        (load_query("threat-models").meta["title"], threat_models(dataset)),
        (load_query("attacks").meta["title"], attacks(dataset)),
        (load_query("defenses").meta["title"], defenses(dataset)),
    ]
    if with_references:
        sections.append((load_query("references").meta["title"], references(dataset)))
    return "\n".join(f"## {title}\n\n{body}" for title, body in sections)
