"""The project's one namespace module: IRIs of the ontology and of instance resources.

Plain strings are importable without rdflib (the query path must stay fast);
the rdflib ``GIA`` DefinedNamespace and ``Namespace`` objects are built on first use.
A test checks ``GIA`` term by term against ``ontology/gia.ttl``.
"""

from __future__ import annotations

from typing import Any

ONTOLOGY_IRI = "https://w3id.org/gia-kg/ontology"
GIA_NS = ONTOLOGY_IRI + "#"
ID_BASE = "https://w3id.org/gia-kg/id/"

#: Kinds of instance resource, each a path segment under ID_BASE and a Turtle prefix.
RESOURCE_KINDS: dict[str, str] = {
    "adv": "adversary",
    "assessment": "assessment",
    "attack": "attack",
    "cap": "capability",
    "category": "category",
    "defense": "defense",
    "model": "model",
    "ref": "reference",
    "sok": "sok",
    "task": "task",
    "technique": "technique",
    "tm": "threat-model",
    "work": "work",
}

#: Prefixes predeclared for ad-hoc SPARQL and bound in every serialization (sorted by prefix).
PREFIXES: dict[str, str] = dict(
    sorted(
        {
            "gia": GIA_NS,
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "owl": "http://www.w3.org/2002/07/owl#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "dcterms": "http://purl.org/dc/terms/",
            "prov": "http://www.w3.org/ns/prov#",
            "sh": "http://www.w3.org/ns/shacl#",
            **{prefix: ID_BASE + segment + "/" for prefix, segment in RESOURCE_KINDS.items()},
        }.items()
    )
)

#: The prefixes `gia-kg sparql` predeclares (the issue's contract) plus the instance prefixes.
SPARQL_PREFIXES: dict[str, str] = {k: v for k, v in PREFIXES.items() if k != "sh"}

THREAT_MODEL_LETTERS = ("A", "B", "C", "D", "E", "F", "G", "H")


def resource_iri(kind: str, slug: str) -> str:
    """IRI string of an instance resource; ``kind`` is a key of RESOURCE_KINDS."""
    return PREFIXES[kind] + slug


def gia_iri(term: str) -> str:
    """IRI string of an ontology term (not checked: use ``GIA.term`` where rdflib is loaded)."""
    return GIA_NS + term


def sparql_prologue(prefixes: dict[str, str] | None = None) -> str:
    """PREFIX lines for a query text."""
    items = (prefixes or SPARQL_PREFIXES).items()
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in items)


def _build_gia() -> Any:
    from rdflib import URIRef
    from rdflib.namespace import DefinedNamespace, Namespace

    class GIA(DefinedNamespace):
        """Terms of ontology/gia.ttl; a misspelt term raises AttributeError."""

        _fail = True
        _NS = Namespace(GIA_NS)

        AddsLinearLayers: URIRef
        Adversary: URIRef
        Assessment: URIRef
        AssumesLabelKnowledge: URIRef
        Attack: URIRef
        AttackCategory: URIRef
        AttackTechnique: URIRef
        Capability: URIRef
        Category: URIRef
        ClientSide: URIRef
        CodeStatus: URIRef
        Defense: URIRef
        DefenseCategory: URIRef
        DefenseTechnique: URIRef
        DeploymentSide: URIRef
        Effective: URIRef
        EffectivenessLevel: URIRef
        FedAVG: URIRef
        FedSGD: URIRef
        FormalDefense: URIRef
        GenericImplementations: URIRef
        HeuristicDefense: URIRef
        Ineffective: URIRef
        InputSizeResolution: URIRef
        LabelRecoveryKind: URIRef
        LearningAlgorithm: URIRef
        LearningTask: URIRef
        ModelArchitecture: URIRef
        ModelNote: URIRef
        NewLabelRecovery: URIRef
        NoLabelRestoration: URIRef
        NotOpenSource: URIRef
        OpenSource: URIRef
        OptimizationLabelReconstruction: URIRef
        Partial: URIRef
        Reference: URIRef
        ResolutionKind: URIRef
        ReusedLabelRecovery: URIRef
        ServerSide: URIRef
        SoKRelease: URIRef
        TargetsLinearLayers: URIRef
        Technique: URIRef
        ThreatModel: URIRef
        Work: URIRef
        adversaryClass: URIRef
        applicability: URIRef
        batchSize: URIRef
        category: URIRef
        citationText: URIRef
        code: URIRef
        codeRepository: URIRef
        codeStatus: URIRef
        deployedAt: URIRef
        directlyStrongerThan: URIRef
        firstAuthor: URIRef
        hasAssessment: URIRef
        hasCapability: URIRef
        imageHeight: URIRef
        imageWidth: URIRef
        intuition: URIRef
        labelRecovery: URIRef
        labelRecoverySource: URIRef
        learningAlgorithm: URIRef
        learningTask: URIRef
        letter: URIRef
        level: URIRef
        localIterations: URIRef
        modelNote: URIRef
        name: URIRef
        notReported: URIRef
        paperLink: URIRef
        rank: URIRef
        reference: URIRef
        referenceNumber: URIRef
        resolutionKind: URIRef
        sharedModel: URIRef
        slug: URIRef
        sokVersion: URIRef
        strongerThan: URIRef
        symbol: URIRef
        technique: URIRef
        threatModel: URIRef
        venue: URIRef
        weakness: URIRef
        weaknessCites: URIRef
        work: URIRef
        year: URIRef

    return GIA


_LAZY: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """Build rdflib objects (GIA, and the instance namespaces in upper case) on first use."""
    if name in _LAZY:
        return _LAZY[name]
    if name == "GIA":
        _LAZY[name] = _build_gia()
    elif name.lower() in PREFIXES:
        from rdflib.namespace import Namespace

        _LAZY[name] = Namespace(PREFIXES[name.lower()])
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _LAZY[name]
