"""Read-only checks for ad-hoc SPARQL (``gia-kg sparql``), done on the parsed query.

A query is refused before evaluation when it is an update (INSERT, DELETE, LOAD, CLEAR, DROP,
CREATE, ...), or uses SERVICE (a network call) or FROM / FROM NAMED (graphs from elsewhere).
The parse tree is inspected, not the text, so ``"SERVICE"`` inside a string literal is fine.
rdflib's SPARQL parser is used for the tree (this command is not on the fast ``query`` path).
"""

from __future__ import annotations

import re
from typing import Any

from kg.errors import QueryError

#: Parse-tree node names that are refused, with the reason given to the user.
REFUSED_NODES = {
    "ServiceGraphPattern": "SERVICE is refused: gia-kg sparql is local and never calls the network",
    "DatasetClause": "FROM / FROM NAMED is refused: queries run over the local graph only",
}

QUERY_FORMS = {
    "SelectQuery": "SELECT",
    "ConstructQuery": "CONSTRUCT",
    "AskQuery": "ASK",
    "DescribeQuery": "DESCRIBE",
}


def _walk(node: Any) -> Any:
    """Every node of an rdflib/pyparsing parse tree, depth first."""
    yield node
    if isinstance(node, dict):
        for child in list(node.values()):
            yield from _walk(child)
    elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        for child in list(node):
            yield from _walk(child)


def _node_name(node: Any) -> str | None:
    return getattr(node, "name", None) if type(node).__name__ == "CompValue" else None


def check_read_only(text: str) -> str:
    """Raise QueryError unless ``text`` is one read-only local query; return its form."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    if not re.sub(r"#[^\n]*", "", text).strip():
        raise QueryError("the SPARQL query is empty")
    try:
        tree = parseQuery(text)
    except ParseException as exc:
        try:
            parseUpdate(text)
        except ParseException:
            raise QueryError(
                f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: "
                f"{exc.msg} (near {exc.line.strip()[:60]!r})"
            ) from None
        raise QueryError(
            "SPARQL updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY) are "
            "refused: gia-kg sparql is read-only"
        ) from None
    except Exception as exc:  # rdflib raises other types for e.g. bad IRIs or escapes
        raise QueryError(f"SPARQL syntax error: {exc}".splitlines()[0]) from None
    form = None
    for node in _walk(tree):
        name = _node_name(node)
        if name in REFUSED_NODES:
            raise QueryError(REFUSED_NODES[name])
        if name in QUERY_FORMS and form is None:
            form = QUERY_FORMS[name]
    if form is None:
        raise QueryError("expected one SELECT, ASK, CONSTRUCT or DESCRIBE query")
    return form
