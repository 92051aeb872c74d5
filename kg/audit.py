"""`gia-kg audit`: where the SoK is inconsistent, as quality checks written in SPARQL.

Each check is one queries/audit/*.rq file (ROBOT/ODK style): a SELECT whose every row is a finding,
with the columns ``ref``, ``label`` and ``evidence``, and a header comment with ``**Problem:**``
and ``**Solution:**`` lines. This module only runs the folder and adds the check's name as the
``finding`` column; the rules live in the queries.

Each check has a severity in ``profile.tsv`` beside the checks (ROBOT's report profile: one line
``ERROR|WARN|INFO<TAB>check-name`` per check, every check listed exactly once). Severity is not a
column of the findings (their columns are a contract): :func:`profile` reads it, :func:`failing`
picks the findings at a severity or worse (``gia-kg audit --fail-on``), and the text output counts
findings by severity under the table.
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

#: The profile file of a checks folder, and the severities from the most to the least severe.
PROFILE_NAME = "profile.tsv"
SEVERITIES = ("ERROR", "WARN", "INFO")

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


def profile(folder: str | Path = AUDIT_QUERIES) -> dict[str, str]:
    """Each check's severity, from ``folder/profile.tsv``; every check of the folder exactly once.

    Lines are ``SEVERITY<TAB>check-name``; blank lines and lines starting with ``#`` are skipped.
    A line of another form, an unknown severity or check, a check listed twice or not at all is a
    QueryError naming the file and line: the profile belongs with the checks, like their headers.
    """
    from kg.inputs import read_text

    path = Path(folder) / PROFILE_NAME
    if not path.is_file():
        raise QueryError(f"{path}: missing; expected one 'SEVERITY<TAB>check-name' line per check "
                         f"({'|'.join(SEVERITIES)})")
    names = set(checks(folder))
    found: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or fields[0] not in SEVERITIES or not fields[1]:
            raise QueryError(f"{path}:{number}: expected 'SEVERITY<TAB>check-name' with SEVERITY "
                             f"one of {', '.join(SEVERITIES)}, got {line!r}")
        severity, name = fields
        if name not in names:
            raise QueryError(f"{path}:{number}: {name!r} is not a check of {folder} "
                             f"(expected one of {', '.join(sorted(names))})")
        if name in found:
            raise QueryError(f"{path}:{number}: {name!r} is listed twice (also at line {lines[name]});"
                             " expected each check once")
        found[name], lines[name] = severity, number
    missing = sorted(names - set(found))
    if missing:
        raise QueryError(f"{path}: no severity for {', '.join(missing)}; expected every check listed")
    return dict(sorted(found.items()))


def failing(table: ResultTable, fail_on: str, severities: dict[str, str]) -> list[tuple[str, ...]]:
    """The findings (text rows) whose check's severity is ``fail_on`` or worse (ERROR > WARN > INFO)."""
    if fail_on not in SEVERITIES:
        raise UsageError(f"--fail-on {fail_on}: expected one of {', '.join(SEVERITIES)}")
    worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    return [row for row in table.text_rows() if severities.get(row[0]) in worst]


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


def render(table: ResultTable, fmt: str = "text", *, terminal: object = None,
           severities: dict[str, str] | None = None) -> str:
    """Findings as an aligned table with a count (text), Markdown, or SPARQL CSV/TSV/JSON/XML.

    With ``severities`` (:func:`profile`), the text output also counts findings by severity; the
    other formats keep their four columns.
    """
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
        if severities is not None:
            by = {level: sum(1 for name in table.column("finding") if severities.get(name) == level)
                  for level in SEVERITIES}
            text += "by severity (queries/audit/profile.tsv): " + ", ".join(
                f"{level} {n}" for level, n in by.items()) + "\n"
    return text
