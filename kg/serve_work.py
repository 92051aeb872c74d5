"""What a ``gia-kg serve`` worker does with one job: refuse, evaluate, format (inside the sandbox).

A job is JSON: the query text, whether to check it (ad-hoc queries; a saved query's bound text
is ours), the format chosen for each result form (content negotiation happened in the server),
the row limit, and the note a text answer adds when it is empty (as ``gia-kg query`` does). The
answer is one JSON header line (HTTP status, media type) and the body.

Refusals, before anything runs: the text is parsed by rdflib's SPARQL parser (parsing executes
nothing) to find updates (``LOAD`` included), ``SERVICE`` and ``FROM``/``FROM NAMED``. Oxigraph
reads ``\\uXXXX`` escapes only inside strings and IRIs, rdflib everywhere (the SPARQL 1.1
pre-processing step), so a string like ``"\\u0022"`` would look like an opening quote to rdflib and
hide what follows; the escapes are therefore replaced by a plain letter first, which keeps the
token structure Oxigraph sees. Where rdflib cannot parse a text that Oxigraph can, Oxigraph runs
it and the sandbox still holds: a ``SERVICE`` call fails (no socket can be opened) and is reported
as refused, and ``FROM`` only names graphs of the local store, which fetches nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pyoxigraph as ox

from kg import formats, results, sandbox
from kg.engine import has_order_by, syntax_message, table_of, too_many_rows
from kg.errors import GiaKgError
from kg.namespaces import SPARQL_PREFIXES

UPDATE_REFUSED = ("SPARQL updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY) are "
                  "refused: this endpoint is read-only")
SERVICE_REFUSED = "SERVICE is refused: this endpoint answers from its own graph and never calls the network"
FROM_REFUSED = ("FROM and FROM NAMED are refused: this endpoint answers from its own graph only "
                "(it fetches nothing)")
#: The result forms of a query and the kg.formats kind whose media types they use.
FORMS = {"table": "table", "boolean": "table", "graph": "graph"}
#: Formats offered per form, in the server's order of preference (the first is the default).
OFFERED = {
    "table": ("json", "xml", "csv", "tsv", "text", "md"),
    "boolean": ("json", "xml", "text"),
    "graph": ("ttl", "nt", "jsonld", "xml"),
}
WHAT = {"table": "a SELECT result", "boolean": "an ASK result", "graph": "a CONSTRUCT or DESCRIBE result"}

_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)


class Refused(GiaKgError):
    """A request answered with an HTTP error: the status and the one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def media_type(form: str, fmt: str) -> str:
    """The media type of a format for a result form (kg.formats.MEDIA_TYPES), with charset."""
    base = formats.MEDIA_TYPES[(FORMS[form], fmt)]
    return f"{base}; charset=utf-8"


def _as_oxigraph_reads(text: str) -> str:
    """``\\uXXXX`` / ``\\UXXXXXXXX`` escapes as one plain letter (see the module docstring)."""
    return _ESCAPE.sub(lambda m: "u" if m.group(0)[1] in "uU" else m.group(0), text)


def _names(tree: object, found: set[str], depth: int = 0) -> None:
    """Every rule name (``ServiceGraphPattern``, ``DatasetClause`` ...) in an rdflib parse tree."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    if depth > 500:
        return
    if isinstance(tree, CompValue):
        found.add(tree.name)
        for value in tree.values():
            _names(value, found, depth + 1)
    elif isinstance(tree, (ParseResults, list, tuple)):
        for value in tree:
            _names(value, found, depth + 1)


def refusal(text: str) -> str | None:
    """Why an ad-hoc query is refused (update, SERVICE, FROM), or None; nothing is executed."""
    from rdflib.plugins.sparql import parser

    neutral = _as_oxigraph_reads(text)
    try:
        tree = parser.Query.parse_string(neutral, parse_all=True)
    except Exception:  # not a query rdflib reads: an update, or something only Oxigraph reads
        try:
            parser.UpdateUnit.parse_string(neutral, parse_all=True)
        except Exception:
            return None
        return UPDATE_REFUSED
    found: set[str] = set()
    _names(tree, found)
    if "ServiceGraphPattern" in found:
        return SERVICE_REFUSED
    if "DatasetClause" in found:
        return FROM_REFUSED
    return None


def warm_up() -> None:
    """Import and exercise rdflib's parser once, in the server, so that workers inherit it warm."""
    from rdflib.plugins.sparql import parser

    parser.Query.parse_string("SELECT * WHERE { ?s ?p ?o FILTER(?o > 1) }", parse_all=True)


