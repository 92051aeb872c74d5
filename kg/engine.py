"""The fast query path: the graph in a pyoxigraph Store, SPARQL run by Oxigraph.

This module must not import rdflib, owlready2 or pyshacl (``import rdflib`` alone costs more than
a whole Oxigraph query). ``open_dataset`` is the single entry point; it opens the on-disk store
that kg.store keeps in step with the Turtle sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

import pyoxigraph as ox

from kg.errors import QueryError
from kg.loading import instance_files
from kg.namespaces import SPARQL_PREFIXES
from kg.paths import ONTOLOGY_FILE

if TYPE_CHECKING:
    from kg.remote import RemoteDataset

#: A pyoxigraph RDF term.
Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]  # noqa: UP007 (py3.10 alias)

XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_NUMBER_LIST = re.compile(r"^[0-9]+(,[0-9]+)*$")
#: Memory a sandboxed query may use beyond what the process had (bytes); the CLI's --max-memory.
DEFAULT_MAX_MEMORY = 2048 << 20


def is_ref_column(name: str) -> bool:
    """Columns ``ref`` and ``*_ref`` hold SoK reference numbers: ``"42,43"``, ascending."""
    return name == "ref" or name.endswith("_ref")

# Strings, IRIs and comments are removed before looking for ORDER BY, so a literal cannot fool it.
_NOT_CODE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
                       r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>|#[^\n]*")
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)


_OX_POSITION = re.compile(r"^error at (\d+):(\d+):\s*")


def syntax_message(text: str) -> str:
    """Oxigraph's ``error at 2:11: ...`` as ``SPARQL syntax error at line 2, column 11: ...``."""
    match = _OX_POSITION.match(text)
    if match:
        line, col = match.groups()
        text = f"at line {line}, column {col}: {text[match.end():]}"
    return f"SPARQL syntax error {text}".splitlines()[0]


def has_order_by(query: str) -> bool:
    """True when the query fixes its own row order (then results are not re-sorted)."""
    return bool(_ORDER_BY.search(_NOT_CODE.sub(" ", query)))


def term_text(term: Term | None) -> str:
    """Plain text of a term: IRI, literal lexical form, ``_:id`` for blank nodes, "" for unbound."""
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def sort_key(row: tuple[Term | None, ...]) -> tuple:
    """A total, engine-independent order: numbers (and ``42,43`` lists) numerically, then text."""
    key: list[tuple[int, tuple[int, ...], str]] = []
    for term in row:
        text = term_text(term)
        if term is None:
            key.append((0, (), ""))
        elif isinstance(term, ox.Literal) and _NUMBER_LIST.match(text):
            key.append((1, tuple(int(n) for n in text.split(",")), text))
        else:
            key.append((2, (), text))
    return tuple(key)


@dataclass
class ResultTable:
    """Rows of a SELECT: column names (without '?') and pyoxigraph terms (None when unbound)."""

    columns: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    #: True when the query had ORDER BY: the row order is the query's and is kept.
    ordered: bool = False

    def sorted_rows(self) -> list[tuple[Term | None, ...]]:
        """Rows in the query's order if it has ORDER BY, else in a deterministic order."""
        return list(self.rows) if self.ordered else sorted(self.rows, key=sort_key)

    def text_rows(self) -> list[tuple[str, ...]]:
        """Rows as plain strings (see ``term_text``), in ``sorted_rows`` order."""
        return [tuple(term_text(t) for t in row) for row in self.sorted_rows()]

    def dicts(self) -> list[dict[str, str]]:
        """Rows as ``{column: text}``, leaving out unbound cells."""
        return [
            {c: term_text(t) for c, t in zip(self.columns, row, strict=True) if t is not None}
            for row in self.sorted_rows()
        ]

    def column(self, name: str) -> list[str]:
        """The plain-text values of one column, in ``sorted_rows`` order."""
        i = self.columns.index(name)
        return [term_text(row[i]) for row in self.sorted_rows()]


