"""One interface (issue 13): format names and aliases, -o everywhere, formats from extensions,
SPARQL XML results, ASK without CSV/TSV, messages that say what to do, refused options, progress.

Expected values are written by hand from the SoK tables (tests/fixtures/sok, 2025-09-02): 21
defense rows, 8 threat models A-H; defenses effective against E but not F: [40] only.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kg import progress
from kg.cli import FORMAT_CHOICES, main

SRX = "{http://www.w3.org/2005/sparql-results#}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error(err: str) -> str:
    assert err.startswith("gia-kg: error: ") and err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------- names and aliases


@pytest.mark.parametrize(
    ("argv", "alias", "name"),
    [
        (["query", "coverage-matrix"], "table", "text"),
        (["query", "coverage-matrix"], "markdown", "md"),
        (["query", "coverage-matrix"], "CSV", "csv"),
        (["export"], "turtle", "ttl"),
        (["export"], "ntriples", "nt"),
        (["export"], "json-ld", "jsonld"),
        (["export"], "nquads", "nq"),
        (["sparql", "CONSTRUCT WHERE { tm:G ?p ?o }"], "turtle", "ttl"),
        (["sparql", "SELECT ?l WHERE { ?t gia:letter ?l }"], "table", "text"),
        (["validate"], "turtle", "ttl"),
        (["audit"], "table", "text"),
    ],
)
def test_aliases_give_the_documented_format(
    capsys: pytest.CaptureFixture[str], argv: list[str], alias: str, name: str
) -> None:
    code_a, out_a, _ = run(capsys, *argv, "--format", alias)
    code_n, out_n, _ = run(capsys, *argv, "--format", name)
    assert code_a == code_n and code_a in (0, 1)  # validate exits 0 (conforms)
    assert out_a == out_n and out_a


def test_format_help_lists_choices_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "ttl (default), nt, jsonld, xml, trig, nq" in flat
    code, out, _ = run(capsys, "audit", "--help")
    assert "text (default), csv, tsv, json, xml, md" in " ".join(out.split())


# ---------------------------------------------------------------- -o FILE and extensions


@pytest.mark.parametrize(
    "argv",
    [
        ["order"], ["validate"], ["assess", "--threat-model", "D"], ["audit"], ["queries"],
        ["query", "coverage-matrix"], ["sparql", "SELECT ?l WHERE { ?t gia:letter ?l }"],
        ["export"], ["tables"],
    ],
)
def test_every_printing_command_takes_o_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    target = tmp_path / ("out.ttl" if argv == ["export"] else "out.txt")
    code, out, _ = run(capsys, *argv, "-o", str(target))
    assert code == 0 and out == ""
    assert target.stat().st_size > 0


def test_format_follows_the_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    nt = tmp_path / "graph.nt"
    assert run(capsys, "export", "-o", str(nt))[0] == 0
    first = nt.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("<") and first.endswith(" .") and "@prefix" not in nt.read_text()

    srj = tmp_path / "m.json"
    assert run(capsys, "query", "coverage-matrix", "-o", str(srj))[0] == 0
    doc = json.loads(srj.read_text(encoding="utf-8"))
    assert doc["head"]["vars"][:2] == ["ref", "label"]
    assert len(doc["results"]["bindings"]) == 21

    jsonld = tmp_path / "g.json"  # .json for a graph is JSON-LD
    code, _, _ = run(capsys, "sparql", "CONSTRUCT WHERE { tm:G gia:letter ?l }", "-o", str(jsonld))
    assert code == 0 and "@context" in jsonld.read_text(encoding="utf-8")

    dot = tmp_path / "order.dot"
    assert run(capsys, "order", "-o", str(dot))[0] == 0
    assert dot.read_text(encoding="utf-8").splitlines()[1].startswith("digraph")


def test_an_extension_the_command_cannot_write_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "export", "-o", str(tmp_path / "x.csv"))
    assert code == 2 and out == ""
    assert "does not write .csv files" in one_error(err)
    assert not (tmp_path / "x.csv").exists()


def test_explicit_format_wins_over_the_extension(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "x.txt"
    assert run(capsys, "query", "coverage-matrix", "--format", "csv", "-o", str(target))[0] == 0
    assert target.read_bytes().startswith(b"ref,label,A,B,C,D,E,F,G,H,defense\r\n")


# ---------------------------------------------------------------- SPARQL results XML, ASK


def test_select_as_sparql_results_xml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "defenses-cover-but-not", "-p", "covered=E",
                       "-p", "uncovered=F", "--format", "xml")
    assert code == 0
    root = ET.fromstring(out)
    assert [v.get("name") for v in root.iter(f"{SRX}variable")][:2] == ["ref", "label"]
    results = list(root.iter(f"{SRX}result"))
    assert len(results) == 1
    ref = next(b for b in results[0] if b.get("name") == "ref")
    assert ref.find(f"{SRX}literal").text == "40"
    defense = next(b for b in results[0] if b.get("name") == "defense")
    assert defense.find(f"{SRX}uri").text.startswith("https://w3id.org/gia-kg/id/defense/")


def test_sparql_xml_is_read_by_rdflib(capsys: pytest.CaptureFixture[str]) -> None:
    """A second, independent reader of the XML results: rdflib's parser."""
    import io

    from rdflib.query import Result

    code, out, _ = run(capsys, "sparql", "SELECT ?l WHERE { ?t gia:letter ?l } ORDER BY ?l",
                       "--format", "xml")
    assert code == 0
    parsed = Result.parse(io.BytesIO(out.encode("utf-8")), format="xml")
    assert [str(row[0]) for row in parsed] == list("ABCDEFGH")


