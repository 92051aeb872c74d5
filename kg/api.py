"""The Python API, for notebooks: one ``KnowledgeGraph`` handle over the same code the CLI runs.

    from kg import KnowledgeGraph
    g = KnowledgeGraph()                      # the shipped data; KnowledgeGraph("dir") = --kg DIR
    r = g.query("defenses-cover-but-not", covered="G", uncovered="H")
    r.columns, r.rows, r.to_dicts(), r.to_pandas()

Every table comes back as a ``Result``: plain Python values (``rows``), the RDF terms (``terms``),
and the text the CLI would print (``format``). Nothing here holds knowledge: the saved queries,
the assessment, the audit checks and the shapes are the files the CLI uses. pandas is optional.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kg.engine import Dataset, ResultTable, Term, open_dataset, term_text
from kg.errors import UsageError

if TYPE_CHECKING:
    from kg.assess import Assessment
    from kg.queries import SavedQuery
    from kg.validation import ValidationResult

XSD = "http://www.w3.org/2001/XMLSchema#"
#: xsd:integer and the datatypes derived from it: their values become ``int``.
INTEGER_TYPES = frozenset(XSD + name for name in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte",
))
FLOAT_TYPES = frozenset(XSD + name for name in ("decimal", "double", "float"))
BOOLEAN_TYPE = XSD + "boolean"
#: Rows shown by ``_repr_html_`` before the rest is summarised (a notebook cell, not a report).
HTML_MAX_ROWS = 200
#: Columns of a CONSTRUCT/DESCRIBE result seen as a table.
TRIPLE_COLUMNS = ["subject", "predicate", "object"]


class PandasMissing(ImportError):
    """``to_pandas()`` without pandas installed (gia-kg does not depend on it)."""


def python_value(term: Term | None) -> Any:
    """A term as a plain Python value: IRIs and other literals as str, numbers, bools; None if unbound.

    A literal whose lexical form does not fit its datatype (``"x"^^xsd:integer``) stays a str.
    """
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        try:
            if datatype in INTEGER_TYPES:
                return int(term.value)
            if datatype in FLOAT_TYPES:
                return float(term.value)
        except ValueError:
            return term.value
        if datatype == BOOLEAN_TYPE and term.value in ("true", "1", "false", "0"):
            return term.value in ("true", "1")
    return term_text(term)


class Result:
    """A table of results: ``columns``, ``rows`` of Python values, the RDF ``terms`` beneath them.

    Rows are in the order the CLI prints them (the query's ORDER BY, else a deterministic order).
    A CONSTRUCT or DESCRIBE result is a table of subject, predicate, object with ``triples`` set.
    """

    def __init__(self, table: ResultTable, triples: list[ox.Triple] | None = None) -> None:
        self.table = table
        #: The triples of a CONSTRUCT/DESCRIBE result (sorted); None for a SELECT.
        self.triples = triples
        self.columns: list[str] = list(table.columns)
        #: The pyoxigraph terms of each row (None when unbound), in ``rows`` order.
        self.terms: list[tuple[Term | None, ...]] = table.sorted_rows()
        self.rows: list[tuple[Any, ...]] = [tuple(python_value(t) for t in row) for row in self.terms]

    @classmethod
    def from_triples(cls, triples: Iterable[ox.Triple]) -> Result:
        """A graph result: one row per triple, sorted like ``gia-kg sparql`` prints them."""
        ordered = sorted(triples, key=str)
        rows = [(t.subject, t.predicate, t.object) for t in ordered]
        return cls(ResultTable(list(TRIPLE_COLUMNS), rows, ordered=True), ordered)

    @classmethod
    def from_values(cls, columns: list[str], rows: Iterable[Sequence[str | None]]) -> Result:
        """A table of plain strings (None: empty cell), kept in the given row order."""
        terms = [tuple(None if v is None else ox.Literal(v) for v in row) for row in rows]
        return cls(ResultTable(list(columns), terms, ordered=True))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column."""
        if name not in self.columns:
            raise UsageError(f"no column {name!r}; columns: {', '.join(self.columns)}")
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def to_dicts(self) -> list[dict[str, Any]]:
        """One ``{column: value}`` dict per row (unbound cells are None)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        """A pandas DataFrame of ``rows``; pandas is optional (``pip install pandas``)."""
        try:
            import pandas
        except ImportError:
            raise PandasMissing(
                "to_pandas() needs pandas, which gia-kg does not install: pip install pandas"
            ) from None
        return pandas.DataFrame(self.rows, columns=self.columns)

    def format(self, fmt: str | None = None) -> str:
        """The text ``gia-kg query``/``sparql --format FMT`` prints (default: its aligned table)."""
        from kg import formats, results

        if self.triples is not None:
            fmt = fmt or results.GRAPH_FORMATS[0]
            if formats.canonical(fmt) in results.GRAPH_FORMATS:
                return results.format_triples(self.triples, fmt)
        return results.format_table(self.table, fmt or results.TABLE_FORMATS[0])

    def __repr__(self) -> str:
        n = len(self.rows)
        return f"<Result {n} row{'' if n == 1 else 's'}: {', '.join(self.columns)}>"

    def _repr_html_(self) -> str:
        """Jupyter: an HTML table (IRIs as prefixed names, like the CLI's table), text escaped."""
        from kg.results import compact

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(compact(t))}</td>" for t in row) + "</tr>"
            for row in self.terms[:HTML_MAX_ROWS]
        )
        more = len(self.terms) - HTML_MAX_ROWS
        note = f"<p>… {more} more rows (see .rows)</p>" if more > 0 else ""
        n = len(self.rows)
        count = f"<p>{n} row{'' if n == 1 else 's'}</p>"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}{count}"


