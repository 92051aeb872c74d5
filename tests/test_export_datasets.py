"""`gia-kg export --format trig|nq`: one named graph per source (ontology, SoK release, inferred)."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset as RdflibDataset

from kg.errors import InputError
from kg.export import DATASET_FORMATS, FORMAT_NAMES, export

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "kg" / "data"
FIXTURE = ROOT / "tests" / "fixtures" / "queries"

# Written by hand: the ontology IRI of ontology/gia.ttl and the SoK release of the shipped data.
ONTOLOGY = "https://w3id.org/gia-kg/ontology"
#: The SSSOM crosswalk (mappings/), a graph of its own (issue 15).
MAPPINGS = "https://w3id.org/gia-kg/mappings"
RELEASE = "https://w3id.org/gia-kg/id/sok/2025-09-02"
INFERRED = "https://w3id.org/gia-kg/id/sok/2025-09-02/inferred"
GIA = "https://w3id.org/gia-kg/ontology#"
TM = "https://w3id.org/gia-kg/id/threat-model/"
SYNTAX = {"trig": ox.RdfFormat.TRIG, "nq": ox.RdfFormat.N_QUADS}


def quads(fmt: str, *, inferred: bool) -> list[ox.Quad]:
    return list(ox.parse(export(DATA, fmt, inferred=inferred).encode(), format=SYNTAX[fmt]))


def by_graph(fmt: str, *, inferred: bool) -> dict[str, set[str]]:
    """Graph name → its triples in N-Triples form (no blank nodes in the triples looked at)."""
    graphs: dict[str, set[str]] = {}
    for quad in quads(fmt, inferred=inferred):
        graphs.setdefault(quad.graph_name.value, set()).add(str(quad.triple))
    return graphs


def test_formats_listed_for_the_cli() -> None:
    assert FORMAT_NAMES == ("ttl", "nt", "jsonld", "xml", "trig", "nq")
    assert set(DATASET_FORMATS) == {"trig", "nq"}
    with pytest.raises(InputError, match="expected one of ttl, nt, jsonld, xml, trig, nq"):
        export(DATA, "nquad")


@pytest.mark.parametrize("fmt", ["trig", "nq"])
def test_graph_names_of_the_shipped_data(fmt: str) -> None:
    assert set(by_graph(fmt, inferred=False)) == {ONTOLOGY, MAPPINGS, RELEASE}  # no inferred graph
    assert set(by_graph(fmt, inferred=True)) == {ONTOLOGY, MAPPINGS, RELEASE, INFERRED}


@pytest.mark.parametrize("fmt", ["trig", "nq"])
@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
def test_union_of_the_graphs_is_the_triple_export(fmt: str, inferred: bool) -> None:
    text = export(DATA, fmt, inferred=inferred)
    assert text == export(DATA, fmt, inferred=inferred), "deterministic"
    union = ox.Dataset(ox.Quad(q.subject, q.predicate, q.object)
                       for q in ox.parse(text.encode(), format=SYNTAX[fmt]))
    union.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    assert sorted(f"{q.triple} ." for q in union) == export(DATA, "nt", inferred=inferred).splitlines()


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fmt", ["trig", "nq"])
def test_rdflib_reads_the_same_quads(fmt: str) -> None:
    expected = len(quads(fmt, inferred=True))
    rdflib_format = {"trig": "trig", "nq": "nquads"}[fmt]
    dataset = RdflibDataset().parse(data=export(DATA, fmt, inferred=True), format=rdflib_format)
    assert len(dataset) == expected
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert names == {ONTOLOGY, MAPPINGS, RELEASE, INFERRED}


def test_each_triple_is_in_the_graph_of_its_source() -> None:
    graphs = by_graph("nq", inferred=True)
    # inferred.ttl: the reasoner found G (SoK: adds surrogate data and active manipulation)
    # stronger than A (the eavesdropper), and G directly above D and F.
    g_above_a = f"<{TM}G> <{GIA}strongerThan> <{TM}A>"
    assert g_above_a in graphs[INFERRED]
    assert f"<{TM}G> <{GIA}directlyStrongerThan> <{TM}D>" in graphs[INFERRED]
    assert f"<{TM}G> <{GIA}directlyStrongerThan> <{TM}F>" in graphs[INFERRED]
    assert g_above_a not in graphs[RELEASE] | graphs[ONTOLOGY]
    assert {t.split()[1] for t in graphs[INFERRED]} == {
        f"<{GIA}strongerThan>", f"<{GIA}directlyStrongerThan>"}
    # threat-models.ttl and sok.ttl are the release's data; gia.ttl is the ontology.
    assert f'<{TM}G> <{GIA}letter> "G"' in graphs[RELEASE]
    assert f'<{RELEASE}> <{GIA}sokVersion> "2025-09-02"' in graphs[RELEASE]
    assert (f"<{GIA}SoKRelease> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            f"<http://www.w3.org/2002/07/owl#Class>") in graphs[ONTOLOGY]
    assert not any(t.startswith(f"<{TM}") for t in graphs[ONTOLOGY])
    assert not any(t.startswith(f"<{GIA}") for t in graphs[RELEASE])


def test_nquads_grouped_by_graph_and_sorted() -> None:
    lines = export(DATA, "nq", inferred=True).splitlines()
    order = [line.rsplit(" ", 2)[1] for line in lines]  # the graph name of each line
    firsts = list(dict.fromkeys(order))
    assert firsts == [f"<{RELEASE}>", f"<{INFERRED}>", f"<{MAPPINGS}>", f"<{ONTOLOGY}>"]  # by graph IRI, contiguous
    assert len(firsts) == len([i for i in range(len(order)) if i == 0 or order[i] != order[i - 1]])
    for name in firsts:
        block = [line for line in lines if line.endswith(f" {name} .")]
        assert block == sorted(block)
    assert any(line.startswith("_:c14n") for line in lines)  # blank nodes canonically labelled


def test_trig_uses_the_project_prefixes() -> None:
    text = export(DATA, "trig")
    assert "@prefix gia: <https://w3id.org/gia-kg/ontology#> ." in text
    assert "sok:2025-09-02 {" in text
    assert "<https://w3id.org/gia-kg/ontology> {" in text


def test_aliases_are_accepted() -> None:
    assert export(DATA, "nquads") == export(DATA, "nq")


def test_data_without_a_release_is_an_error() -> None:
    with pytest.raises(InputError, match=r"--kg .*queries: .*exactly one.*; found none"):
        export(FIXTURE, "trig")


def test_data_naming_two_releases_is_an_error(data_copy: Path) -> None:
    (data_copy / "older.ttl").write_text(
        "@prefix gia: <https://w3id.org/gia-kg/ontology#> .\n"
        "<https://w3id.org/gia-kg/id/sok/2025-07-15> a gia:SoKRelease .\n", encoding="utf-8")
    both = "found <https://w3id.org/gia-kg/id/sok/2025-07-15>, <https://w3id.org/gia-kg/id/sok/2025-09-02>"
    with pytest.raises(InputError, match=re.escape(both)):
        export(data_copy, "nq")
