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
from kg.engine import DEFAULT_MAX_MEMORY, has_order_by, open_dataset, syntax_message, table_of, too_many_rows
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


def _evaluate(store: ox.Store, text: str, fmt: str | None, max_rows: int) -> str:
    """Run and format one query (in the sandboxed child)."""
    from kg import results

    try:
        result = store.query(text, prefixes=SPARQL_PREFIXES)
        if isinstance(result, ox.QueryBoolean):
            return results.format_boolean(bool(result), fmt or "table")
        if isinstance(result, ox.QuerySolutions):
            table = table_of(result, has_order_by(text), limit=max_rows)
            if fmt in results.GRAPH_FORMATS:
                raise UsageError(f"--format {fmt}: a SELECT query gives {', '.join(results.TABLE_FORMATS)}")
            return results.format_table(table, fmt or "table")
        triples = []
        for triple in result:
            if len(triples) >= max_rows:
                raise too_many_rows(max_rows)
            triples.append(triple)
        if fmt is not None and fmt not in results.GRAPH_FORMATS:
            raise UsageError(
                f"--format {fmt}: a CONSTRUCT or DESCRIBE query gives {', '.join(results.GRAPH_FORMATS)}")
        return results.format_triples(triples, fmt or "turtle")
    except SyntaxError as exc:
        if _is_update(text):
            raise QueryError(UPDATE_REFUSED) from None
        raise QueryError(syntax_message(str(exc.args[0] if exc.args else exc))) from None
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        if sandbox.network_was_blocked(str(exc)):
            raise QueryError(SERVICE_REFUSED) from None
        raise QueryError(f"SPARQL evaluation failed: {exc}".splitlines()[0]) from None


_COMMENT = re.compile(r"#[^\n]*")


def answer(kg_dir: str | Path | None, text: str, fmt: str | None = None, limits: Limits = Limits()) -> str:
    """The formatted answer of one read-only query over the graph (see the module docstring)."""
    limits.check()
    if not _COMMENT.sub("", text).strip():  # only for a clearer message; Oxigraph would refuse it too
        raise QueryError("the SPARQL query is empty")
    store = open_dataset(kg_dir).store
    out = sandbox.run(
        lambda: _evaluate(store, text, fmt, limits.max_rows).encode("utf-8"),
        timeout=limits.timeout,
        max_memory=limits.max_memory_mb << 20,
        timeout_message=f"query stopped after the --timeout of {limits.timeout:g} seconds "
        "(raise --timeout, or make the query more selective)",
        memory_message=f"the query needed more than the --max-memory of {limits.max_memory_mb} MB "
        "(raise --max-memory, or make the query more selective)",
    )
    return out.decode("utf-8")
