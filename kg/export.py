"""``gia-kg export``: the whole graph in a standard RDF syntax other tools load.

The same files as every other command (``kg.engine.dataset_files``: ontology + instance data,
optionally + inferred.ttl) are parsed with pyoxigraph, blank nodes are given canonical labels
(RDFC-1.0) and triples are sorted, so two exports of the same graph are byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.engine import dataset_files
from kg.errors import InputError
from kg.namespaces import PREFIXES
from kg.store import memory_store

#: ``--format`` name → pyoxigraph format.
FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}


def graph_triples(kg_dir: str | Path | None = None, *, inferred: bool = False) -> list[ox.Triple]:
    """Every triple of the graph, blank nodes canonically labelled, sorted."""
    store = memory_store(dataset_files(kg_dir, inferred=inferred))
    dataset = ox.Dataset(ox.Quad(q.subject, q.predicate, q.object) for q in store)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted((q.triple for q in dataset), key=str)


def export(kg_dir: str | Path | None = None, fmt: str = "ttl", *, inferred: bool = False) -> str:
    """The graph serialized in ``fmt`` (one of FORMATS), deterministic."""
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    triples = graph_triples(kg_dir, inferred=inferred)
    prefixes = None if fmt == "nt" else PREFIXES
    data = ox.serialize(triples, format=FORMATS[fmt], prefixes=prefixes)
    return (data or b"").decode("utf-8")
