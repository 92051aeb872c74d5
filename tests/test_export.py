"""`gia-kg export`: standard RDF other tools load, deterministic, written atomically."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg import cli
from kg.errors import InputError
from kg.export import FORMATS, export, jsonld
from kg.loading import load_graph
from kg.namespaces import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "queries"
DATA = ROOT / "kg" / "data"
FOLDERS = [pytest.param(FIXTURE, id="fixture")]
if (DATA / "attacks.ttl").is_file() and (DATA / "inferred.ttl").is_file():
    FOLDERS.append(pytest.param(DATA, id="kg-data"))
RDFLIB_FORMAT = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml"}


@pytest.fixture(scope="module", params=FOLDERS)
def folder(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
def test_two_independent_parsers_read_the_same_triple_count(
    folder: Path, fmt: str, inferred: bool
) -> None:
    expected = len(load_graph(folder, inferred=inferred))  # rdflib reading the source Turtle
    text = export(folder, fmt, inferred=inferred)
    assert text == export(folder, fmt, inferred=inferred), "deterministic"
    oxigraph = list(ox.parse(text.encode(), format=FORMATS[fmt]))
    assert len(oxigraph) == expected
    assert len(Graph().parse(data=text, format=RDFLIB_FORMAT[fmt])) == expected


def test_inferred_adds_only_the_order(folder: Path) -> None:
    asserted = set(map(str, ox.parse(export(folder, "nt").encode(),
                                     format=ox.RdfFormat.N_TRIPLES)))
    full = set(map(str, ox.parse(export(folder, "nt", inferred=True).encode(),
                                 format=ox.RdfFormat.N_TRIPLES)))
    extra = full - asserted
    assert asserted < full
    assert all("#strongerThan>" in t or "#directlyStrongerThan>" in t for t in extra)
    # SoK capabilities: H has everything G has plus client selection, and G covers A, B, C, D,
    # F; H lacks E's client data distribution, so H is stronger than 6 models, not E.
    stronger_than = {t.rsplit("/", 1)[1][0] for t in extra
                     if "threat-model/H> <https://w3id.org/gia-kg/ontology#strongerThan>" in t}
    assert stronger_than == set("ABCDFG")


def test_nt_is_sorted_and_blank_nodes_canonical() -> None:
    lines = export(FIXTURE, "nt").splitlines()
    assert lines == sorted(lines)
    assert any(line.startswith("_:c14n") for line in lines)


def test_cli_writes_atomically_to_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "graph.ttl"
    code = cli.main(["--kg", str(FIXTURE), "export", "--format", "ttl", "--inferred",
                     "-o", str(target)])
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, "", "")
    assert target.read_text() == export(FIXTURE, "ttl", inferred=True)
    assert [p.name for p in tmp_path.iterdir()] == ["graph.ttl"]  # no temporary left behind
    code = cli.main(["--kg", str(FIXTURE), "export", "-o", str(tmp_path / "no" / "x.ttl")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_cli_default_is_turtle_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--kg", str(FIXTURE), "export"]) == 0
    out = capsys.readouterr().out
    assert "@prefix gia: <https://w3id.org/gia-kg/ontology#> ." in out
    assert "strongerThan tm:" not in out  # inferred triples only with --inferred


# ---------------------------------------------------------------- JSON-LD with the project's @context

TM = "https://w3id.org/gia-kg/id/threat-model/"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def canonical_nt(text: str, syntax: ox.RdfFormat) -> list[str]:
    """What a file says, read by pyoxigraph's parser, as sorted canonical N-Triples lines."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object)
                         for t in ox.parse(text.encode(), format=syntax))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(f"{q.triple} ." for q in dataset)


@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
def test_jsonld_reads_back_as_exactly_the_ntriples_export(folder: Path, inferred: bool) -> None:
    text = export(folder, "jsonld", inferred=inferred)
    expected = export(folder, "nt", inferred=inferred).splitlines()
    assert canonical_nt(text, ox.RdfFormat.JSON_LD) == expected


