"""SHACL validation of the graph against shapes/*.ttl, and the three report formats.

The shapes carry the rules and their messages; this module only loads the graphs, runs pySHACL
(imported lazily: it costs a quarter of a second) and turns the report into sorted rows.
The ontology is passed as pySHACL's ``ont_graph`` so that ``sh:class`` and ``sh:targetClass`` see
its types and closed vocabularies without RDFS inference.

JSON format: a list of objects, one per validation result, sorted like the text format, with keys
``focus`` (focus node), ``path`` (result path, ``^p`` for an inverse path, ``p1/p2`` for a
sequence, or null), ``severity`` (``Violation``, ``Warning`` or ``Info``), ``message``, ``shape``
(the source shape) and ``value`` (the offending value, or null). IRIs are written as prefixed names
where a project prefix applies (``attack:…``, ``gia:…``, ``shape:…``), literals in Turtle syntax.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.errors import InputError
from kg.loading import load_graph, new_graph, parse_into
from kg.paths import ONTOLOGY_FILE, SHAPES_DIR

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

#: Report order and exit status: only violations make the graph non-conforming.
SEVERITIES = ("Violation", "Warning", "Info")
FORMATS = ("text", "ttl", "json")


@dataclass(frozen=True)
class Row:
    """One validation result, with every node written as readable text."""

    severity: str
    focus: str
    path: str | None
    message: str
    shape: str
    value: str | None
    label: str | None = None


@dataclass
class ValidationResult:
    """Outcome of one validation: ``conforms`` is False only when a row is a Violation."""

    conforms: bool
    report: Graph
    rows: list[Row]

    def count(self, severity: str) -> int:
        """Number of rows of one severity."""
        return sum(1 for row in self.rows if row.severity == severity)


def shape_files(shapes_dir: Path | None = None) -> list[Path]:
    """The Turtle files of the shapes folder, sorted."""
    folder = shapes_dir or SHAPES_DIR
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise InputError(f"{folder}: no SHACL shapes (*.ttl) found")
    return files


def load_shapes(shapes_dir: Path | None = None) -> Graph:
    """All shapes of shapes/*.ttl in one graph (with their prefixes, for naming shapes)."""
    graph = new_graph()
    for path in shape_files(shapes_dir):
        parse_into(graph, path)
    return graph


def load_ontology() -> Graph:
    """The TBox alone, given to pySHACL as ``ont_graph``."""
    return parse_into(new_graph(), ONTOLOGY_FILE)


def validate(
    kg_dir: str | Path | None = None,
    extra: Iterable[str | Path] = (),
    *,
    data: Graph | None = None,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
) -> ValidationResult:
    """Validate the instance data of ``kg_dir`` plus ``extra`` files against the shapes.

    ``data``, ``shapes`` and ``ontology`` let a caller (the tests) pass graphs it has already
    loaded or edited; ``data`` is then validated instead of the files (and left unchanged).
    """
    loaded = data if data is not None else load_graph(kg_dir, ontology=False, inferred=False, extra=extra)
    data = _prepared_query_graph()
    data += loaded
    shapes = shapes if shapes is not None else load_shapes()
    ontology = ontology if ontology is not None else load_ontology()

    from pyshacl import validate as shacl_validate

    try:
        _, report, text = shacl_validate(
            data,
            shacl_graph=shapes,
            ont_graph=ontology,
            inference="none",
            do_owl_imports=False,  # owl:imports are data here: never fetched
            allow_warnings=True,
            allow_infos=True,
            inplace=True,
        )
    except Exception as exc:  # pySHACL raises its own types for bad shapes
        raise InputError(f"SHACL validation failed: {exc}".splitlines()[0]) from None
    if not hasattr(report, "subjects"):  # a pySHACL ValidationFailure: the shapes are malformed
        raise InputError(f"SHACL validation failed: {text}".splitlines()[0])
    for prefix, iri in shapes.namespaces():
        report.bind(prefix, iri, override=False)
    rows = _rows(report, data)
    conforms = not any(row.severity == "Violation" for row in rows)
    return ValidationResult(conforms=conforms, report=report, rows=rows)


#: SPARQL texts of the SHACL-SPARQL constraints, parsed once per process.
_PREPARED: dict[str, Any] = {}


def _prepared_query_graph() -> Graph:
    """An empty graph whose ``query`` parses each SPARQL text once.

    pySHACL runs a SHACL-SPARQL constraint once per focus node, passing the same query text each
    time; rdflib re-parsed it every time, which took 1.4 s of the 1.8 s validation of the SoK graph.
    Only parsing is shared: each call still evaluates with its own ``$this`` binding.
    """
    from rdflib import Graph as RdflibGraph
    from rdflib.plugins.sparql import prepareQuery

    class PreparedQueryGraph(RdflibGraph):
        def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if isinstance(query_object, str):
                if query_object not in _PREPARED:
                    _PREPARED[query_object] = prepareQuery(query_object)
                query_object = _PREPARED[query_object]
            return super().query(query_object, *args, **kwargs)

    return PreparedQueryGraph(bind_namespaces="none")


def _rows(report: Graph, data: Graph) -> list[Row]:
    """The report's results as rows, sorted by severity, focus node, path, shape and value."""
    from rdflib import RDF, RDFS, SH

    rows: set[Row] = set()  # one row per finding, however many constraint components fired
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        severity = report.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        label = data.value(focus, RDFS.label) if focus is not None else None
        rows.add(
            Row(
                severity=str(severity).rpartition("#")[2] if severity else "Violation",
                focus=_text(report, focus),
                path=_path_text(report, path) if path is not None else None,
                message=messages[0] if messages else "",
                shape=_text(report, report.value(result, SH.sourceShape)),
                value=_text(report, value) if value is not None else None,
                label=str(label) if label is not None else None,
            )
        )
    return sorted(
        rows,
        key=lambda r: (
            SEVERITIES.index(r.severity),
            r.focus,
            r.path or "",
            r.shape,
            r.value or "",
            r.message,
        ),
    )


def _text(graph: Graph, node: Node | None) -> str:
    """A node as a prefixed name, a Turtle literal (numbers bare), or ``_:`` for a blank node."""
    from rdflib import XSD, BNode, Literal, URIRef

    if isinstance(node, URIRef):
        return node.n3(graph.namespace_manager).strip("<>")
    if isinstance(node, Literal):
        shorthand = node.datatype in (XSD.integer, XSD.decimal, XSD.boolean)
        if shorthand and not getattr(node, "ill_typed", False):
            return str(node)  # Turtle's bare 60, not "60"^^xsd:integer
        return node.n3(graph.namespace_manager)
    if isinstance(node, BNode):
        return "_:"
    return ""


def _path_text(graph: Graph, path: Node) -> str:
    """A SHACL property path in the SPARQL property-path syntax (enough for the shapes we have)."""
    from rdflib import SH, BNode
    from rdflib.collection import Collection

    if not isinstance(path, BNode):
        return _text(graph, path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path_text(graph, inverse)
    items = list(Collection(graph, path))
    if items:
        return "/".join(_path_text(graph, item) for item in items)
    return "_:"


# ---------------------------------------------------------------- formats


def render(result: ValidationResult, fmt: str = "text") -> str:
    """The report as text (one result a line), Turtle (the sh:ValidationReport) or JSON."""
    if fmt == "text":
        return render_text(result)
    if fmt == "json":
        keys = ("focus", "path", "severity", "message", "shape", "value")
        items = [{k: asdict(row)[k] for k in keys} for row in result.rows]
        return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    if fmt == "ttl":
        from rdflib.compare import to_canonical_graph

        canonical = new_graph()  # blank-node labels from content: the same report, the same text
        for prefix, iri in result.report.namespaces():
            canonical.bind(prefix, iri, override=False)
        canonical += to_canonical_graph(result.report)
        return canonical.serialize(format="turtle")
    raise InputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")


def render_text(result: ValidationResult) -> str:
    """One line per result: severity, focus node (and its label), path, message, value, shape."""
    lines = []
    for row in result.rows:
        focus = f'{row.focus} "{row.label}"' if row.label else row.focus
        shown = row.value is not None and row.value != row.focus  # node shapes report the focus
        value = f" (value: {row.value})" if shown else ""
        lines.append(f"{row.severity}  {focus}  {row.path or '-'}  {row.message}{value}  [{row.shape}]")
    violations, warnings = result.count("Violation"), result.count("Warning")
    verdict = "conforms" if result.conforms else "does not conform"
    lines.append(f"{verdict}: {violations} violation(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"