def _evaluate(store: ox.Store, job: dict) -> tuple[str, object]:
    """Run the query: its form and result (a ResultTable, a bool or a list of triples)."""
    text = job["text"]
    max_rows = job["max_rows"]
    try:
        result = store.query(text, prefixes=SPARQL_PREFIXES)
        if isinstance(result, ox.QueryBoolean):
            return "boolean", bool(result)
        if isinstance(result, ox.QuerySolutions):
            return "table", table_of(result, has_order_by(text), limit=max_rows)
        triples = []
        for triple in result:
            if len(triples) >= max_rows:
                raise Refused(403, str(too_many_rows(max_rows)))
            triples.append(triple)
        return "graph", triples
    except SyntaxError as exc:
        from kg.adhoc import unknown_prefix_message

        message = str(exc.args[0] if exc.args else exc)
        raise Refused(400, unknown_prefix_message(text) or syntax_message(message)) from None
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        if sandbox.network_was_blocked(str(exc)):
            raise Refused(403, SERVICE_REFUSED) from None
        raise Refused(400, f"SPARQL evaluation failed: {exc}".splitlines()[0]) from None


def not_acceptable(form: str) -> str:
    """The 406 message: what a result of this form is offered as."""
    offered = ", ".join(dict.fromkeys(formats.MEDIA_TYPES[(FORMS[form], f)] for f in OFFERED[form]))
    return f"no acceptable format for {WHAT[form]}; offered: {offered} (or ?format=NAME)"


def _format(form: str, result: object, job: dict) -> tuple[str, str]:
    """The body and media type of a result in the negotiated format."""
    fmt = job["formats"].get(form)
    if fmt is None:
        raise Refused(406, not_acceptable(form))
    if form == "boolean":
        body = results.format_boolean(result, fmt)  # type: ignore[arg-type]
    elif form == "graph":
        body = results.format_triples(result, fmt)  # type: ignore[arg-type]
    else:
        body = results.format_table(result, fmt)  # type: ignore[arg-type]
        note = job.get("note")
        if fmt == "text" and note and not result.rows:  # type: ignore[attr-defined]
            body += f"{note}\n"
    return body, media_type(form, fmt)


def answer(store: ox.Store, job: dict, memory_message: str = "the query needed more memory than "
           "its limit") -> tuple[int, str, bytes]:
    """The HTTP status, media type and body of one job (errors as one-line plain text)."""
    try:
        if job.get("check"):
            why = refusal(job["text"])
            if why:
                raise Refused(403, why)
        form, result = _evaluate(store, job)
        body, kind = _format(form, result, job)
        return 200, kind, body.encode("utf-8")
    except Refused as exc:
        return exc.status, "text/plain; charset=utf-8", f"{exc}\n".encode()
    except GiaKgError as exc:  # a row limit (QueryError), a format the result cannot take (UsageError)
        status = 406 if type(exc).__name__ == "UsageError" else 403
        return status, "text/plain; charset=utf-8", f"{exc}\n".encode()
    except MemoryError:
        return 403, "text/plain; charset=utf-8", f"{memory_message}\n".encode()


def handler(store: ox.Store, memory_message: str) -> Callable[[bytes], bytes]:
    """The worker's job handler over ``store`` (kg.serve_pool.Handler)."""

    def handle(data: bytes) -> bytes:
        status, kind, body = answer(store, json.loads(data), memory_message)
        return json.dumps({"status": status, "type": kind}).encode() + b"\n" + body

    return handle


def decode(data: bytes) -> tuple[int, str, bytes]:
    """A worker's answer frame as (status, media type, body)."""
    head, _, body = data.partition(b"\n")
    meta = json.loads(head)
    return int(meta["status"]), str(meta["type"]), body
