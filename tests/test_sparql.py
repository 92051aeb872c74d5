"""`gia-kg sparql`: read-only, local ad-hoc queries with the project prefixes predeclared."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kg import cli, sparql_guard
from kg.errors import QueryError

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "queries"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--kg", str(FIXTURE), "sparql", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_select_with_predeclared_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "SELECT ?l WHERE { tm:H gia:directlyStrongerThan ?t . "
                                 "?t gia:letter ?l }", "--format", "csv")
    assert (code, err) == (0, "")
    assert out == "l\r\nG\r\n"


def test_sees_ontology_and_inferred_triples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ASK { gia:Defense a owl:Class . tm:E gia:strongerThan tm:A }")
    assert (code, out) == (0, "true\n")
    code, out, _ = run(capsys, "ASK { tm:E gia:strongerThan tm:F }", "--format", "json")
    assert json.loads(out) == {"head": {}, "boolean": False}


def test_construct_and_describe_give_rdf(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "CONSTRUCT { ?a gia:threatModel tm:H } WHERE "
                               "{ ?a a gia:Attack ; gia:threatModel tm:H }", "--format", "nt")
    assert code == 0
    assert out == ("<https://w3id.org/gia-kg/id/attack/boenisch-2023-reconstructing-individual> "
                   "<https://w3id.org/gia-kg/ontology#threatModel> "
                   "<https://w3id.org/gia-kg/id/threat-model/H> .\n")
    code, out, _ = run(capsys, "DESCRIBE tm:H")
    assert code == 0 and "tm:H" in out and 'gia:letter "H"' in out
    code, _, err = run(capsys, "DESCRIBE tm:H", "--format", "csv")
    assert code == 2 and "a DESCRIBE query gives turtle, nt" in err


def test_query_from_file_and_stdin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "q.rq"
    path.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?a a gia:Attack }")
    assert run(capsys, "-f", str(path), "--format", "tsv")[1] == (
        '?n\n"8"^^<http://www.w3.org/2001/XMLSchema#integer>\n')
    monkeypatch.setattr("sys.stdin", io.StringIO("ASK { tm:A gia:letter 'A' }"))
    assert run(capsys, "-")[1] == "true\n"
    code, _, err = run(capsys, "-f", str(tmp_path / "missing.rq"))
    assert code == 2 and "missing.rq: cannot read" in err


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("INSERT DATA { tm:A gia:letter 'Z' }", "updates"),
        ("DELETE WHERE { ?s ?p ?o }", "updates"),
        ("LOAD <http://example.org/x.ttl>", "updates"),
        ("DROP ALL", "updates"),
        ("CLEAR DEFAULT", "updates"),
        ("CREATE GRAPH <http://example.org/g>", "updates"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { OPTIONAL { SERVICE SILENT <http://x.org/> { ?s ?p ?o } } }", "SERVICE"),
        ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
        ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM"),
        ("ASK FROM <file:///etc/passwd> { ?s ?p ?o }", "FROM"),
    ],
)
def test_refused_before_evaluation(
    capsys: pytest.CaptureFixture[str], query: str, message: str
) -> None:
    code, out, err = run(capsys, query)
    assert code == 2 and out == ""
    assert err.startswith("gia-kg: error: ") and message in err and "Traceback" not in err


def test_keywords_inside_literals_are_fine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, 'SELECT ?x WHERE { BIND("SERVICE <http://x> FROM INSERT" AS ?x) }',
                       "--format", "csv")
    assert code == 0 and out == "x\r\nSERVICE <http://x> FROM INSERT\r\n"


def test_guard_returns_the_query_form() -> None:
    assert sparql_guard.check_read_only("DESCRIBE <http://x.org/a>") == "DESCRIBE"
    with pytest.raises(QueryError, match="SERVICE"):
        sparql_guard.check_read_only(
            "SELECT * WHERE { ?s ?p ?o . FILTER EXISTS { SERVICE <http://x.org/> { ?s ?p ?o } } }"
        )


def test_syntax_error_has_line_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "SELECT ?s WHERE {\n  ?s ?p\n}")
    assert code == 2 and "SPARQL syntax error at line 2, column" in err


def test_evaluation_syntax_error_from_oxigraph_has_position() -> None:
    from kg.engine import open_dataset

    with pytest.raises(QueryError, match=r"SPARQL syntax error at line 1, column \d+"):
        open_dataset(FIXTURE).select("SELECT ?s WHERE { ?s nope:x ?o }")


def test_timeout_stops_a_runaway_query(capsys: pytest.CaptureFixture[str]) -> None:
    cross = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    code, out, err = run(capsys, cross, "--timeout", "0.5")
    assert code == 2 and out == ""
    assert "stopped after the --timeout of 0.5 seconds" in err
    code, _, err = run(capsys, "ASK {}", "--timeout", "0")
    assert code == 2 and "--timeout 0: expected a number of seconds > 0" in err


def test_exactly_one_query_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "exactly one of QUERY, -f FILE or -" in err
