"""Formatting query results: aligned table, Markdown, and the SPARQL 1.1 CSV/TSV/JSON formats.

References: SPARQL 1.1 Query Results JSON Format and CSV and TSV Formats (W3C Recommendations).
Rows come in ``ResultTable.sorted_rows()`` order: the query's ORDER BY, else deterministic.
"""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox

from kg.engine import XSD_STRING, ResultTable, Term, term_text
from kg.errors import UsageError
from kg.namespaces import PREFIXES

TABLE_FORMATS = ("table", "csv", "tsv", "json", "md")
GRAPH_FORMATS = ("turtle", "nt")


def compact(term: Term | None) -> str:
    """Short text for humans: ``tm:G`` for IRIs under a project prefix, else ``term_text``."""
    if isinstance(term, ox.NamedNode):
        best = max((ns for ns in PREFIXES.values() if term.value.startswith(ns)), key=len,
                   default=None)
        if best is not None:
            local = term.value[len(best):]
            if local and all(c.isalnum() or c in "-_." for c in local):
                prefix = next(p for p, ns in PREFIXES.items() if ns == best)
                return f"{prefix}:{local}"
    return term_text(term)


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def to_json(table: ResultTable) -> str:
    """SPARQL 1.1 Query Results JSON; unbound cells are left out of a binding."""
    bindings = [
        {c: _json_term(t) for c, t in zip(table.columns, row, strict=True) if t is not None}
        for row in table.sorted_rows()
    ]
    doc = {"head": {"vars": table.columns}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_csv(table: ResultTable) -> str:
    """SPARQL 1.1 CSV results: plain values (IRI, lexical form, ``_:b``), RFC 4180, CRLF."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows(table.text_rows())
    return buf.getvalue()


def _tsv_term(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    # pyoxigraph's str() is the N-Triples form: <iri>, "x", "x"@en, "1"^^<...#integer>.
    return str(term)


def to_tsv(table: ResultTable) -> str:
    """SPARQL 1.1 TSV results: ``?var`` header, terms in N-Triples/Turtle syntax, LF."""
    lines = ["\t".join("?" + c for c in table.columns)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in table.sorted_rows()]
    return "\n".join(lines) + "\n"


def _cells(table: ResultTable) -> list[list[str]]:
    return [[compact(t) for t in row] for row in table.sorted_rows()]


def aligned(headers: list[str], rows: list[list[str]], *, rule: bool = True) -> list[str]:
    """Lines of columns aligned for a terminal (with a dashed rule under the headers)."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    ruled = [line(["-" * w for w in widths])] if rule else []
    return [line(headers), *ruled, *(line(row) for row in rows)]


def to_table(table: ResultTable) -> str:
    """Columns aligned for a terminal, IRIs shortened with the project prefixes."""
    rows = _cells(table)
    out = aligned(table.columns, rows)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: list[str], rows: list[list[str]], *, escape: bool = True) -> str:
    """A GitHub-flavoured Markdown table; ``escape`` protects ``|`` and line breaks in cells."""
    cell = _md_escape if escape else str
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def to_markdown(table: ResultTable) -> str:
    """A GitHub-flavoured Markdown table, IRIs shortened with the project prefixes."""
    return markdown_table(table.columns, _cells(table))


_FORMATTERS = {
    "table": to_table,
    "csv": to_csv,
    "tsv": to_tsv,
    "json": to_json,
    "md": to_markdown,
}


def format_table(table: ResultTable, fmt: str) -> str:
    """Render a SELECT result in one of TABLE_FORMATS."""
    try:
        return _FORMATTERS[fmt](table)
    except KeyError:
        raise UsageError(
            f"--format {fmt}: expected one of {', '.join(TABLE_FORMATS)}"
        ) from None


def format_boolean(value: bool, fmt: str) -> str:
    """Render an ASK result (SPARQL 1.1 JSON for json; ``true``/``false`` otherwise)."""
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}) + "\n"
    if fmt in TABLE_FORMATS:
        return ("true" if value else "false") + "\n"
    raise UsageError(f"--format {fmt}: expected one of {', '.join(TABLE_FORMATS)} for ASK")


def format_triples(triples: list[ox.Triple], fmt: str) -> str:
    """Render CONSTRUCT/DESCRIBE triples as Turtle (project prefixes) or N-Triples, sorted."""
    if fmt not in GRAPH_FORMATS:
        raise UsageError(
            f"--format {fmt}: CONSTRUCT/DESCRIBE results are RDF; expected one of "
            + ", ".join(GRAPH_FORMATS)
        )
    ordered = sorted(triples, key=str)
    if fmt == "nt":
        return "".join(f"{t} .\n" for t in ordered)
    data = ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return (data or b"").decode("utf-8")
