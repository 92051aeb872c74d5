"""Every saved query, with every parameter combination, gives the same rows in rdflib and Oxigraph.

rdflib's SPARQL engine has known wrong-answer cases (see /work/shared/PITFALLS.md); two engines
agreeing is evidence the queries are portable SPARQL 1.1 and that neither engine is wrong here.
Parameters go to rdflib as ``initBindings`` and to Oxigraph written into the query text
(kg.queries.bind_text): two independent binding mechanisms as well as two engines.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery

from kg import queries
from kg.engine import is_ref_column, open_dataset
from kg.loading import load_graph
from kg.namespaces import SPARQL_PREFIXES

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "queries"
DATA = ROOT / "kg" / "data"
FOLDERS = [pytest.param(FIXTURE, id="fixture")]
if all((DATA / n).is_file() for n in ("attacks.ttl", "defenses.ttl", "inferred.ttl")):
    FOLDERS.append(pytest.param(DATA, id="kg-data"))

CATALOG = queries.load_catalog()
#: Values tried for string parameters: reference numbers, labels, and values matching nothing.
STRING_VALUES = ["1", "6", "14", "22", "28", "31", "36", "yue et al. (2023)",
                 "Boenisch et al. (2023)", "no such attack", '14" || true'] + [str(n) for n in
                                                                                   range(2, 37, 5)]


def combinations(query: queries.SavedQuery, vocab: queries.Vocabulary) -> list[dict[str, str]]:
    """Every combination of every parameter's values (letters, levels, a list of strings)."""
    choices = []
    for param in query.params:
        allowed = param.choices(vocab)
        if allowed is not None:
            choices.append([(param.name, v) for v in allowed])
        elif param.type == "string":
            choices.append([(param.name, v) for v in STRING_VALUES])
        else:
            raise AssertionError(f"{query.name}: no test values for type {param.type}")
    return [dict(combo) for combo in itertools.product(*choices)]


def _rdflib_term(term: object) -> object:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    assert isinstance(term, ox.Literal)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def _normalise(column: str, text: str) -> str:
    if is_ref_column(column) and text:
        return ",".join(sorted(text.split(","), key=int))
    return text


def rdflib_rows(graph: object, prepared: object, bindings: dict) -> list[tuple[str, ...]]:
    init = {Variable(k): _rdflib_term(v) for k, v in bindings.items()}
    result = graph.query(prepared, initBindings=init)  # type: ignore[attr-defined]
    names = [str(v) for v in result.vars]
    keep = [i for i, n in enumerate(names) if n not in bindings]
    rows = [
        tuple(_normalise(names[i], "" if row[i] is None else str(row[i])) for i in keep)
        for row in result
    ]
    return sorted(rows)


@pytest.fixture(scope="module", params=FOLDERS)
def engines(request: pytest.FixtureRequest) -> tuple[Path, object, object]:
    folder = request.param
    return folder, load_graph(folder), open_dataset(folder)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_rdflib_and_oxigraph_agree(engines: tuple, name: str) -> None:
    folder, graph, dataset = engines
    query = CATALOG[name]
    vocab = queries.vocabulary(dataset)
    combos = combinations(query, vocab)
    prepared = prepareQuery(query.text, initNs=SPARQL_PREFIXES)  # parsed once, run per combination
    nonempty = 0
    for values in combos:
        bindings = query.bindings(values, vocab)
        table = dataset.select(query.bind(values, vocab))  # written into the text
        ours = sorted(table.text_rows())
        theirs = rdflib_rows(graph, prepared, bindings)
        assert ours == theirs, f"{name} {values} on {folder.name}"
        nonempty += bool(ours)
    assert nonempty, f"{name}: every combination returned no rows; the comparison proves nothing"


def test_parameter_grid_is_complete() -> None:
    vocab = queries.vocabulary(open_dataset())
    grid = combinations(CATALOG["defenses-cover-but-not"], vocab)
    assert len(grid) == 8 * 8 * 2  # covered × uncovered over A-H, × min_level effective|partial
    assert len(combinations(CATALOG["attacks-feasible"], vocab)) == 8
