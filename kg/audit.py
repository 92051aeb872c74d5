"""`gia-kg audit`: where the SoK is inconsistent, as quality checks written in SPARQL.

Each check is one queries/audit/*.rq file (ROBOT/ODK style): a SELECT whose every row is a finding,
with the columns ``ref``, ``label`` and ``evidence``, and a header comment with ``**Problem:**``
and ``**Solution:**`` lines. This module only runs the folder and adds the check's name as the
``finding`` column; the rules live in the queries.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

from kg.engine import Dataset, ResultTable, open_dataset
from kg.errors import QueryError, UsageError
from kg.paths import QUERIES_DIR
from kg.queries import SavedQuery, load_catalog

AUDIT_QUERIES = QUERIES_DIR / "audit"
#: The columns every check returns; ``finding`` (the check's name) is added in front.
CHECK_COLUMNS = ["ref", "label", "evidence"]
COLUMNS = ["finding", *CHECK_COLUMNS]
#: --format values (kg.formats names) → kg.results.format_table formats.
FORMATS = {"text": "text", "csv": "csv", "tsv": "tsv", "json": "json", "xml": "xml", "md": "md"}

_PROBLEM = re.compile(r"^#\s*\*\*Problem:\*\*\s*(.+)$", re.MULTILINE)
_SOLUTION = re.compile(r"^#\s*\*\*Solution:\*\*\s*(.+)$", re.MULTILINE)


def checks(folder: str | Path = AUDIT_QUERIES) -> dict[str, SavedQuery]:
    """The audit checks by name; a check without Problem/Solution header lines is refused."""
    catalog = load_catalog(folder)
    for check in catalog.values():
        if not (_PROBLEM.search(check.text) and _SOLUTION.search(check.text)):
            raise QueryError(
                f"{check.path}: expected '# **Problem:**' and '# **Solution:**' header lines"
            )
    return catalog


def run_check(check: SavedQuery, dataset: Dataset) -> ResultTable:
    """One check's findings (columns ref, label, evidence), in the check's order."""
    table = dataset.select(check.text)
    if table.columns != CHECK_COLUMNS:
        raise QueryError(
            f"{check.path}: a check must SELECT ?{' ?'.join(CHECK_COLUMNS)}, "
            f"got ?{' ?'.join(table.columns)}"
        )
    return table


def audit(
    kg_dir: str | Path | None = None,
    *,
    dataset: Dataset | None = None,
    folder: str | Path = AUDIT_QUERIES,
) -> ResultTable:
    """Every finding of every check, grouped by check name (sorted), one row per finding."""
    data = dataset if dataset is not None else open_dataset(kg_dir)
    rows = []
    for name, check in checks(folder).items():
        finding = ox.Literal(name)
        rows += [(finding, *row) for row in run_check(check, data).sorted_rows()]
    return ResultTable(list(COLUMNS), rows, ordered=True)


def render(table: ResultTable, fmt: str = "text", *, terminal: object = None) -> str:
    """Findings as an aligned table with a count (text), Markdown, or SPARQL CSV/TSV/JSON/XML."""
    from kg.formats import canonical
    from kg.results import format_table

    fmt = canonical(fmt) or fmt
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if terminal is not None and fmt == "text":
        text = format_table(table, FORMATS[fmt], terminal=terminal)
    else:
        text = format_table(table, FORMATS[fmt])
    if fmt == "text":
        counts: dict[str, int] = {}
        for name in table.column("finding"):
            counts[name] = counts.get(name, 0) + 1
        total = len(table.rows)
        detail = ", ".join(f"{name} {n}" for name, n in counts.items())
        summary = f"{total} finding{'s' if total != 1 else ''}" + (f" ({detail})" if detail else "")
        text = (text if text.endswith("\n") or not text else text + "\n") + summary + "\n"
    return text
