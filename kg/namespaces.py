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



def resource_iri(kind: str, slug: str) -> str:
    """IRI string of an instance resource; ``kind`` is a key of RESOURCE_KINDS."""
    return PREFIXES[kind] + slug


#: Every term of ontology/gia.ttl (a test checks the two are equal).
GIA_TERMS: frozenset[str] = frozenset((
    "AddsLinearLayers", "Adversary", "Assessment", "AssumesLabelKnowledge", "Attack",
    "AttackCategory", "AttackTechnique", "Capability", "Category", "ClientSide", "CodeStatus",
    "Defense", "DefenseCategory", "DefenseTechnique", "DeploymentSide", "Effective",
    "EffectivenessLevel", "FedAVG", "FedSGD", "FormalDefense", "GenericImplementations",
    "HeuristicDefense", "Ineffective", "InputSizeResolution", "LabelRecoveryKind",
    "LearningAlgorithm", "LearningTask", "ModelArchitecture", "ModelNote", "NewLabelRecovery",
    "NoLabelRestoration", "NotOpenSource", "OpenSource", "OptimizationLabelReconstruction",
    "Partial", "Reference", "ResolutionKind", "ReusedLabelRecovery", "ServerSide", "SoKRelease",
    "TargetsLinearLayers", "Technique", "ThreatModel", "Work", "adversaryClass", "applicability",
    "batchSize", "category", "citationText", "code", "codeRepository", "codeStatus", "deployedAt",
    "directlyStrongerThan", "firstAuthor", "hasAssessment", "hasCapability", "imageHeight",
    "imageWidth", "intuition", "itemPosition", "labelRecovery", "labelRecoverySource",
    "learningAlgorithm",
    "learningTask", "letter", "level", "lineBreakBefore", "localIterations", "modelNote", "name",
    "notReported", "paperLink", "position", "rank", "reference", "referenceNumber", "resolutionKind",
    "restates", "sharedModel", "sharesNounWithPrevious", "slug",
    "sokVersion", "strongerThan", "symbol", "technique", "threatModel", "venue", "weakness",
    "weaknessCites", "work", "year",
    "equivalentThreatModel",
))


def gia_iri(term: str) -> str:
    """IRI string of an ontology term; a misspelt term is a KeyError, as ``GIA.term`` would fail."""
    if term not in GIA_TERMS:
        raise KeyError(f"gia:{term} is not a term of ontology/gia.ttl")
    return GIA_NS + term


def _build_gia() -> Any:
    from rdflib import URIRef
    from rdflib.namespace import DefinedNamespace, Namespace

    body = {
        "__doc__": "Terms of ontology/gia.ttl; a misspelt term raises AttributeError.",
        "__annotations__": dict.fromkeys(sorted(GIA_TERMS), URIRef),
        "_fail": True,
        "_NS": Namespace(GIA_NS),
    }
    return type("GIA", (DefinedNamespace,), body)


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
