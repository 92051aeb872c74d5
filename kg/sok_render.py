"""Graph -> the SoK's tables as Markdown, through the SPARQL queries in ``queries/tables/``.

The queries hold the knowledge (which properties make which cell, row order, header text in
their ``#+ columns:`` line); this module only runs them and formats cells. Multi-valued cells
come back ``|``-separated and are sorted here so output never depends on the engine's order.
"""

from __future__ import annotations

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


def _items(value: str) -> list[str]:
    return sorted(item for item in value.split("|") if item)


def _refs(value: str) -> str:
    return "[" + ",".join(str(n) for n in sorted(int(v) for v in _items(value))) + "]"


def _blank_repeats(rows: list[list[str]], count: int) -> None:
    """Leave the first ``count`` cells blank where they repeat the row above (the SoK's style)."""
    previous: list[str] = []
    for row in rows:
        current = row[:count]
        for i in range(count):
            if current[: i + 1] == previous[: i + 1]:
                row[i] = ""
        previous = current


def _tasks(value: str) -> str:
    """Two tasks sharing their last word read as ``Face and Object Classification``."""
    tasks = _items(value)
    if len(tasks) == 2:
        (first, noun1), (second, noun2) = (t.rsplit(" ", 1) if " " in t else (t, "") for t in tasks)
        if noun1 and noun1 == noun2:
            return f"{first} and {second} {noun1}"
    return ", ".join(tasks)


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
    rows = []
    for row in run(dataset, query):
        models = _items(row["models"])
        if models and row["notes"]:
            models[-1] += row["notes"]
        rows.append([
            row["category"], row["technique"], f"{row['label']} {_refs(row['refs'])}",
            row["threatModel"], row["algorithm"], row["resolution"], row["batch"],
            ", ".join(models), _tasks(row["tasks"]), row["labels"],
            " ".join(_items(row["code"])),
        ])
    _blank_repeats(rows, 2)
    return markdown_table(query.header_list("columns"), rows, escape=False)


def defenses(dataset: Dataset) -> str:
    """The defense table in reference order; coverage in the compact range form."""
    query = load_query("defenses")
    rows = []
    for row in run(dataset, query):
        levels = dict(item.split("=", 1) for item in _items(row["coverage"]))
        letters = sorted(levels)
        letters += sorted(set(levels) - set(letters))
        work = _refs(row["refs"])
        rows.append([
            row["category"], row["technique"], f"{row['name']} {work}" if row["name"] else work,
            row["year"], row["where"], format_coverage(levels, letters), row["intuition"],
            row["weakness"], " ".join(_items(row["code"])),
        ])
    _blank_repeats(rows, 2)
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
