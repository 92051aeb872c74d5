"""`gia-kg sparql`: read-only, local ad-hoc queries with the project prefixes predeclared."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kg import cli
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
    assert code == 2 and "a CONSTRUCT or DESCRIBE query gives ttl, nt, jsonld, xml" in err


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
    assert code == 2 and "missing.rq: file not found" in err


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("INSERT DATA { tm:A gia:letter 'Z' }", "updates"),
        ("DELETE WHERE { ?s ?p ?o }", "updates"),
        ("LOAD <http://127.0.0.1:9/x.ttl>", "updates"),
        ("DROP ALL", "updates"),
        ("CLEAR DEFAULT", "updates"),
        ("CREATE GRAPH <http://example.org/g>", "updates"),
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:65531/sparql> { ?s ?p ?o } }", "SERVICE"),
    ],
)
def test_refused(capsys: pytest.CaptureFixture[str], query: str, message: str) -> None:
    code, out, err = run(capsys, query)
    assert code == 2 and out == ""
    assert err.startswith("gia-kg: error: ") and message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_service_silent_is_a_failed_call_that_is_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    # SPARQL 1.1 Federated Query: SILENT ignores the failure, so the OPTIONAL keeps one empty row.
    code, out, _ = run(capsys, "SELECT * WHERE { OPTIONAL { SERVICE SILENT <http://127.0.0.1:65531/> "
                               "{ ?s ?p ?o } } }", "--format", "csv")
    assert (code, out) == (0, "o,p,s\r\n,,\r\n")


@pytest.mark.parametrize(
    "dataset", ["FROM <http://127.0.0.1:65531/g>", "FROM NAMED <http://127.0.0.1:65531/g>",
                "FROM <file:///etc/passwd>"],
)
def test_from_names_only_local_graphs(capsys: pytest.CaptureFixture[str], dataset: str) -> None:
    # The fixture store holds only the default graph: a dataset clause selects an empty graph.
    code, out, _ = run(capsys, f"SELECT (COUNT(*) AS ?n) {dataset} WHERE {{ ?s ?p ?o }}", "--format", "csv")
    assert (code, out) == (0, "n\r\n0\r\n")


def test_keywords_inside_literals_are_fine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, 'SELECT ?x WHERE { BIND("SERVICE <http://x> FROM INSERT" AS ?x) }',
                       "--format", "csv")
    assert code == 0 and out == "x\r\nSERVICE <http://x> FROM INSERT\r\n"


def test_escapes_and_comments_read_as_oxigraph_reads_them(capsys: pytest.CaptureFixture[str]) -> None:
    # rdflib read this as harmless; Oxigraph runs the SERVICE: the sandbox refuses the connection.
    query = ('SELECT * WHERE { BIND("\\u0022" AS ?q)\n{ ?s a <urn:none> } UNION '
             '{ SERVICE <http://127.0.0.1:65531/sparql> { ?x ?y ?z } }\n# """ AS ?h)\n}\n')
    code, _, err = run(capsys, query)
    assert code == 2 and "SERVICE is refused" in err


def test_row_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "SELECT * WHERE { ?s ?p ?o }", "--max-rows", "5")
    assert code == 2 and out == "" and "more than 5 rows, the --max-rows limit" in err
    code, out, err = run(capsys, "CONSTRUCT WHERE { ?s ?p ?o }", "--max-rows", "5")
    assert code == 2 and "more than 5 rows" in err
    code, out, _ = run(capsys, "SELECT * WHERE { ?s ?p ?o } LIMIT 5", "--max-rows", "5", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 6


def test_memory_limit(capsys: pytest.CaptureFixture[str]) -> None:
    doubling = ("SELECT (STRLEN(?s) AS ?n) WHERE { BIND(\"xxxxxxxxxxxxxxxx\" AS ?a0) "
                + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(31))
                + " BIND(?a31 AS ?s) }")
    code, out, err = run(capsys, doubling, "--max-memory", "256")
    assert code == 2 and out == ""
    assert "needed more than the --max-memory of 256 MB" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("flag", [["--max-rows", "0"], ["--max-memory", "-1"], ["--timeout", "nan"]])
def test_limits_must_be_positive(capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    code, _, err = run(capsys, "ASK {}", *flag)
    assert code == 2 and f"{flag[0]} " in err and "expected" in err


def test_syntax_error_has_line_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "SELECT ?s WHERE {\n  ?s ?p\n}")
    assert code == 2 and "SPARQL syntax error at line 3, column 2" in err


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
