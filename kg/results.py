"""Formatting query results: aligned table, Markdown, and the SPARQL 1.1 CSV/TSV/JSON formats.

References: SPARQL 1.1 Query Results JSON Format and CSV and TSV Formats (W3C Recommendations).
Rows come in ``ResultTable.sorted_rows()`` order: the query's ORDER BY, else deterministic.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pyoxigraph as ox

from kg import formats
from kg.engine import XSD_STRING, ResultTable, Term, term_text
from kg.errors import UsageError
from kg.namespaces import PREFIXES
from kg.terminal import Terminal, fit

TABLE_FORMATS = formats.TABLE
GRAPH_FORMATS = formats.GRAPH
XML_NS = "http://www.w3.org/2005/sparql-results#"


def compact(term: Term | None) -> str:
    """Short text for humans where an IRI never reads like a string.

    IRIs: ``tm:G`` under a project prefix, else ``<iri>``. Literals: their plain text, quoted only
    when it would read as an IRI or a blank node (``"tm:G"``, ``"<http://x>"``, ``"_:b"``).
    """
    if isinstance(term, ox.NamedNode):
        best = max((ns for ns in PREFIXES.values() if term.value.startswith(ns)), key=len,
                   default=None)
        if best is not None:
            local = term.value[len(best):]
            if local and all(c.isalnum() or c in "-_." for c in local):
                prefix = next(p for p, ns in PREFIXES.items() if ns == best)
                return f"{prefix}:{local}"
        return f"<{term.value}>"
    text = term_text(term)
    if isinstance(term, ox.Literal):
        prefix, colon, local = text.partition(":")
        pname = prefix in PREFIXES and local != "" and all(c.isalnum() or c in "-_." for c in local)
        if (len(text) > 1 and text[0] == "<" and text[-1] == ">") or (colon and (pname or prefix == "_")):
            return json.dumps(text, ensure_ascii=False)
    return text


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


def aligned(
    headers: list[str], rows: list[list[str]], *, rule: bool = True, terminal: Terminal | None = None
) -> list[str]:
    """Lines of columns aligned for a terminal (with a dashed rule under the headers).

    With a ``terminal`` (kg.terminal.detect) that is not plain: fitted to its width, levels coloured.
    """
    if terminal is not None and not terminal.plain:
        return fit(headers, rows, terminal, rule=rule)
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    ruled = [line(["-" * w for w in widths])] if rule else []
    return [line(headers), *ruled, *(line(row) for row in rows)]


def to_table(table: ResultTable, *, terminal: Terminal | None = None) -> str:
    """Columns aligned for a terminal, IRIs shortened with the project prefixes (see ``compact``).

    ``terminal`` (None: the full plain text) fits the lines to its width and colours the levels.
    """
    rows = _cells(table)
    out = aligned(table.columns, rows, terminal=terminal)
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
    "text": to_table,
    "table": to_table,
    "xml": lambda table: to_xml(table),
    "csv": to_csv,
    "tsv": to_tsv,
    "json": to_json,
    "md": to_markdown,
}


def format_table(table: ResultTable, fmt: str, *, terminal: Terminal | None = None) -> str:
    """Render a SELECT result in one of TABLE_FORMATS; ``terminal`` affects only the text table."""
    try:
        formatter = _FORMATTERS[fmt]
    except KeyError:
        raise UsageError(
            f"--format {fmt}: expected one of {', '.join(TABLE_FORMATS)}"
        ) from None
    if terminal is not None and formatter is to_table:
        return to_table(table, terminal=terminal)
    return formatter(table)


ASK_NO_CSV = ("ASK results have no CSV or TSV form (the W3C SPARQL 1.1 CSV/TSV results formats "
              "define none, so rdflib and Jena cannot read one); use --format text, json or xml")


def format_boolean(value: bool, fmt: str) -> str:
    """Render an ASK result: SPARQL 1.1 JSON or XML, ``true``/``false`` as text; no CSV/TSV."""
    fmt = formats.canonical(fmt) or fmt
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}) + "\n"
    if fmt == "xml":
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{XML_NS}">\n  <head/>\n'
                f"  <boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n")
    if fmt in ("csv", "tsv"):
        raise UsageError(f"--format {fmt}: {ASK_NO_CSV}")
    if fmt in ("text", "md"):
        return ("true" if value else "false") + "\n"
    raise UsageError(f"--format {fmt}: expected one of text, json, xml for ASK")


def format_triples(triples: list[ox.Triple], fmt: str) -> str:
    """CONSTRUCT/DESCRIBE triples as Turtle (project prefixes), N-Triples, JSON-LD or RDF/XML, sorted."""
    fmt = formats.canonical(fmt) or fmt
    if fmt not in GRAPH_FORMATS:
        raise UsageError(
            f"--format {fmt}: CONSTRUCT/DESCRIBE results are RDF; expected one of "
            + ", ".join(GRAPH_FORMATS)
        )
    ordered = sorted(triples, key=str)
    if fmt == "nt":
        return "".join(f"{t} .\n" for t in ordered)
    if fmt == "jsonld":
        from kg.export import jsonld

        return jsonld(ordered)
    syntax = ox.RdfFormat.TURTLE if fmt == "ttl" else ox.RdfFormat.RDF_XML
    data = ox.serialize(ordered, format=syntax, prefixes=PREFIXES)
    return (data or b"").decode("utf-8")


# ---------------------------------------------------------------- SPARQL 1.1 Query Results XML

#: Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape(text: str) -> str:
    """XML character data (not xml.sax.saxutils: it imports urllib, 20 ms on the query path)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """An XML attribute value in double quotes."""
    return '"' + escape(text).replace('"', "&quot;").replace("\n", "&#10;") + '"'


def _xml_text(text: str) -> str:
    if _NOT_XML.search(text):
        raise UsageError("--format xml: a value holds a control character that XML 1.0 cannot "
                         "carry; use --format json or tsv")
    return escape(text)


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attr = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{_xml_text(term.value)}</literal>"
    return f"<literal>{_xml_text(str(term))}</literal>"  # an RDF-star triple: no XML form


def to_xml(table: ResultTable) -> str:
    """SPARQL 1.1 Query Results XML Format; unbound cells are left out of a result."""
    out = ['<?xml version="1.0" encoding="utf-8"?>', f'<sparql xmlns="{XML_NS}">', "  <head>"]
    out += [f"    <variable name={quoteattr(c)}/>" for c in table.columns]
    out += ["  </head>", "  <results>"]
    for row in table.sorted_rows():
        out.append("    <result>")
        out += [
            f"      <binding name={quoteattr(c)}>{_xml_term(t)}</binding>"
            for c, t in zip(table.columns, row, strict=True) if t is not None
        ]
        out.append("    </result>")
    out += ["  </results>", "</sparql>"]
    return "\n".join(out) + "\n"
