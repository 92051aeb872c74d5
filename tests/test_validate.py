"""SHACL shapes and `gia-kg validate`: the shipped graph conforms; each broken fixture fires the
violation its header names, and nothing else; every named shape fires in at least one fixture.

A fixture (tests/fixtures/shapes/*.ttl) is a small edit of the real data, written as Turtle:

    # What is broken, in words.
    # expect: shape:AttackThreatModel attack:zhu-2019-deep-leakage
    # remove: attack:zhu-2019-deep-leakage gia:threatModel tm:A .
    attack:zhu-2019-deep-leakage gia:threatModel tm:Z .      # triples to add (the file's body)

``remove:`` lines are Turtle triples that must exist in the shipped data (so a fixture cannot
silently stop editing anything); the body is added. Project prefixes are predeclared. ``expect:``
lines name (shape, focus node) pairs; the fixture must produce exactly that set of results.

To keep 50+ pySHACL runs fast, fixtures edit the shipped data without the attack and defense
rows that no fixture mentions (threat models, works, references and vocabularies stay whole):
results for a row depend only on that row, its assessments and the resources it points at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, SH, Graph, URIRef

from kg import validation
from kg.cli import main
from kg.loading import load_graph, new_graph
from kg.namespaces import GIA

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "shapes"
FIXTURES = sorted(FIXTURE_DIR.glob("*.ttl"))


def _prologue(graph: Graph) -> str:
    return "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in graph.namespaces())


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return validation.load_shapes()


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return validation.load_ontology()


@pytest.fixture(scope="module")
def shipped(shapes: Graph) -> Graph:
    """Shipped data parsed once, less the rows no fixture mentions; each fixture edits a copy."""
    data = load_graph(ontology=False)
    mentioned = set()
    for path in FIXTURES:
        _, remove, add = _parse_fixture(path, shapes)
        mentioned |= {node for graph in (remove, add) for triple in graph for node in triple}
    for cls in (GIA.Attack, GIA.Defense):
        for row in set(data.subjects(RDF.type, cls)) - mentioned:
            for assessment in data.objects(row, GIA.hasAssessment):
                data.remove((assessment, None, None))
            for axiom in list(data.subjects(OWL.annotatedSource, row)):  # its cells' positions
                data.remove((axiom, None, None))
            data.remove((row, None, None))
    assert set(data.subjects(RDF.type, GIA.Defense)) and set(data.subjects(RDF.type, GIA.Attack))
    return data


def _parse_fixture(path: Path, shapes: Graph) -> tuple[set[tuple[str, str]], Graph, Graph]:
    """(expected (shape, focus) pairs, triples to remove, triples to add) of one fixture file."""
    text = path.read_text(encoding="utf-8")
    expected = {tuple(m.group(1, 2)) for m in re.finditer(r"^# expect: (\S+) (\S+)\s*$", text, re.M)}
    removed = "\n".join(re.findall(r"^# remove: (.*)$", text, re.M))
    prologue = _prologue(shapes)
    remove = new_graph().parse(data=prologue + removed, format="turtle")
    add = new_graph().parse(data=prologue + text, format="turtle")
    return expected, remove, add


def _run_fixture(path: Path, shipped: Graph, shapes: Graph, ontology: Graph):
    expected, remove, add = _parse_fixture(path, shapes)
    assert expected, f"{path.name}: no '# expect:' line"
    assert len(remove) + len(add) > 0, f"{path.name}: edits nothing"
    data = new_graph()
    data += shipped
    for triple in remove:
        assert triple in data, f"{path.name}: removes a triple not in the shipped data: {triple}"
        data.remove(triple)
    data += add
    result = validation.validate(data=data, shapes=shapes, ontology=ontology)
    return expected, result


@pytest.fixture(scope="module")
def fired(shipped: Graph, shapes: Graph, ontology: Graph) -> dict[str, set[tuple[str, str]]]:
    """(shape, focus) pairs each fixture produces, computed once for the whole module."""
    out = {}
    for path in FIXTURES:
        _, result = _run_fixture(path, shipped, shapes, ontology)
        out[path.name] = {(row.shape, row.focus) for row in result.rows}
    return out


def test_shipped_graph_conforms_without_warnings() -> None:
    result = validation.validate()
    assert result.conforms, validation.render_text(result)
    assert result.rows == [], validation.render_text(result)


def test_there_are_at_least_15_fixtures() -> None:
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_fires_exactly_the_named_violation(
    path: Path, shapes: Graph, fired: dict[str, set[tuple[str, str]]]
) -> None:
    expected, _, _ = _parse_fixture(path, shapes)
    assert fired[path.name] == expected


def test_every_named_shape_is_exercised(shapes: Graph, fired: dict[str, set[tuple[str, str]]]):
    named = {
        s.n3(shapes.namespace_manager)
        for kind in (SH.NodeShape, SH.PropertyShape)
        for s in shapes.subjects(RDF.type, kind)
        if isinstance(s, URIRef)
    }
    assert len(named) >= 40
    assert all(name.startswith("shape:") for name in named), named
    exercised = {shape for pairs in fired.values() for shape, _ in pairs}
    assert named - exercised == set(), "shapes no fixture makes fail"
    assert exercised - named == set(), "results from shapes without a name"


def test_severity_is_warning_only_where_declared(shapes: Graph) -> None:
    warnings = {s.n3(shapes.namespace_manager) for s in shapes.subjects(SH.severity, SH.Warning)}
    assert warnings == {"shape:DefenseYear"}


def test_every_shape_has_a_message(shapes: Graph) -> None:
    for kind in (SH.NodeShape, SH.PropertyShape):
        for s in shapes.subjects(RDF.type, kind):
            if isinstance(s, URIRef):
                has_message = shapes.value(s, SH.message) is not None or any(
                    shapes.value(c, SH.message) is not None for c in shapes.objects(s, SH.sparql)
                )
                assert has_message, s


# ---------------------------------------------------------------- the command


def _fixture_as_data(tmp_path: Path, name: str, shipped: Graph, shapes: Graph) -> Path:
    """A data folder for the CLI: the fixtures' base data with one fixture applied."""
    data = new_graph()
    data += shipped
    _, remove, add = _parse_fixture(FIXTURE_DIR / name, shapes)
    for triple in remove:
        data.remove(triple)
    data += add
    folder = tmp_path / "kg"
    folder.mkdir()
    data.serialize(folder / "all.ttl", format="turtle")
    return folder