def test_ask_in_json_and_xml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sparql", "ASK { tm:G gia:strongerThan tm:A }", "--format", "json")
    assert code == 0 and json.loads(out) == {"head": {}, "boolean": True}
    code, out, _ = run(capsys, "sparql", "ASK { tm:A gia:strongerThan tm:G }", "--format", "xml")
    assert code == 0 and ET.fromstring(out).find(f"{SRX}boolean").text == "false"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_ask_has_no_csv_or_tsv(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, err = run(capsys, "sparql", "ASK { ?s ?p ?o }", "--format", fmt)
    assert code == 2 and out == ""
    assert "ASK results have no CSV or TSV form" in one_error(err)


@pytest.mark.parametrize(("fmt", "marker"), [("jsonld", '"@context"'), ("xml", "<rdf:RDF")])
def test_construct_as_jsonld_and_rdfxml(
    capsys: pytest.CaptureFixture[str], fmt: str, marker: str
) -> None:
    import pyoxigraph as ox

    code, out, _ = run(capsys, "sparql", "CONSTRUCT WHERE { tm:G gia:letter ?l }", "--format", fmt)
    assert code == 0 and marker in out
    syntax = ox.RdfFormat.JSON_LD if fmt == "jsonld" else ox.RdfFormat.RDF_XML
    triples = [q.triple for q in ox.parse(out.encode(), format=syntax)]
    assert [(t.subject.value, t.object.value) for t in triples] == [
        ("https://w3id.org/gia-kg/id/threat-model/G", "G")]


def test_a_table_format_for_a_graph_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sparql", "CONSTRUCT WHERE { tm:G ?p ?o }", "--format", "csv")
    assert code == 2 and "a CONSTRUCT or DESCRIBE query gives ttl, nt, jsonld, xml" in one_error(err)


# ---------------------------------------------------------------- audit and assess formats


@pytest.mark.parametrize(("fmt", "head"), [
    ("tsv", "?finding\t?ref\t?label\t?evidence"),
    ("md", "| finding | ref | label | evidence |"),
])
def test_audit_tsv_and_md(capsys: pytest.CaptureFixture[str], fmt: str, head: str) -> None:
    code, out, _ = run(capsys, "audit", "--format", fmt)
    assert code == 0 and out.splitlines()[0] == head


# ---------------------------------------------------------------- messages


def test_unknown_prefix_names_it_and_lists_the_predeclared(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "sparql", "SELECT * WHERE {\n  ?s dc:title ?t }")
    assert code == 2
    line = one_error(err)
    assert "line 2, column 6: unknown prefix 'dc:'" in line
    assert "predeclared prefixes: adv, assessment, attack" in line and "dcterms" in line
    assert "expected one of" not in line


def test_a_declared_prefix_is_not_reported_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sparql",
                       'PREFIX ex: <http://example.org/> SELECT ("a:b" AS ?x) WHERE { }')
    assert code == 0 and "a:b" in out


def test_sparql_help_lists_the_predeclared_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sparql", "--help")
    flat = " ".join(out.split())
    assert code == 0 and "Predeclared prefixes: adv, assessment, attack, cap," in flat