def test_jsonld_is_compacted_with_the_project_prefixes() -> None:
    document = json.loads(export(DATA, "jsonld", inferred=True))
    assert list(document) == ["@context", "@graph"]
    context = document["@context"]
    assert context["tm"] == "https://w3id.org/gia-kg/id/threat-model/"
    assert context["rdfs"] == "http://www.w3.org/2000/01/rdf-schema#"
    assert context["gia"] == "https://w3id.org/gia-kg/ontology#"
    assert context["attack"] == "https://w3id.org/gia-kg/id/attack/"
    nodes = {node["@id"]: node for node in document["@graph"]}
    ids = [node["@id"] for node in document["@graph"]]
    assert ids == sorted(ids) and len(ids) == len(nodes)  # one node object per subject, sorted
    g = nodes["tm:G"]
    assert g["gia:letter"] == "G"  # an xsd:string literal is a plain string
    assert g["@type"] == ["gia:ThreatModel", "owl:NamedIndividual"]
    assert g["prov:wasDerivedFrom"] == {"@id": "sok:2025-09-02"}
    # SoK: G (model updates, basic knowledge, training details, surrogate data, active
    # manipulation) is directly above D and F in the order.
    assert g["gia:directlyStrongerThan"] == [{"@id": "tm:D"}, {"@id": "tm:F"}]
    assert nodes["tm:A"]["rdfs:label"] == "Eavesdropper"
    assert nodes["tm:A"]["gia:applicability"] == {"@value": "3", "@type": "xsd:integer"}
    zhu = nodes["attack:zhu-2019-deep-leakage"]
    assert zhu["rdfs:label"] == "Zhu et al. (2019)"
    assert zhu["gia:threatModel"] == {"@id": "tm:A"}
    assert zhu["gia:batchSize"] == {"@value": "8", "@type": "xsd:integer"}
    assert zhu["gia:codeRepository"] == {"@id": "https://github.com/mit-han-lab/dlg"}  # no prefix fits
    assert nodes["gia:SoKRelease"]["rdfs:label"] == {"@value": "SoK release", "@language": "en"}
    assert any(i.startswith("_:c14n") for i in ids)  # OWL restrictions: canonical blank nodes


def test_jsonld_writer_on_a_hand_made_graph() -> None:
    tm_g, blank = ox.NamedNode(TM + "G"), ox.BlankNode("random-label")
    triples = [
        ox.Triple(tm_g, RDFS_LABEL, ox.Literal("Data-Enhanced Manipulator")),
        ox.Triple(tm_g, RDFS_LABEL, ox.Literal("G", language="en")),
        ox.Triple(tm_g, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), blank),
        ox.Triple(blank, ox.NamedNode("https://w3id.org/gia-kg/ontology#rank"), ox.Literal(2)),
        ox.Triple(ox.NamedNode("https://w3id.org/gia-kg/id/work///x"), RDFS_LABEL, ox.Literal("w")),
    ]
    prefixes = {"tm": TM, "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                "gia": "https://w3id.org/gia-kg/ontology#", "work": "https://w3id.org/gia-kg/id/work/"}
    text = jsonld(triples, prefixes)
    assert json.loads(text) == {
        "@context": prefixes,
        "@graph": [
            {"@id": "_:c14n0", "gia:rank": {"@value": "2", "@type": "http://www.w3.org/2001/XMLSchema#integer"}},
            # "work://x" would be read as an absolute IRI: left uncompacted
            {"@id": "https://w3id.org/gia-kg/id/work///x", "rdfs:label": "w"},
            {"@id": "tm:G", "rdf:type": {"@id": "_:c14n0"},  # a blank type is not an "@type" IRI
             "rdfs:label": ["Data-Enhanced Manipulator", {"@value": "G", "@language": "en"}]},
        ],
    }
    assert list(json.loads(text)["@context"]) == ["gia", "rdf", "rdfs", "tm", "work"]  # sorted
    assert jsonld(reversed(triples), prefixes) == text  # input order and blank labels do not matter
    assert canonical_nt(text, ox.RdfFormat.JSON_LD) == canonical_nt(
        ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), ox.RdfFormat.N_TRIPLES)
    assert json.loads(jsonld([])) == {"@context": dict(PREFIXES), "@graph": []}


@pytest.mark.parametrize("triple, needle", [
    (ox.Triple(ox.NamedNode("tm:x"), RDFS_LABEL, ox.Literal("x")), "read as a compact IRI of the prefix tm"),
    (ox.Triple(ox.NamedNode(TM + "G"), RDFS_LABEL,
               ox.Literal("G", language="ar", direction=ox.BaseDirection.RTL)), "base direction"),
    (ox.Triple(ox.NamedNode(TM + "G"), RDFS_LABEL,
               ox.Triple(ox.NamedNode(TM + "G"), RDFS_LABEL, ox.Literal("x"))), "RDF-star"),
])
def test_jsonld_refuses_what_it_cannot_write_faithfully(triple: ox.Triple, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        jsonld([triple])


def test_jsonld_export_is_byte_identical_across_processes() -> None:
    script = "from kg.export import export; import sys; sys.stdout.write(export(None, 'jsonld'))"
    runs = [subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                           check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] == export(None, "jsonld").encode()
