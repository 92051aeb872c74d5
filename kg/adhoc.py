"""``gia-kg sparql``: an ad-hoc query parsed, evaluated and formatted by Oxigraph inside the sandbox.

Nothing reads the query text before Oxigraph does: the engine that executes it is the only
parser, and it runs in a kg.sandbox child that cannot open a network connection, within a time
limit (``--timeout``), a memory limit (``--max-memory``) and a row limit (``--max-rows``) that
cover parsing, evaluation and formatting alike. The parent only opens the graph and passes the
finished text on. So:

- updates: Oxigraph's query parser refuses them; the child then asks Oxigraph whether the text is
  an update, by running it on a throwaway empty in-memory store (inside the sandbox, so even
  ``LOAD`` reaches nothing), only to word the refusal;
- ``SERVICE``: the call fails in the sandbox (``socket()`` is refused) and is reported as refused;
  ``SERVICE SILENT`` is, as SPARQL defines it, a failed call whose failure is ignored;
- ``FROM`` / ``FROM NAMED``: Oxigraph never dereferences them; they select graphs of the local
  store, which holds only the default graph (so ``FROM <x>`` gives an empty default graph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import sandbox
from kg.engine import (
    DEFAULT_MAX_MEMORY,
    ResultTable,
    current_endpoint,
    has_order_by,
    open_dataset,
    syntax_message,
    table_of,
    too_many_rows,
)
from kg.errors import QueryError, UsageError
from kg.namespaces import SPARQL_PREFIXES

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_MEMORY_MB = DEFAULT_MAX_MEMORY >> 20

UPDATE_REFUSED = ("SPARQL updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY) are "
                  "refused: gia-kg sparql is read-only")
SERVICE_REFUSED = "SERVICE is refused: gia-kg sparql is local and never calls the network"


@dataclass(frozen=True)
class Limits:
    """What one ad-hoc query may use: seconds, result rows (or triples), MB of memory."""

    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB

    def check(self) -> None:
        """UsageError unless every limit is a positive, finite number."""
        if not (self.timeout > 0 and self.timeout < float("inf")):
            raise UsageError(f"--timeout {self.timeout:g}: expected a number of seconds > 0")
        if self.max_rows <= 0:
            raise UsageError(f"--max-rows {self.max_rows}: expected a whole number > 0")
        if self.max_memory_mb <= 0:
            raise UsageError(f"--max-memory {self.max_memory_mb}: expected a number of MB > 0")


def _is_update(text: str) -> bool:
    """Whether Oxigraph reads ``text`` as an update (run on an empty throwaway store; sandbox only)."""
    try:
        ox.Store().update(text, prefixes=SPARQL_PREFIXES)
    except SyntaxError:
        return False
    except Exception:  # parsed, then failed to run (e.g. LOAD without network): still an update
        return True
    return True


def _form_format(fmt: str | None, output: str | None, form: str) -> str:
    """The format for a result of ``form`` (table, boolean, graph): --format, -o's extension, default."""
    from kg import formats

    if form == "graph":
        if fmt is not None and formats.canonical(fmt) in formats.TABLE and \
                formats.canonical(fmt) not in formats.GRAPH:
            raise UsageError(f"--format {fmt}: a CONSTRUCT or DESCRIBE query gives "
                             f"{', '.join(formats.GRAPH)}")
        return formats.resolve(fmt, output, formats.GRAPH, "ttl", kind="graph")
    if fmt is not None and formats.canonical(fmt) in formats.GRAPH and \
            formats.canonical(fmt) not in formats.TABLE:
        what = "an ASK" if form == "boolean" else "a SELECT"
        raise UsageError(f"--format {fmt}: {what} query gives {', '.join(formats.TABLE)}")
    return formats.resolve(fmt, output, formats.TABLE, "text")


def _run(store: ox.Store, text: str, max_rows: int) -> ResultTable | bool | list[ox.Triple]:
    """Run one query (in the sandboxed child): a table, a boolean or triples, within ``max_rows``."""
    try:
        result = store.query(text, prefixes=SPARQL_PREFIXES)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        if isinstance(result, ox.QuerySolutions):
            return table_of(result, has_order_by(text), limit=max_rows)
        triples = []
        for triple in result:
            if len(triples) >= max_rows:
                raise too_many_rows(max_rows)
            triples.append(triple)
        return triples
    except SyntaxError as exc:
        if _is_update(text):
            raise QueryError(UPDATE_REFUSED) from None
        message = str(exc.args[0] if exc.args else exc)
        raise QueryError(unknown_prefix_message(text) or syntax_message(message)) from None
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        if sandbox.network_was_blocked(str(exc)):
            raise QueryError(SERVICE_REFUSED) from None
        raise QueryError(f"SPARQL evaluation failed: {exc}".splitlines()[0]) from None


def _format(result: ResultTable | bool | list[ox.Triple], fmt: str | None, output: str | None,
            terminal: object = None) -> str:
    """The text of a result in the format asked for (in the sandboxed child, within its limits)."""
    from kg import results

    if isinstance(result, bool):
        return results.format_boolean(result, _form_format(fmt, output, "boolean"))
    if isinstance(result, ResultTable):
        chosen = _form_format(fmt, output, "table")
        if terminal is not None and chosen == "text":
            return results.format_table(result, chosen, terminal=terminal)
        return results.format_table(result, chosen)
    return results.format_triples(result, _form_format(fmt, output, "graph"))


