"""``gia-kg export``: the whole graph in a standard RDF syntax other tools load.

The same files as every other command (``kg.engine.dataset_files``: ontology + instance data,
optionally + inferred.ttl) are parsed with pyoxigraph, blank nodes are given canonical labels
(RDFC-1.0) and triples are sorted, so two exports of the same graph are byte-identical.

Graph syntaxes (FORMATS) merge everything into one graph. Dataset syntaxes (DATASET_FORMATS:
TriG, N-Quads) keep where each triple comes from, one named graph per source:

- the ontology (ontology/gia.ttl) in ``<https://w3id.org/gia-kg/ontology>`` (ONTOLOGY_IRI);
- the instance data in the graph named by its SoK release, e.g. ``sok:2025-09-02``
  (found by queries/export/release.rq);
- with ``inferred``, the reasoned order (inferred.ttl) in ``<release IRI>/inferred``;
- the crosswalk (mappings/*.ttl, kg.mappings) in ``<https://w3id.org/gia-kg/mappings>``.

JSON-LD is compacted with the project's prefixes as ``@context`` (pyoxigraph 0.5's writer ignores
``prefixes`` for JSON-LD and writes expanded JSON-LD), by ``jsonld`` below.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import formats
from kg.engine import XSD_STRING, dataset_files
from kg.errors import InputError
from kg.inputs import read_text
from kg.mappings import CROSSWALK_GRAPH, crosswalk_files
from kg.namespaces import ONTOLOGY_IRI, PREFIXES
from kg.paths import INFERRED_NAME, QUERIES_DIR
from kg.store import load_files, memory_store

#: ``--format`` name → pyoxigraph format, for the syntaxes of one graph.
FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}
#: ``--format`` name → pyoxigraph format, for the dataset syntaxes (named graphs).
DATASET_FORMATS: dict[str, ox.RdfFormat] = {
    "trig": ox.RdfFormat.TRIG,
    "nq": ox.RdfFormat.N_QUADS,
}
#: Every name ``export`` accepts, in the order help texts list them.
FORMAT_NAMES: tuple[str, ...] = (*FORMATS, *DATASET_FORMATS)

#: Finds the SoK release the instance data was imported from.
RELEASE_QUERY = QUERIES_DIR / "export" / "release.rq"
#: Suffix of the inferred graph's name, appended to the release IRI.
INFERRED_SUFFIX = "/inferred"

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def graph_triples(kg_dir: str | Path | None = None, *, inferred: bool = False) -> list[ox.Triple]:
    """Every triple of the graph, blank nodes canonically labelled, sorted.

    Only the triples that hold a blank node (the ontology's OWL axioms: a few hundred) go through
    RDFC-1.0: a blank node's canonical label depends on those triples alone, so the result is the
    same as canonicalising everything, without copying the whole graph into an ox.Dataset (that
    copy made the export superlinear: 87 s and 6 GB at 1000x).
    """
    store = memory_store(dataset_files(kg_dir, inferred=inferred))
    plain: list[ox.Triple] = []
    blank = ox.Dataset()
    for quad in store:
        if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
            blank.add(ox.Quad(quad.subject, quad.predicate, quad.object))
        else:
            plain.append(quad.triple)
    blank.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    plain.extend(q.triple for q in blank)
    plain.sort(key=str)
    return plain


def release_iri(store: ox.Store, where: str) -> ox.NamedNode:
    """The one SoK release the instance data in ``store`` names (queries/export/release.rq)."""
    rows = [row["release"] for row in store.query(read_text(RELEASE_QUERY))]  # type: ignore[union-attr]
    if len(rows) != 1 or not isinstance(rows[0], ox.NamedNode):
        found = ", ".join(str(r) for r in rows) or "none"
        raise InputError(
            f"--kg {where}: TriG/N-Quads name the instance data's graph after its SoK release, so "
            f"the data must name exactly one (a gia:SoKRelease IRI in sok.ttl, as written by "
            f"`gia-kg import-sok`, and the same as prov:wasDerivedFrom); found {found}"
        )
    return rows[0]


def dataset_quads(kg_dir: str | Path | None = None, *, inferred: bool = False) -> list[ox.Quad]:
    """Every triple in its named graph (ontology, release, inferred), canonical, sorted by graph."""
    files = dataset_files(kg_dir, inferred=inferred)  # checks inferred.ttl is fresh
    crosswalk = crosswalk_files()
    ontology, data = files[0], [p for p in files[1:] if p not in crosswalk]
    inferred_files = [p for p in data if p.name == INFERRED_NAME]
    instance = load_files(ox.Store(), [p for p in data if p.name != INFERRED_NAME])
    release = release_iri(instance, str(data[0].parent))
    graphs = [(ox.NamedNode(ONTOLOGY_IRI), load_files(ox.Store(), [ontology])), (release, instance)]
    if inferred_files:
        graphs.append((ox.NamedNode(release.value + INFERRED_SUFFIX), load_files(ox.Store(), inferred_files)))
    if crosswalk:
        graphs.append((ox.NamedNode(CROSSWALK_GRAPH), load_files(ox.Store(), crosswalk)))
    dataset = ox.Dataset(
        ox.Quad(q.subject, q.predicate, q.object, name) for name, store in graphs for q in store
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=lambda q: (q.graph_name.value, str(q.triple)))


# ---------------------------------------------------------------- compacted JSON-LD


def _compactor(prefixes: Mapping[str, str]) -> Callable[[str], str]:
    """A function IRI → ``prefix:local`` (longest namespace first), or the IRI when none fits."""
    namespaces = sorted(prefixes.items(), key=lambda item: (-len(item[1]), item[0]))

    def compact(iri: str) -> str:
        for prefix, namespace in namespaces:
            local = iri[len(namespace):]
            # JSON-LD reads "p://x" as an absolute IRI, never as a compact one.
            if iri.startswith(namespace) and not local.startswith("//"):
                return f"{prefix}:{local}"
        if iri.partition(":")[0] in prefixes:
            raise InputError(f"JSON-LD: the IRI <{iri}> would be read as a compact IRI of the "
                             f"prefix {iri.partition(':')[0]}; use --format ttl or nt")
        return iri

    return compact


def _node_id(term: ox.NamedNode | ox.BlankNode | ox.Triple, compact: Callable[[str], str]) -> str:
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    raise InputError(f"JSON-LD: the RDF-star triple term {term} has no JSON-LD form; use --format nt")


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, compact: Callable[[str], str]) -> Any:
    """A JSON-LD value object: {"@id"}, a plain string (xsd:string), {"@value", "@type"/"@language"}."""
    if not isinstance(term, ox.Literal):
        return {"@id": _node_id(term, compact)}
    if term.direction is not None:
        raise InputError(f"JSON-LD: the literal {term} has a base direction, which JSON-LD to RDF "
                         "drops by default; use --format nt")
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return term.value
    return {"@value": term.value, "@type": compact(term.datatype.value)}


def _json_key(value: Any) -> str:
    """Values sort by what a reader sees: their compact JSON text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def jsonld(triples: Iterable[ox.Triple], prefixes: Mapping[str, str] = PREFIXES) -> str:
    """Compacted JSON-LD: ``prefixes`` as ``@context``, one node object per subject in ``@graph``.

    Byte-deterministic: blank nodes get canonical labels (RDFC-1.0), nodes are sorted by ``@id``,
    properties by name, values by their compact JSON text; one value is written bare, several as a
    list. IRIs are compacted to ``prefix:local`` where a prefix fits; rdf:type IRIs go in ``@type``.
    """
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    compact = _compactor(prefixes)
    subjects: dict[str, dict[str, list[Any]]] = {}
    for quad in dataset:
        node = subjects.setdefault(_node_id(quad.subject, compact), {})
        if quad.predicate.value == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            key, value = "@type", compact(quad.object.value)
        else:
            key, value = compact(quad.predicate.value), _value(quad.object, compact)
        node.setdefault(key, []).append(value)
    graph = []
    for node_id in sorted(subjects):
        properties = subjects[node_id]
        node: dict[str, Any] = {"@id": node_id}
        for key in sorted(properties, key=lambda k: (k != "@type", k)):
            node[key] = _one_or_list(sorted(properties[key], key=_json_key))
        graph.append(node)
    document = {"@context": dict(sorted(prefixes.items())), "@graph": graph}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- entry point


def export(kg_dir: str | Path | None = None, fmt: str = "ttl", *, inferred: bool = False) -> str:
    """The graph serialized in ``fmt`` (one of FORMAT_NAMES, or an alias of one), deterministic."""
    name = formats.canonical(fmt) or fmt
    if name not in FORMAT_NAMES:
        raise InputError(f"--format {fmt}: expected one of {', '.join(FORMAT_NAMES)}")
    if name in DATASET_FORMATS:
        quads = dataset_quads(kg_dir, inferred=inferred)
        prefixes = None if name == "nq" else PREFIXES
        data = ox.serialize(quads, format=DATASET_FORMATS[name], prefixes=prefixes)
        return (data or b"").decode("utf-8")
    triples = graph_triples(kg_dir, inferred=inferred)
    if name == "jsonld":
        return jsonld(triples)
    prefixes = None if name == "nt" else PREFIXES
    data = ox.serialize(triples, format=FORMATS[name], prefixes=prefixes)
    return (data or b"").decode("utf-8")