#: Columns of ``Validation``: one row per SHACL result (kg.validation.Row's fields).
VALIDATION_COLUMNS = ["severity", "focus", "label", "path", "message", "shape", "value"]


class Validation(Result):
    """SHACL validation: ``conforms``, and one row per result (violations, warnings, infos)."""

    def __init__(self, result: ValidationResult) -> None:
        self.result = result
        #: False only when a result is a Violation (warnings do not fail the graph).
        self.conforms = result.conforms
        #: The sh:ValidationReport (an rdflib Graph).
        self.report = result.report
        values = [[getattr(row, c) for c in VALIDATION_COLUMNS] for row in result.rows]
        table = Result.from_values(list(VALIDATION_COLUMNS), values).table
        super().__init__(table)

    def count(self, severity: str) -> int:
        """Number of results of one severity (Violation, Warning, Info)."""
        return self.result.count(severity)

    def format(self, fmt: str | None = None) -> str:
        """The report ``gia-kg validate --format FMT`` prints (text, ttl, json)."""
        from kg import validation

        return validation.render(self.result, fmt or "text")

    def __repr__(self) -> str:
        verdict = "conforms" if self.conforms else "does not conform"
        return (f"<Validation {verdict}: {self.count('Violation')} violation(s), "
                f"{self.count('Warning')} warning(s)>")


def _number(value: object, name: str, what: str, *, whole: bool) -> None:
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    if not ok or isinstance(value, bool):
        raise UsageError(f"sparql: {name}={value!r}: expected {what}")


