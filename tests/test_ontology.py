"""The TBox: header, documentation of every term, the namespace module, OWL 2 DL with HermiT."""

from __future__ import annotations

import re

import pytest
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import DCTERMS, SKOS

import kg
from kg.namespaces import GIA, GIA_NS, ONTOLOGY_IRI
from kg.paths import ONTOLOGY_FILE


@pytest.fixture(scope="module")
def tbox() -> Graph:
    return Graph().parse(ONTOLOGY_FILE)


def test_header_is_versioned_and_cites_the_sok(tbox: Graph) -> None:
    onto = URIRef(ONTOLOGY_IRI)
    assert (onto, RDF.type, OWL.Ontology) in tbox
    version = str(tbox.value(onto, OWL.versionInfo))
    assert version == kg.__version__
    assert str(tbox.value(onto, OWL.versionIRI)).endswith("/" + version)
    assert tbox.value(onto, DCTERMS.license) == URIRef("https://www.gnu.org/licenses/gpl-3.0.html")
    assert "SoK: Gradient Inversion Attacks in Federated Learning" in str(
        tbox.value(onto, DCTERMS.bibliographicCitation)
    )
    assert tbox.value(onto, DCTERMS.source) is not None


def test_required_classes_exist(tbox: Graph) -> None:
    for name in ("Attack", "Defense", "ThreatModel", "Capability", "Work", "Assessment",
                 "AttackCategory", "AttackTechnique", "DefenseCategory", "DefenseTechnique",
                 "LearningAlgorithm", "EffectivenessLevel", "LabelRecoveryKind"):
        assert (URIRef(GIA_NS + name), RDF.type, OWL.Class) in tbox, name


def test_every_gia_term_has_label_and_definition(tbox: Graph) -> None:
    terms = {s for s in tbox.subjects() if isinstance(s, URIRef) and str(s).startswith(GIA_NS)}
    assert len(terms) > 50
    for term in terms:
        assert tbox.value(term, RDFS.label) is not None, term
        assert (tbox.value(term, SKOS.definition) or tbox.value(term, RDFS.comment)) is not None, term


def test_namespace_module_matches_ontology(tbox: Graph) -> None:
    declared = {str(s)[len(GIA_NS):] for s in tbox.subjects() if str(s).startswith(GIA_NS)}
    in_module = {name for name in GIA.__annotations__ if not name.startswith("_")}
    assert declared == in_module
    with pytest.raises(AttributeError):
        GIA.Atack  # noqa: B018  (a misspelt term must fail, not mint an IRI)


def test_seven_capabilities_with_the_issue_slugs(tbox: Graph) -> None:
    slugs = sorted(str(o) for s in tbox.subjects(RDF.type, GIA.Capability)
                   for o in tbox.objects(s, GIA.slug))
    assert slugs == sorted([
        "model-updates", "basic-knowledge", "training-details", "surrogate-data",
        "client-data-distribution", "active-manipulation", "client-selection",
    ])


def test_no_punning_between_classes_and_individuals(tbox: Graph) -> None:
    classes = set(tbox.subjects(RDF.type, OWL.Class))
    individuals = set(tbox.subjects(RDF.type, OWL.NamedIndividual))
    assert not classes & individuals
    object_props = set(tbox.subjects(RDF.type, OWL.ObjectProperty))
    data_props = set(tbox.subjects(RDF.type, OWL.DatatypeProperty))
    assert not object_props & data_props


def test_version_is_written_once_in_pyproject() -> None:
    text = (ONTOLOGY_FILE.parent.parent / "pyproject.toml").read_text()
    assert re.search(r'version = \{ attr = "kg.__version__" \}', text)