def _sorted_ref_list(term: Term | None) -> Term | None:
    """``"43,42"`` → ``"42,43"``: GROUP_CONCAT's order is undefined, the contract's is ascending."""
    if not isinstance(term, ox.Literal) or "," not in term.value:
        return term
    parts = [p.strip() for p in term.value.split(",")]
    if not all(p.isascii() and p.isdigit() for p in parts):
        return term
    text = ",".join(str(n) for n in sorted({int(p) for p in parts}))
    return ox.Literal(text, datatype=term.datatype)


def too_many_rows(limit: int) -> QueryError:
    """The error for a result over ``--max-rows``."""
    return QueryError(f"the result has more than {limit} rows, the --max-rows limit "
                      "(add LIMIT to the query, or raise --max-rows)")


def table_of(
    solutions: ox.QuerySolutions, ordered: bool, hidden: Iterable[str] = (), limit: int | None = None
) -> ResultTable:
    """A ResultTable of Oxigraph's solutions; more than ``limit`` rows is a QueryError."""
    names = [v.value for v in solutions.variables]
    hide = set(hidden)
    keep = [i for i, n in enumerate(names) if n not in hide]
    refs = {i for i in keep if is_ref_column(names[i])}
    rows = []
    for solution in solutions:
        if limit is not None and len(rows) >= limit:
            raise too_many_rows(limit)
        rows.append(tuple(
            _sorted_ref_list(solution[i]) if i in refs else solution[i] for i in keep
        ))
    return ResultTable([names[i] for i in keep], rows, ordered)


class Dataset:
    """The ontology + instance data (+ inferred triples) in one pyoxigraph Store (read-only, on disk)."""

    def __init__(self, store: ox.Store, files: list[Path]) -> None:
        self.store = store
        #: The files loaded, in load order (ontology first).
        self.files = files
        #: Per-dataset memo of derived read-only answers (e.g. parameter vocabularies): the
        #: store never changes once opened.
        self.memo: dict[object, object] = {}

    def __len__(self) -> int:
        return len(self.store)

    def _query(self, query: str, timeout: float | None) -> object:
        try:
            if timeout is None:
                return self.store.query(query, prefixes=SPARQL_PREFIXES)
            return _query_with_timeout(self.store, query, timeout)
        except SyntaxError as exc:
            raise QueryError(syntax_message(str(exc.args[0] if exc.args else exc))) from None
        except (RuntimeError, OSError, ValueError, TypeError) as exc:
            raise QueryError(f"SPARQL evaluation failed: {exc}".splitlines()[0]) from None

    def select(self, query: str, *, timeout: float | None = None) -> ResultTable:
        """Run a SELECT (parameters are already in the text: kg.queries.prepare)."""
        result = self._query(query, timeout)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        return table_of(result, has_order_by(query))

    def ask(self, query: str, *, timeout: float | None = None) -> bool:
        """Run an ASK query."""
        result = self._query(query, timeout)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def run(
        self, query: str, *, timeout: float | None = None
    ) -> ResultTable | bool | list[ox.Triple]:
        """Any query form: a ResultTable (SELECT), a bool (ASK), triples (CONSTRUCT/DESCRIBE)."""
        result = self._query(query, timeout)
        if isinstance(result, ox.QuerySolutions):
            return table_of(result, has_order_by(query))
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        return sorted(result, key=str)


# ------------------------------------------------------------------ timeout


