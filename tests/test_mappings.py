"""The crosswalk (issue 15 §1): SSSOM files, their RDF in the graph, the saved query and the shapes.

Expected mappings are written by hand from the mapping review (docs/crosswalk.md): the IDs and names
of ATLAS 5.6.0, NIST AI 100-2e2025, the OWASP ML Top 10 2023 and AVID's SEP view, and the SKOS
predicate chosen for each (e.g. the attack class is only *related* to ATLAS's Invert AI Model,
whose text is about inference APIs). ``sssom validate`` runs from its own virtualenv
(.venv-sssom: sssom-py pulls in linkml, sphinx and a pytest plugin); the tests that need it skip
with a reason where it is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import mappings, queries
from kg.cli import main
from kg.engine import dataset_files, open_dataset
from kg.errors import InputError, StaleError
from kg.loading import load_graph
from tests.conftest import ROOT, real_data

MAPPINGS = ROOT / "mappings"
FIXTURE = ROOT / "tests" / "fixtures" / "queries"
SSSOM_CLI = Path(os.environ.get("GIA_KG_SSSOM", ROOT / ".venv-sssom" / "bin" / "sssom"))
needs_sssom = pytest.mark.skipif(
    not SSSOM_CLI.is_file(),
    reason=f"sssom-py not installed ({SSSOM_CLI}): python3 -m venv .venv-sssom && "
    ".venv-sssom/bin/pip install sssom")

ATLAS_T = "https://atlas.mitre.org/techniques/"
ATLAS_M = "https://atlas.mitre.org/mitigations/"
NIST = "https://doi.org/10.6028/NIST.AI.100-2e2025#"
OWASP = "https://owasp.org/www-project-machine-learning-security-top-10/docs/"
AVID = "https://avidml.org/taxonomy#"
GIA = "https://w3id.org/gia-kg/ontology#"
CAP = "https://w3id.org/gia-kg/id/capability/"
TECH = "https://w3id.org/gia-kg/id/technique/"
SKOS = "http://www.w3.org/2004/02/skos/core#"

#: Every mapping, by hand: (file, subject, SKOS predicate, object, object label).
EXPECTED = [
    ("atlas", GIA + "Attack", "relatedMatch", ATLAS_T + "AML.T0024.001", "Invert AI Model"),
    ("atlas", CAP + "active-manipulation", "narrowMatch", ATLAS_T + "AML.T0018.001",
     "Modify AI Model Architecture"),
    ("atlas", CAP + "basic-knowledge", "closeMatch", ATLAS_T + "AML.T0044", "Full AI Model Access"),
    ("atlas", CAP + "training-details", "relatedMatch", ATLAS_T + "AML.T0044", "Full AI Model Access"),
    ("atlas", CAP + "surrogate-data", "closeMatch", ATLAS_T + "AML.T0002.000", "Datasets"),
    ("atlas", TECH + "cryptography-based", "relatedMatch", ATLAS_M + "AML.M0012",
     "Encrypt Sensitive Information"),
    ("atlas", TECH + "gradient-perturbation", "relatedMatch", ATLAS_M + "AML.M0002",
     "Passive AI Output Obfuscation"),
    ("avid", GIA + "Attack", "broadMatch", AVID + "S0501", "Model inversion"),
    ("avid", TECH + "cryptography-based", "relatedMatch", AVID + "P0303", "Encryption"),
    ("avid", TECH + "dp-based", "relatedMatch", AVID + "P0302", "Randomization"),
    ("nist-ai-100-2", GIA + "Attack", "broadMatch", NIST + "NISTAML.032", "Data Reconstruction"),
    ("owasp-ml-top10", GIA + "Attack", "relatedMatch", OWASP + "ML03_2023-Model_Inversion_Attack",
     "Model Inversion Attack"),
]
#: The version of each catalogue mapped against, by hand.
VERSIONS = {"atlas": "5.6.0", "avid": "avidtools 0.2.1", "nist-ai-100-2": "NIST AI 100-2e2025",
            "owasp-ml-top10": "2023"}


# ---------------------------------------------------------------- the SSSOM files


def test_one_file_per_target() -> None:
    assert [p.name for p in mappings.mapping_files()] == [
        "atlas.sssom.tsv", "avid.sssom.tsv", "nist-ai-100-2.sssom.tsv", "owasp-ml-top10.sssom.tsv"]


@needs_sssom
@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.sssom.tsv")), ids=lambda p: p.name)
def test_sssom_validate_passes(path: Path) -> None:
    run = subprocess.run([str(SSSOM_CLI), "validate", str(path)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "validation errors" not in run.stdout + run.stderr


@needs_sssom
def test_sssom_validate_can_fail(tmp_path: Path) -> None:
    """The check above is not vacuous: a CURIE whose prefix the curie_map lacks is refused."""
    text = (MAPPINGS / "avid.sssom.tsv").read_text(encoding="utf-8")
    bad = tmp_path / "bad.sssom.tsv"
    bad.write_text(text.replace("#   avid: https://avidml.org/taxonomy#\n", ""), encoding="utf-8")
    run = subprocess.run([str(SSSOM_CLI), "validate", str(bad)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode != 0


def test_every_mapping_written_by_hand() -> None:
    found = [(m_set.path.name.removesuffix(".sssom.tsv"), m.subject, m.predicate.removeprefix(SKOS),
              m.object, m.object_label)
             for m_set in mappings.read_crosswalk() for m in m_set.mappings]
    assert sorted(found) == sorted(EXPECTED)


def test_the_atlas_row_of_the_attack_class() -> None:
    (atlas,) = [s for s in mappings.read_crosswalk() if s.path.name == "atlas.sssom.tsv"]
    row = atlas.mappings[0]
    assert (row.subject, row.subject_label) == (GIA + "Attack", "gradient inversion attack")
    assert row.predicate == SKOS + "relatedMatch"  # inference API vs shared gradients: not exact
    assert (row.object, row.object_label) == (ATLAS_T + "AML.T0024.001", "Invert AI Model")
    assert row.justification == "https://w3id.org/semapv/vocab/ManualMappingCuration"
    assert "inference API" in row.comment


def test_mapping_set_metadata() -> None:
    for m_set in mappings.read_crosswalk():
        name = m_set.path.name.removesuffix(".sssom.tsv")
        assert m_set.id == f"https://w3id.org/gia-kg/mappings/{name}"
        assert m_set.metadata["object_source_version"] == VERSIONS[name]
        assert m_set.metadata["license"] == "https://www.gnu.org/licenses/gpl-3.0.html"
        assert all(m.subject_label and m.object_label for m in m_set.mappings)


# ---------------------------------------------------------------- the reader's contract

HEADER = """\
# curie_map:
#   gia: https://w3id.org/gia-kg/ontology#
#   semapv: https://w3id.org/semapv/vocab/
#   skos: http://www.w3.org/2004/02/skos/core#
#   x: https://example.org/x/
# mapping_set_id: https://example.org/set
# license: https://example.org/license
# object_source_version: 1.0
"""
COLUMNS = "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\n"
ROW = "gia:Attack\tgradient inversion attack\tskos:relatedMatch\tx:A\tA\tsemapv:ManualMappingCuration\n"


def write(tmp_path: Path, text: str, name: str = "t.sssom.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_reads(tmp_path: Path) -> None:
    (m_set,) = mappings.read_crosswalk([write(tmp_path, HEADER + COLUMNS + ROW)])
    assert m_set.mappings[0].object == "https://example.org/x/A" and m_set.mappings[0].line == 10


@pytest.mark.parametrize(("text", "message"), [
    (HEADER.replace("# license: https://example.org/license\n", "") + COLUMNS + ROW,
     "t.sssom.tsv: missing mapping set metadata 'license'"),
    (HEADER.replace("# object_source_version: 1.0\n", "") + COLUMNS + ROW,
     "t.sssom.tsv: missing mapping set metadata 'object_source_version'"),
    (HEADER + COLUMNS + ROW.replace("\tA\tsemapv", "\t\tsemapv"),
     "t.sssom.tsv:10: object_label: empty; every mapping needs it"),
    (HEADER + COLUMNS.replace("\tmapping_justification", "") + ROW.replace(
        "\tsemapv:ManualMappingCuration", ""),
     "t.sssom.tsv:9: missing column 'mapping_justification'"),
    (HEADER + COLUMNS + ROW.replace("skos:relatedMatch", "owl:sameAs"),
     "t.sssom.tsv:10: predicate_id: 'owl:sameAs'; expected one of skos:exactMatch"),
    (HEADER + COLUMNS + ROW.replace("semapv:ManualMappingCuration", "semapv:LexicalMatching"),
     "t.sssom.tsv:10: mapping_justification: 'semapv:LexicalMatching'; expected "
     "semapv:ManualMappingCuration"),
    (HEADER + COLUMNS + ROW.replace("x:A", "y:A"),
     "t.sssom.tsv:10: object_id: 'y:A': prefix 'y' is not in the curie_map"),
    (HEADER + "# mapping_tool: a script\n" + COLUMNS + ROW,
     "t.sssom.tsv:9: unsupported mapping set metadata 'mapping_tool'"),
    (HEADER + COLUMNS.replace("\n", "\tconfidence\n") + ROW.replace("\n", "\t0.5\n"),
     "t.sssom.tsv:9: unsupported column 'confidence'"),
    (HEADER + COLUMNS + ROW.replace("\tA\t", "\tA\textra\t"),
     "t.sssom.tsv:10: 7 fields; expected 6"),
    (HEADER + COLUMNS + ROW + ROW.replace("relatedMatch", "closeMatch"),
     "t.sssom.tsv:11: https://w3id.org/gia-kg/ontology#Attack and https://example.org/x/A are "
     "already mapped at"),
    (HEADER + COLUMNS + ROW + ROW.replace("gia:Attack", "gia:Defense").replace("\tA\tsemapv",
                                                                                 "\tB\tsemapv"),
     "t.sssom.tsv:11: object_label 'B' of https://example.org/x/A, but"),
    (HEADER.replace("# mapping_set_id: https://example.org/set", "# mapping_set_id: set") + COLUMNS
     + ROW, "t.sssom.tsv: mapping_set_id: 'set' is not an IRI"),
    (HEADER.replace("# mapping_set_id: https://example.org/set", "# mapping_set_id: urn:x:set")
     + COLUMNS + ROW, "t.sssom.tsv: mapping_set_id: 'urn:x:set': expected an http(s) IRI"),
])
def test_contract_violations_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        mappings.read_crosswalk([write(tmp_path, text)])
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{tmp_path}/{message}") for line in lines), lines


def test_all_problems_of_a_file_at_once(tmp_path: Path) -> None:
    text = HEADER.replace("# license: https://example.org/license\n", "") + COLUMNS + ROW.replace(
        "\tA\tsemapv", "\t\tsemapv")
    with pytest.raises(InputError) as caught:
        mappings.read_crosswalk([write(tmp_path, text)])
    assert len(str(caught.value).splitlines()) == 2


def test_two_sets_with_one_id(tmp_path: Path) -> None:
    files = [write(tmp_path, HEADER + COLUMNS + ROW, "a.sssom.tsv"),
             write(tmp_path, HEADER + COLUMNS + ROW.replace("x:A", "x:B"), "b.sssom.tsv")]
    with pytest.raises(InputError, match=r"b\.sssom\.tsv: mapping_set_id https://example.org/set is "
                                         r"also the id of .*a\.sssom\.tsv"):
        mappings.read_crosswalk(files)


# ---------------------------------------------------------------- the generated Turtle


def test_crosswalk_ttl_is_what_the_tsv_files_give() -> None:
    mappings.check_current()  # StaleError otherwise: run `python -m kg.mappings`


def test_a_changed_tsv_makes_it_stale(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(MAPPINGS, tmp_path / "mappings"))
    tsv = folder / "atlas.sssom.tsv"
    tsv.write_text(tsv.read_text(encoding="utf-8").replace("Invert AI Model", "Invert ML Model"),
                   encoding="utf-8")
    with pytest.raises(StaleError, match=r"crosswalk\.ttl: not what .* give; run `python -m kg.mappings`"):
        mappings.check_current(folder)
    assert mappings.main([str(folder)]) == 0  # regenerates
    assert mappings.main(["--check", str(folder)]) == 0
    assert '"Invert ML Model"' in (folder / "crosswalk.ttl").read_text(encoding="utf-8")


def test_two_parsers_read_the_same_triples() -> None:
    text = mappings.CROSSWALK_FILE.read_bytes()
    oxigraph = list(ox.parse(text, format=ox.RdfFormat.TURTLE))
    from rdflib import Graph

    assert len(oxigraph) == len(Graph().parse(data=text.decode(), format="turtle"))
    assert len(oxigraph) == len(mappings.triples(mappings.read_crosswalk()))


def _keyed(graph: object) -> set[tuple]:
    """Triples with each owl:Axiom blank node named by its (source, property, target)."""
    from rdflib import BNode, Literal, URIRef

    owl = "http://www.w3.org/2002/07/owl#"
    keys = {}
    for node in set(graph.subjects()):  # type: ignore[attr-defined]
        if isinstance(node, BNode):
            keys[node] = Literal("|".join(str(graph.value(node, URIRef(owl + p)))  # type: ignore[attr-defined]
                                          for p in ("annotatedSource", "annotatedProperty", "annotatedTarget")))
    return {tuple(keys.get(t, t) for t in triple) for triple in graph}  # type: ignore[attr-defined]


@needs_sssom
def test_sssom_py_rdf_is_part_of_ours(tmp_path: Path) -> None:
    """sssom-py's own conversion of each file is contained in ours (which adds the mapping triples
    and the target labels): the same layout, from an independent implementation."""
    from rdflib import Graph

    theirs = Graph()
    for path in mappings.mapping_files():
        out = tmp_path / f"{path.stem}.ttl"
        subprocess.run([str(SSSOM_CLI), "convert", str(path), "-O", "rdf", "-o", str(out)],
                       check=True, capture_output=True, timeout=300)
        theirs.parse(out, format="turtle")
    ours = Graph().parse(mappings.CROSSWALK_FILE, format="turtle")
    assert len(theirs) == 140  # 4 sets x 8 metadata triples (with sssom:mappings) + 12 x 9 axiom triples
    assert _keyed(theirs) <= _keyed(ours)
    assert len(_keyed(ours) - _keyed(theirs)) == 12 + 11  # the mappings, the 11 distinct targets' labels


# ---------------------------------------------------------------- in the graph


def test_loaded_with_the_ontology_before_the_data() -> None:
    files = dataset_files(FIXTURE, inferred=False)
    crosswalk = mappings.crosswalk_files()
    assert [p.name for p in crosswalk] == ["crosswalk.ttl", "declarations.ttl"]
    assert files[1:3] == crosswalk and files[-1].parent == FIXTURE


def test_sparql_sees_the_mappings(capsys: pytest.CaptureFixture[str]) -> None:
    query = ("SELECT ?o ?label WHERE { gia:Attack skos:relatedMatch ?o . ?o skos:prefLabel ?label } "
             "ORDER BY ?o")
    assert main(["sparql", "--format", "csv", query]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "o,label",
        "https://atlas.mitre.org/techniques/AML.T0024.001,Invert AI Model",
        "https://owasp.org/www-project-machine-learning-security-top-10/docs/ML03_2023-Model_Inversion_Attack,"
        "Model Inversion Attack",
    ]


@real_data
def test_query_crosswalk_atlas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "crosswalk", "-p", "target=atlas", "--format", "tsv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("?target\t?subject\t?subject_label\t?predicate\t?object\t?object_label\t?version"
                        "\t?justification")
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [  # by subject label, case-insensitive
        ('"Active Manipulation"', f"<{SKOS}narrowMatch>", f"<{ATLAS_T}AML.T0018.001>",
         '"Modify AI Model Architecture"'),
        ('"Basic Knowledge"', f"<{SKOS}closeMatch>", f"<{ATLAS_T}AML.T0044>", '"Full AI Model Access"'),
        ('"Cryptography-Based"', f"<{SKOS}relatedMatch>", f"<{ATLAS_M}AML.M0012>",
         '"Encrypt Sensitive Information"'),
        ('"gradient inversion attack"', f"<{SKOS}relatedMatch>", f"<{ATLAS_T}AML.T0024.001>",
         '"Invert AI Model"'),
        ('"Gradient Perturbation"', f"<{SKOS}relatedMatch>", f"<{ATLAS_M}AML.M0002>",
         '"Passive AI Output Obfuscation"'),
        ('"Surrogate Data"', f"<{SKOS}closeMatch>", f"<{ATLAS_T}AML.T0002.000>", '"Datasets"'),
        ('"Training Details"', f"<{SKOS}relatedMatch>", f"<{ATLAS_T}AML.T0044>", '"Full AI Model Access"'),
    ]
    assert {(r[0], r[6], r[7]) for r in rows} == {
        ('"atlas"', '"5.6.0"', "<https://w3id.org/semapv/vocab/ManualMappingCuration>")}


@real_data
@pytest.mark.parametrize(("target", "count"), [("nist", 1), ("owasp", 1), ("avid", 3), ("all", 12)])
def test_query_crosswalk_per_target(target: str, count: int) -> None:
    table = queries.run_saved("crosswalk", {"target": target})
    assert len(table.rows) == count
    if target != "all":
        assert set(table.column("target")) == {target}
    else:
        assert table.column("target") == sorted(table.column("target"))  # ORDER BY target first


def test_default_target_is_all_and_a_bad_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # gia:Attack and the capabilities are in the ontology: rows even on the small query fixture
    rows = queries.run_saved("crosswalk", {}, dataset=open_dataset(FIXTURE, inferred=False)).rows
    assert len(rows) >= 8
    assert main(["query", "crosswalk", "-p", "target=mitre"]) == 2
    assert capsys.readouterr().err == ("gia-kg: error: query crosswalk: parameter target='mitre' is not "
                                       "one of atlas, nist, owasp, avid, all\n")


def test_the_query_is_grlc_style() -> None:
    query = queries.get_query("crosswalk")
    (param,) = query.params
    assert (param.name, param.type, param.default, param.variable) == ("target", "string", "all", "_target")
    assert "_target" not in query.columns()  # the parameter only in WHERE, as the rewriting needs
    assert "ORDER BY" in query.text


def test_in_the_export(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "nt"]) == 0
    lines = set(capsys.readouterr().out.splitlines())
    assert f"<{GIA}Attack> <{SKOS}relatedMatch> <{ATLAS_T}AML.T0024.001> ." in lines
    assert f'<{ATLAS_T}AML.T0024.001> <{SKOS}prefLabel> "Invert AI Model" .' in lines
    assert f"<{TECH}dp-based> <{SKOS}relatedMatch> <{AVID}P0302> ." in lines


def test_its_own_graph_in_trig_and_nquads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "nq"]) == 0
    quads = list(ox.parse(capsys.readouterr().out.encode(), format=ox.RdfFormat.N_QUADS))
    mapping = f"<{CAP}surrogate-data> <{SKOS}closeMatch> <{ATLAS_T}AML.T0002.000>"
    graphs = {q.graph_name.value for q in quads if str(q.triple) == mapping}
    assert graphs == {mappings.CROSSWALK_GRAPH}
    assert sum(1 for q in quads if q.graph_name.value == mappings.CROSSWALK_GRAPH) == 163 + 16  # + declarations.ttl


def test_rdflib_graph_has_it_too() -> None:
    graph = load_graph(FIXTURE, inferred=False)
    from rdflib import URIRef

    assert (URIRef(GIA + "Attack"), URIRef(SKOS + "broadMatch"), URIRef(NIST + "NISTAML.032")) in graph
    assert len(load_graph(FIXTURE, ontology=False, inferred=False).all_nodes()) < len(graph.all_nodes())


def test_the_store_is_rebuilt_when_the_crosswalk_changes(tmp_path: Path) -> None:
    from kg import store

    files = dataset_files(FIXTURE, inferred=False)
    changed = tmp_path / "crosswalk.ttl"
    changed.write_bytes(mappings.CROSSWALK_FILE.read_bytes().replace(b"Invert AI Model", b"Other"))
    other = [changed if p == mappings.CROSSWALK_FILE else p for p in files]
    assert store.fingerprint(files) != store.fingerprint(other)
    assert open_dataset(FIXTURE, inferred=False).select(
        f"SELECT ?l WHERE {{ <{ATLAS_T}AML.T0024.001> skos:prefLabel ?l }}").column("l") == ["Invert AI Model"]


# ---------------------------------------------------------------- the shapes


def test_the_shipped_crosswalk_conforms() -> None:
    result = mappings.validate_crosswalk()
    assert result.conforms and result.rows == []


MINI = """\
@prefix gia: <https://w3id.org/gia-kg/ontology#> .
@prefix cap: <https://w3id.org/gia-kg/id/capability/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix sssom: <https://w3id.org/sssom/> .
@prefix semapv: <https://w3id.org/semapv/vocab/> .
@prefix dcterms: <http://purl.org/dc/terms/> .