class KnowledgeGraph:
    """The knowledge graph of one data folder: the shipped data, or a folder like ``--kg DIR``."""

    def __init__(self, kg_dir: str | os.PathLike[str] | None = None) -> None:
        if kg_dir is not None and not isinstance(kg_dir, (str, os.PathLike)):
            raise UsageError(f"KnowledgeGraph({kg_dir!r}): expected the path of a data folder")
        #: The data folder given (None: the data shipped in the package).
        self.kg_dir: Path | None = None if kg_dir is None else Path(kg_dir)
        # A wrong folder fails here, not at the first query; inferred.ttl is checked by the
        # queries that need it (validate does not: it checks a folder before it is reasoned).
        from kg.loading import instance_files

        instance_files(self.kg_dir, inferred=False)

    def dataset(self) -> Dataset:
        """The graph's query store (reopened when the folder's files change)."""
        return open_dataset(self.kg_dir)

    def __repr__(self) -> str:
        where = "shipped data" if self.kg_dir is None else str(self.kg_dir)
        return f"<KnowledgeGraph {where}: {len(self.dataset())} triples>"

    # ---------------------------------------------------------------- queries

    def queries(self) -> dict[str, SavedQuery]:
        """The saved-query catalog by name (each has ``summary``, ``description``, ``params``)."""
        from kg.queries import load_catalog

        return load_catalog()

    def query(self, name: str, /, **params: str | int) -> Result:
        """Run a saved query; parameters are checked exactly as ``gia-kg query -p k=v`` checks them."""
        from kg.queries import run_saved

        values: dict[str, str] = {}
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise UsageError(f"query {name}: parameter {key}={value!r}: expected a str or int")
            values[key] = str(value)
        return Result(run_saved(name, values, self.kg_dir))

    def sparql(
        self,
        text: str,
        *,
        timeout: float = 30,
        max_rows: int = 100_000,
        max_memory_mb: int = 2048,
    ) -> Result | bool:
        """Read-only ad-hoc SPARQL, in the CLI's sandbox and limits.

        SELECT gives a Result, ASK a bool, CONSTRUCT/DESCRIBE a Result of subject, predicate,
        object (with ``.triples``). Updates, SERVICE and over-limit queries raise QueryError.
        """
        from kg import adhoc

        if not isinstance(text, str):
            raise UsageError(f"sparql: expected the query text as a str, got {type(text).__name__}")
        _number(timeout, "timeout", "a number of seconds > 0", whole=False)
        _number(max_rows, "max_rows", "a whole number > 0", whole=True)
        _number(max_memory_mb, "max_memory_mb", "a whole number of MB > 0", whole=True)
        limits = adhoc.Limits(float(timeout), max_rows, max_memory_mb)
        result = adhoc.evaluate(self.kg_dir, text, limits)
        if isinstance(result, bool):
            return result
        if isinstance(result, ResultTable):
            return Result(result)
        return Result.from_triples(result)

    # ---------------------------------------------------------------- commands

    def assess(
        self, capabilities: Sequence[str] | None = None, threat_model: str | None = None
    ) -> Assessment:
        """What an adversary (capability slugs, or one threat-model letter) can attack.

        The Assessment's ``columns``/``rows`` are its defense ratings; ``attacks`` is a Result.
        """
        from kg import assess

        return assess.assess(self.kg_dir, capabilities=capabilities, threat_model=threat_model)

    def capabilities(self) -> list[str]:
        """The capability slugs ``assess`` accepts, in the SoK's column order."""
        from kg import assess

        return list(assess.capability_slugs(self.dataset()))

    def audit(self) -> Result:
        """The SoK consistency findings: finding, ref, label, evidence (one row per finding)."""
        from kg import audit

        return Result(audit.audit(self.kg_dir))

    def validate(self, extra: Iterable[str | os.PathLike[str]] = ()) -> Validation:
        """SHACL validation of the data (plus ``extra`` Turtle files, like ``validate --data``)."""
        from kg import validation

        files = [extra] if isinstance(extra, (str, os.PathLike)) else list(extra)  # one path, not its letters
        return Validation(validation.validate(self.kg_dir, extra=[Path(p) for p in files]))

    def order(self, full: bool = False) -> Result:
        """The reasoned threat-model order: Hasse edges (stronger, weaker), or all with ``full``."""
        from kg import order

        pairs = order.edges(self.kg_dir, full=full)
        return Result.from_values(["stronger", "weaker"], pairs)

    def export(self, fmt: str = "ttl", inferred: bool = False) -> str:
        """The whole graph as text, like ``gia-kg export --format FMT`` (deterministic)."""
        from kg import export

        return export.export(self.kg_dir, fmt, inferred=inferred)


__all__ = ["KnowledgeGraph", "PandasMissing", "Result", "Validation", "python_value"]