def _query_with_timeout(
    store: ox.Store, query: str, timeout: float
) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
    """Evaluate in the sandbox (kg.sandbox): a child without network, killed after ``timeout`` seconds.

    Oxigraph cannot be interrupted from Python; the child's results come back serialized (SPARQL
    JSON results, or N-Triples) and are parsed again here.
    """
    from kg import sandbox

    def work() -> bytes:
        try:
            result = store.query(query, prefixes=SPARQL_PREFIXES)
            if isinstance(result, ox.QueryTriples):
                return b"T" + (ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b"")
            return b"R" + (result.serialize(format=ox.QueryResultsFormat.JSON) or b"")
        except SyntaxError as exc:
            raise QueryError(syntax_message(str(exc.args[0] if exc.args else exc))) from None
        except (RuntimeError, OSError, ValueError, TypeError) as exc:
            raise QueryError(f"SPARQL evaluation failed: {exc}".splitlines()[0]) from None

    data = sandbox.run(
        work,
        timeout=timeout,
        max_memory=DEFAULT_MAX_MEMORY,
        timeout_message=f"query stopped after the --timeout of {timeout:g} seconds "
        "(raise --timeout, or make the query more selective)",
        memory_message="the query needed more memory than the limit of "
        f"{DEFAULT_MAX_MEMORY >> 20} MB (make it more selective)",
    )
    kind, payload = data[:1], data[1:]
    if kind == b"T":
        return [q.triple for q in ox.parse(payload, format=ox.RdfFormat.N_TRIPLES)]
    return ox.parse_query_results(payload, format=ox.QueryResultsFormat.JSON)


# ------------------------------------------------------------------ opening

_CACHE: dict[tuple[str, bool, tuple, bool], Dataset] = {}
#: The remote SPARQL endpoint (a kg.remote.RemoteDataset, same select/ask/run) that open_dataset
#: answers with while set: the CLI's --endpoint URL.
_ENDPOINT: RemoteDataset | None = None


def use_endpoint(url: str | None, *, timeout: float | None = None) -> None:
    """Make ``open_dataset`` answer from the SPARQL 1.1 endpoint at ``url``; None: the local store.

    kg.remote (HTTP) is imported only here, so the local query path never loads it.
    """
    global _ENDPOINT
    if url is None:
        _ENDPOINT = None
        return
    from kg import remote

    _ENDPOINT = remote.RemoteDataset(url, timeout=remote.DEFAULT_TIMEOUT if timeout is None else timeout)


def current_endpoint() -> RemoteDataset | None:
    """The endpoint set by ``use_endpoint``, if any."""
    return _ENDPOINT


def dataset_files(kg_dir: str | Path | None = None, *, inferred: bool = True) -> list[Path]:
    """The files a dataset loads: the ontology and the crosswalk (kg.mappings), then the data
    folder's sorted *.ttl files (last: kg.store keys a store by the data folder of the last file)."""
    from kg.mappings import crosswalk_files  # beside the ontology, whatever the data folder

    return [ONTOLOGY_FILE, *crosswalk_files(), *instance_files(kg_dir, inferred=inferred)]


def open_dataset(
    kg_dir: str | Path | None = None, *, inferred: bool = True, in_memory: bool = False
) -> Dataset:
    """The graph as a queryable Dataset; parsed once per process and folder.

    ``in_memory`` loads it into an in-memory Store instead of opening the on-disk one: 4-5x
    faster for queries that scan the corpus, for long-lived processes (serve, notebooks,
    benchmarks of the warm path) that can pay the load once.

    While an endpoint is set (``use_endpoint``), the answer is that endpoint's RemoteDataset: it
    holds the exported graph with its inferred triples, whatever the arguments.
    """
    if _ENDPOINT is not None:
        return _ENDPOINT  # type: ignore[return-value] (same select/ask/run interface)
    files = dataset_files(kg_dir, inferred=inferred)
    from kg import store as _store  # on-disk Oxigraph store, rebuilt when its sources change

    key = (str(files[-1].parent.resolve()), inferred, _store.stat_signature(files), in_memory)
    if key in _CACHE:
        return _CACHE[key]
    store = _store.memory_store(files) if in_memory else _store.open_store(files)
    _CACHE[key] = Dataset(store, files)
    return _CACHE[key]