def test_cli_conforms_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert out == "conforms: 0 violation(s), 0 warning(s)\n"


def test_cli_violation_text_exit_1(
    tmp_path: Path, shipped: Graph, shapes: Graph, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _fixture_as_data(tmp_path, "attack-no-threat-model.ttl", shipped, shapes)
    assert main(["validate", "--kg", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        'Violation  attack:zhu-2019-deep-leakage "Zhu et al. (2019)"  gia:threatModel  '
        "An attack needs exactly one gia:threatModel, one of tm:A .. tm:H.  "
        "[shape:AttackThreatModel]",
        "does not conform: 1 violation(s), 0 warning(s)",
    ]


def test_cli_global_kg_option_also_works(tmp_path: Path, shipped: Graph, shapes: Graph, capsys) -> None:
    folder = _fixture_as_data(tmp_path, "attack-no-threat-model.ttl", shipped, shapes)
    assert main(["--kg", str(folder), "validate"]) == 1


def test_cli_warning_alone_exits_0(
    tmp_path: Path, shipped: Graph, shapes: Graph, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _fixture_as_data(tmp_path, "defense-no-year.ttl", shipped, shapes)
    assert main(["validate", "--kg", str(folder)]) == 0
    out = capsys.readouterr().out
    # 2025-09-02 dropped the name: the row is labelled with its work's title
    assert out.startswith('Warning  defense:precode "PRECODE - A Generic Model Extension To Prevent '
                          'Deep Gradient Leakage"  -  No gia:year')
    assert out.endswith("conforms: 0 violation(s), 1 warning(s)\n")


def test_cli_json(tmp_path: Path, shipped: Graph, shapes: Graph, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _fixture_as_data(tmp_path, "attack-batch-size-string.ttl", shipped, shapes)
    assert main(["validate", "--kg", str(folder), "--format", "json"]) == 1
    items = json.loads(capsys.readouterr().out)
    assert items == [
        {
            "focus": "attack:zhu-2019-deep-leakage",
            "path": "gia:batchSize",
            "severity": "Violation",
            "message": "An attack needs exactly one gia:batchSize, a positive xsd:integer (for E×B, the B).",
            "shape": "shape:AttackBatchSize",
            "value": '"8"',
        }
    ]


def test_cli_ttl_is_a_shacl_report(
    tmp_path: Path, shipped: Graph, shapes: Graph, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _fixture_as_data(tmp_path, "attack-batch-size-string.ttl", shipped, shapes)
    assert main(["validate", "--kg", str(folder), "--format", "ttl"]) == 1
    report = Graph().parse(data=capsys.readouterr().out, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms).toPython() is False
    results = list(report.objects(node, SH.result))
    # "8" is not an xsd:integer, and a string is not >= 1: two results, one row in text and json
    assert {report.value(r, SH.sourceConstraintComponent) for r in results} == {
        SH.DatatypeConstraintComponent,
        SH.MinInclusiveConstraintComponent,
    }
    for r in results:
        assert report.value(r, SH.resultPath).endswith("#batchSize")
        assert report.value(r, SH.sourceShape).endswith("shapes#AttackBatchSize")


def test_cli_extra_data_file_is_validated(tmp_path: Path, capsys) -> None:
    new = tmp_path / "new.ttl"
    new.write_text(
        "@prefix gia: <https://w3id.org/gia-kg/ontology#> .\n"
        "@prefix attack: <https://w3id.org/gia-kg/id/attack/> .\n"
        "attack:new-paper a gia:Attack ; gia:batchSize 4 .\n",
        encoding="utf-8",
    )
    assert main(["validate", "--data", str(new), "--format", "json"]) == 1
    items = json.loads(capsys.readouterr().out)
    assert {i["focus"] for i in items} == {"attack:new-paper"}
    assert "shape:AttackThreatModel" in {i["shape"] for i in items}
    assert "shape:AttackBatchSize" not in {i["shape"] for i in items}


def test_cli_unreadable_turtle_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix gia: <https://w3id.org/gia-kg/ontology#> .\n\ngia:x gia:y .\n")
    assert main(["validate", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gia-kg: error: {bad}:3:")
    assert "Traceback" not in err


def test_cli_missing_data_file_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["validate", "--data", str(tmp_path / "nope.ttl")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_cli_bad_format_exit_2(capsys) -> None:
    assert main(["validate", "--format", "xml"]) == 2
    assert capsys.readouterr().err.startswith("gia-kg: error: ")


def test_adding_a_paper_examples_conform(tmp_path: Path, capsys) -> None:
    """The Turtle of docs/contributing.md's "Adding a paper" (prefixes, attack, defense) validates."""
    text = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    doc = text[text.index("## Adding a paper"):]
    doc = doc[:doc.index("\n## ", 1)]
    blocks = re.findall(r"```turtle\n(.*?)```", doc, re.S)
    assert len(blocks) == 3
    new = tmp_path / "new.ttl"
    new.write_text("\n".join(blocks), encoding="utf-8")
    assert main(["validate", "--data", str(new)]) == 0, capsys.readouterr().out


def test_ttl_output_is_deterministic(tmp_path: Path, shipped: Graph, shapes: Graph, capsys) -> None:
    folder = _fixture_as_data(tmp_path, "defense-missing-assessment.ttl", shipped, shapes)
    outputs = []
    for _ in range(2):
        assert main(["validate", "--kg", str(folder), "--format", "ttl"]) == 1
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