def test_a_file_given_as_query_text_suggests_f(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    query = tmp_path / "q.rq"
    query.write_text("SELECT * WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    code, _, err = run(capsys, "sparql", str(query))
    assert code == 2 and f"use: gia-kg sparql -f {query}" in one_error(err)
    code, _, err = run(capsys, "sparql", "missing.rq")
    assert code == 2 and "neither query text nor an existing file" in one_error(err)


@pytest.mark.parametrize("argv", [
    ["import-sok", "--kg", "kg/data", "README.md", "-o", "out"],
    ["--kg", "kg/data", "import-sok", "README.md", "-o", "out"],
    ["--kg", "kg/data", "diff", "a.md", "b.md"],
    ["cache", "list", "--kg", "kg/data"],
])
def test_options_a_command_does_not_use_are_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and "does not read a graph: --kg is not used here" in one_error(err)
    assert not (tmp_path / "out").exists()


def test_an_empty_answer_says_what_it_means(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "defenses-cover-but-not", "-p", "covered=G",
                       "-p", "uncovered=H")
    assert code == 0
    assert out.splitlines()[-2:] == [
        "(0 rows)",
        "No defense is rated at least effective against G and below it against H; every "
        "defense that holds against G also holds against H.",
    ]
    code, out, _ = run(capsys, "query", "defenses-cover-but-not", "-p", "covered=G",
                       "-p", "uncovered=H", "--format", "csv")
    assert out == "ref,label,covered_level,uncovered_level,defense\r\n"  # data formats stay pure


# ---------------------------------------------------------------- progress on stderr


@pytest.fixture
def instant_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.delenv("GIA_KG_QUIET", raising=False)


def test_long_steps_say_what_they_do(capsys: pytest.CaptureFixture[str], instant_progress) -> None:
    code, out, err = run(capsys, "validate")
    assert code == 0
    assert "gia-kg: validating with pySHACL...\n" in err
    assert "gia-kg: validating with pySHACL: done in " in err
    assert out.startswith("conforms: 0 violation(s)")


def test_quiet_silences_progress(capsys: pytest.CaptureFixture[str], instant_progress) -> None:
    for argv in (["-q", "validate"], ["validate", "-q"]):
        code, _, err = run(capsys, *argv)
        assert code == 0 and err == "", argv


def test_every_format_command_is_in_the_table() -> None:
    assert set(FORMAT_CHOICES) == {"order", "validate", "assess", "audit", "queries", "query",
                                   "export", "diff"}


# ---------------------------------------------------------------- assess csv, query help, queries json


def test_assess_csv_is_one_row_per_attack_and_rating(capsys: pytest.CaptureFixture[str]) -> None:
    """Threat model D: 22 attacks of A-D (SoK attack table), and 21 defenses rated against D."""
    code, out, _ = run(capsys, "assess", "--threat-model", "D", "--format", "csv")
    assert code == 0
    lines = out.split("\r\n")
    assert lines[0] == "section,ref,label,threat_model,technique,level"
    rows = [line for line in lines[1:] if line]
    assert sum(r.startswith("attack,") for r in rows) == 22
    assert sum(r.startswith("defense,") for r in rows) == 21
    assert "attack,1,Zhu et al. (2019),A,Basic Optimization," in rows
    assert any(r.startswith("defense,40,") and r.endswith(",D,,effective") for r in rows)


def test_query_name_help_is_that_querys_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "defenses-cover-but-not", "--help")
    assert code == 0
    assert out.startswith("usage: gia-kg query defenses-cover-but-not -p covered=")
    assert "A, B, C, D, E, F, G, H" in out
    assert "default effective" in out or "default: effective" in out
    assert "gia-kg query defenses-cover-but-not -p covered=G -p uncovered=H" in out
    code, out, _ = run(capsys, "query", "--help")  # without NAME: the command's own help
    assert code == 0 and "usage: gia-kg query" in out and "-p KEY=VALUE" in out


def test_queries_json_lists_parameters_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "queries", "--format", "json")
    assert code == 0
    doc = {q["name"]: q for q in json.loads(out)}
    assert len(doc) == 13  # the 12 of issue 6 and crosswalk (issue 15)
    params = {p["name"]: p for p in doc["defenses-cover-but-not"]["params"]}
    assert params["covered"]["values"] == list("ABCDEFGH") and params["covered"]["required"]
    assert params["min_level"]["default"] == "effective"
    assert params["min_level"]["values"] == ["effective", "partial"]
    assert doc["coverage-matrix"]["columns"] == ["ref", "label", *"ABCDEFGH", "defense"]


# ---------------------------------------------------------------- colour through the CLI


def test_color_always_paints_levels_and_never_does_not(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # --color always wins over NO_COLOR
    code, out, _ = run(capsys, "--color", "always", "query", "coverage-matrix")
    assert code == 0 and "\x1b[32meffective\x1b[0m" in out
    code, out, _ = run(capsys, "query", "coverage-matrix", "--color", "never")
    assert code == 0 and "\x1b[" not in out
    code, out, _ = run(capsys, "query", "coverage-matrix")  # a pipe (captured): plain
    assert "\x1b[" not in out


# ---------------------------------------------------------------- the store cache


def test_build_prune_and_cache_list_clean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    data_copy: Path,
) -> None:
    monkeypatch.setenv("GIA_KG_CACHE", str(tmp_path / "cache"))
    assert run(capsys, "--kg", str(data_copy), "build")[0] == 0
    code, out, _ = run(capsys, "build", "--prune")  # the shipped data's store; data_copy's goes
    assert code == 0 and out.splitlines()[-1] == f"pruned 1 other store from {tmp_path / 'cache'}"
    code, out, _ = run(capsys, "cache", "list")
    assert code == 0 and out.splitlines()[-1].startswith("(1 store, ")
    assert str(data_copy) not in out
    code, out, _ = run(capsys, "cache", "clean")
    assert code == 0 and out.startswith("removed 1 folder ")
    code, out, _ = run(capsys, "cache")
    assert code == 0 and out == f"{tmp_path / 'cache'}: no stores\n"