<https://example.org/set> a sssom:MappingSet ;
    dcterms:license <https://example.org/license> ;
    sssom:object_source_version "1.0" ;
    sssom:mappings [
        a owl:Axiom ;
        owl:annotatedSource cap:surrogate-data ;
        sssom:subject_label "Surrogate Data" ;
        owl:annotatedProperty skos:closeMatch ;
        owl:annotatedTarget <https://example.org/x/Datasets> ;
        sssom:object_label "Datasets" ;
        sssom:mapping_justification semapv:ManualMappingCuration
    ] .

cap:surrogate-data skos:closeMatch <https://example.org/x/Datasets> .
<https://example.org/x/Datasets> skos:prefLabel "Datasets" .
"""


def shape_rows(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "crosswalk.ttl"
    path.write_text(text, encoding="utf-8")
    result = mappings.validate_crosswalk(FIXTURE, [path, MAPPINGS / "declarations.ttl"])
    assert result.conforms == (not result.rows)
    return [(row.shape, row.message) for row in result.rows]


def test_a_complete_mapping_conforms(tmp_path: Path) -> None:
    assert shape_rows(tmp_path, MINI) == []


def test_a_missing_label_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace('        sssom:object_label "Datasets" ;\n', ""))
    assert rows == [
        ("shape:Mapping", "A mapping needs exactly one sssom:object_label: the target's label in the "
                          "version mapped."),
        ("shape:MappingRecorded", "https://w3id.org/gia-kg/id/capability/surrogate-data "
         "http://www.w3.org/2004/02/skos/core#closeMatch https://example.org/x/Datasets is not a "
         "reviewed mapping: no mapping set lists an owl:Axiom for it with both labels and a "
         "justification (add it to a mappings/*.sssom.tsv file)."),
    ]


def test_an_empty_subject_label_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace('sssom:subject_label "Surrogate Data"', 'sssom:subject_label ""'))
    assert ("shape:Mapping", "A mapping needs exactly one sssom:subject_label: the gia-kg term's "
            "label, as reviewed.") in rows


def test_a_missing_justification_is_a_violation(tmp_path: Path) -> None:
    text = MINI.replace(' ;\n        sssom:mapping_justification semapv:ManualMappingCuration', "")
    rows = shape_rows(tmp_path, text)
    assert [shape for shape, _ in rows] == ["shape:Mapping", "shape:MappingRecorded"]
    assert rows[0][1] == ("A mapping needs its justification, sssom:mapping_justification "
                          "semapv:ManualMappingCuration (and no other): every mapping of the crosswalk "
                          "is reviewed by hand.")


def test_another_justification_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace("semapv:ManualMappingCuration", "semapv:LexicalMatching"))
    assert [shape for shape, _ in rows] == ["shape:Mapping"]
    assert "semapv:ManualMappingCuration (and no other)" in rows[0][1]


def test_a_non_skos_predicate_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace("skos:closeMatch", "owl:sameAs"))
    assert rows == [("shape:Mapping", "A mapping is an owl:Axiom with exactly one owl:annotatedSource "
                     "(the gia-kg term), owl:annotatedProperty (skos:exactMatch, closeMatch, broadMatch, "
                     "narrowMatch or relatedMatch) and owl:annotatedTarget (the other catalogue's term).")]


def test_an_unknown_subject_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace("cap:surrogate-data", "cap:surrogate-dataset"))
    assert rows == [("shape:Mapping", "The mapped gia-kg term https://w3id.org/gia-kg/id/capability/"
                     "surrogate-dataset is not in the graph (it has no rdf:type or no rdfs:label): a "
                     "misspelt IRI, or a term the data no longer has.")]


def test_a_renamed_subject_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace('"Surrogate Data"', '"Auxiliary Data"'))
    assert rows == [("shape:Mapping", "The mapping's subject_label Auxiliary Data is not the label of "
                     "https://w3id.org/gia-kg/id/capability/surrogate-data (Surrogate Data): the term "
                     "changed since the mapping was reviewed; review it again.")]


def test_a_target_without_its_label_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace('<https://example.org/x/Datasets> skos:prefLabel "Datasets" .\n',
                                             ""))
    assert rows == [("shape:Mapping", "The mapped target https://example.org/x/Datasets needs exactly "
                     "one skos:prefLabel, the mapping's object_label Datasets.")]


def test_a_set_without_license_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace("    dcterms:license <https://example.org/license> ;\n", ""))
    assert rows == [("shape:MappingSet", "A mapping set needs exactly one dcterms:license, an IRI.")]


def test_a_set_without_version_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace('    sssom:object_source_version "1.0" ;\n', ""))
    assert rows == [("shape:MappingSet", "A mapping set needs exactly one sssom:object_source_version: "
                     "the version of the catalogue it maps to.")]


def test_an_unrecorded_skos_mapping_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI + "gia:Attack skos:exactMatch <https://example.org/x/Datasets> .\n")
    assert rows == [("shape:MappingRecorded", "https://w3id.org/gia-kg/ontology#Attack "
                     "http://www.w3.org/2004/02/skos/core#exactMatch https://example.org/x/Datasets is "
                     "not a reviewed mapping: no mapping set lists an owl:Axiom for it with both labels "
                     "and a justification (add it to a mappings/*.sssom.tsv file).")]


def test_a_mapping_without_its_triple_is_a_violation(tmp_path: Path) -> None:
    rows = shape_rows(tmp_path, MINI.replace(
        "cap:surrogate-data skos:closeMatch <https://example.org/x/Datasets> .\n", ""))
    assert rows == [("shape:Mapping", "The mapping is not in the graph: https://w3id.org/gia-kg/id/"
                     "capability/surrogate-data http://www.w3.org/2004/02/skos/core#closeMatch "
                     "https://example.org/x/Datasets is not asserted (the owl:Axiom annotates a "
                     "triple that must exist).")]