#: A prefixed name outside strings, IRIs and comments (which kg.engine's _NOT_CODE blanks out).
_PNAME = re.compile(r"(?<![\w?$:.\-@^])([A-Za-z][\w\-.]*?)?:(?=[\w%\\])")
_PREFIX_DECL = re.compile(r"\bPREFIX\s+([A-Za-z][\w\-.]*)?:", re.IGNORECASE)


def unknown_prefix_message(text: str) -> str | None:
    """``unknown prefix 'foo:' at line L, column C; predeclared: ...`` when the text uses one.

    Only words the error of a query that already failed (Oxigraph's own message is a parser dump).
    """
    from kg.engine import _NOT_CODE

    code = _NOT_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    declared = {m.group(1) or "" for m in _PREFIX_DECL.finditer(code)} | set(SPARQL_PREFIXES)
    for match in _PNAME.finditer(code):
        prefix = match.group(1) or ""
        if prefix.upper() in {"PREFIX", "BASE"} or prefix in declared:
            continue
        line = code.count("\n", 0, match.start()) + 1
        column = match.start() - (code.rfind("\n", 0, match.start()) + 1) + 1
        return (f"SPARQL syntax error at line {line}, column {column}: unknown prefix "
                f"'{prefix}:'; predeclared prefixes: {', '.join(sorted(SPARQL_PREFIXES))} "
                f"(declare others with PREFIX {prefix or 'ex'}: <...>)")
    return None


_COMMENT = re.compile(r"#[^\n]*")


def _check(text: str, limits: Limits) -> None:
    """Limits and an empty text refused before anything runs, locally or at an endpoint."""
    limits.check()
    if not _COMMENT.sub("", text).strip():  # only for a clearer message; Oxigraph would refuse it too
        raise QueryError("the SPARQL query is empty")


def _remote(text: str, limits: Limits) -> ResultTable | bool | list[ox.Triple] | None:
    """With ``--endpoint``: the endpoint's result of the text as is (None without an endpoint).

    The endpoint parses and runs it (an update fails at its query service; SERVICE and FROM are
    its own business); ``--timeout`` bounds the whole exchange, ``--max-rows`` the rows or
    triples, ``--max-memory`` the size of the answer. Nothing runs in the local sandbox.
    """
    endpoint = current_endpoint()
    if endpoint is None:
        return None
    _check(text, limits)
    remote = endpoint.with_limits(timeout=limits.timeout, max_bytes=limits.max_memory_mb << 20,
                                  timeout_option="--timeout", size_option="--max-memory")
    return remote.run(text, max_rows=limits.max_rows)


def _sandboxed(kg_dir: str | Path | None, text: str, limits: Limits, work) -> bytes:
    """Run ``work(store)`` in the sandbox within ``limits`` (see the module docstring)."""
    _check(text, limits)
    store = open_dataset(kg_dir).store
    return sandbox.run(
        lambda: work(store),
        timeout=limits.timeout,
        max_memory=limits.max_memory_mb << 20,
        timeout_message=f"query stopped after the --timeout of {limits.timeout:g} seconds "
        "(raise --timeout, or make the query more selective)",
        memory_message=f"the query needed more than the --max-memory of {limits.max_memory_mb} MB "
        "(raise --max-memory, or make the query more selective)",
    )


def answer(
    kg_dir: str | Path | None,
    text: str,
    fmt: str | None = None,
    limits: Limits = Limits(),
    *,
    output: str | None = None,
    terminal: object = None,
) -> str:
    """The formatted answer of one read-only query over the graph (see the module docstring).

    ``fmt`` None picks by ``output``'s extension, else text for tables and Turtle for graphs.
    With an endpoint set (``--endpoint``), the endpoint answers instead (see ``_remote``).
    """
    result = _remote(text, limits)
    if result is not None:
        return _format(result, fmt, output, terminal)
    return _sandboxed(kg_dir, text, limits, lambda store: _format(
        _run(store, text, limits.max_rows), fmt, output, terminal).encode("utf-8")).decode("utf-8")


def evaluate(
    kg_dir: str | Path | None, text: str, limits: Limits = Limits()
) -> ResultTable | bool | list[ox.Triple]:
    """The result of one read-only query as data: a ResultTable, a bool (ASK) or sorted triples.

    Same sandbox and limits as ``answer``; the child hands the result back as SPARQL JSON results
    (or N-Triples), parsed again here. With an endpoint set, the endpoint answers instead.
    """
    result = _remote(text, limits)
    if result is not None:
        return result

    def work(store: ox.Store) -> bytes:
        result = _run(store, text, limits.max_rows)
        if isinstance(result, bool):
            return b"B1" if result else b"B0"
        if isinstance(result, ResultTable):
            from kg.results import to_json

            return (b"O" if result.ordered else b"R") + to_json(result).encode("utf-8")
        return b"T" + "".join(f"{t} .\n" for t in result).encode("utf-8")

    data = _sandboxed(kg_dir, text, limits, work)
    kind, payload = data[:1], data[1:]
    if kind == b"B":
        return payload == b"1"
    if kind == b"T":
        return sorted((q.triple for q in ox.parse(payload, format=ox.RdfFormat.N_TRIPLES)), key=str)
    solutions = ox.parse_query_results(payload, format=ox.QueryResultsFormat.JSON)
    return table_of(solutions, kind == b"O")
