"""The one way to load the graph: ontology + instance data (+ materialized inferences) into rdflib."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import InputError
from kg.namespaces import PREFIXES
from kg.paths import DATA_DIR, INFERRED_NAME, ONTOLOGY_FILE

if TYPE_CHECKING:
    from rdflib import Graph


def data_dir(kg_dir: str | Path | None) -> Path:
    """The instance-data folder to use: ``--kg DIR`` or the data shipped in the package."""
    path = Path(kg_dir) if kg_dir is not None else DATA_DIR
    if not path.is_dir():
        raise InputError(f"--kg {path}: not a folder of Turtle files")
    return path


def instance_files(kg_dir: str | Path | None, *, inferred: bool = True) -> list[Path]:
    """Sorted Turtle files of a data folder, with or without the materialized inferences."""
    folder = data_dir(kg_dir)
    files = sorted(p for p in folder.glob("*.ttl") if inferred or p.name != INFERRED_NAME)
    if not files:
        raise InputError(f"--kg {folder}: no *.ttl files found")
    return files


def new_graph() -> Graph:
    """An empty rdflib graph with the project's prefixes bound (and no others added by rdflib)."""
    from rdflib import Graph

    graph = Graph(bind_namespaces="none")
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri)
    return graph


def parse_into(graph: Graph, path: Path) -> Graph:
    """Parse one RDF file into ``graph``; a syntax error becomes an InputError naming file and line."""
    from rdflib.plugins.parsers.notation3 import BadSyntax

    fmt = "turtle" if path.suffix in {".ttl", ".turtle"} else None
    try:
        graph.parse(path, format=fmt)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except BadSyntax as exc:
        text = exc._str.decode("utf-8", "replace")
        line_start = text.rfind("\n", 0, exc._i) + 1
        column = exc._i - line_start + 1
        near = text[exc._i : exc._i + 30].split("\n")[0]
        raise InputError(
            f"{path}:{exc.lines + 1}:{column}: Turtle syntax error: {exc._why} (near {near!r})"
        ) from None
    except Exception as exc:  # rdflib raises many parser-specific types
        raise InputError(f"{path}: cannot parse RDF: {exc}".splitlines()[0]) from None
    return graph


def load_graph(
    kg_dir: str | Path | None = None,
    *,
    ontology: bool = True,
    inferred: bool = True,
    extra: Iterable[str | Path] = (),
) -> Graph:
    """Ontology, instance data, optionally inferred triples and extra files, in one rdflib graph."""
    graph = new_graph()
    files = [ONTOLOGY_FILE] if ontology else []
    files += instance_files(kg_dir, inferred=inferred)
    files += [Path(p) for p in extra]
    for path in files:
        parse_into(graph, path)
    return graph
