"""Which files make up the graph, and loading them into rdflib (the query path uses kg.engine)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import InputError
from kg.namespaces import PREFIXES
from kg.paths import DATA_DIR, INFERRED_NAME, ONTOLOGY_FILE, THREAT_MODELS_NAME

if TYPE_CHECKING:
    from rdflib import Graph

#: The comment line of inferred.ttl that records ``order_sources_digest`` of its sources.
STAMP = "# sources-sha256:"


def data_dir(kg_dir: str | Path | None) -> Path:
    """The instance-data folder to use: ``--kg DIR`` or the data shipped in the package."""
    path = Path(kg_dir) if kg_dir is not None else DATA_DIR
    if not path.is_dir():
        raise InputError(f"--kg {path}: not a folder of Turtle files")
    return path


def instance_files(kg_dir: str | Path | None, *, inferred: bool = True) -> list[Path]:
    """Sorted Turtle files of a data folder; with ``inferred``, its reasoned order, which must be fresh.

    A missing or stale inferred.ttl is an error rather than an empty order: without it every
    threat model looks incomparable and "feasible attacks" silently shrink.
    """
    folder = data_dir(kg_dir)
    files = sorted(p for p in folder.glob("*.ttl") if inferred or p.name != INFERRED_NAME)
    if not files:
        raise InputError(f"--kg {folder}: no *.ttl files found")
    if inferred:
        problem = inferred_problem(folder)
        if problem:
            raise InputError(problem)
    return files


def order_sources_digest(folder: Path) -> str:
    """SHA-256 of what the reasoned order depends on: the ontology and the folder's threat models."""
    import hashlib

    digest = hashlib.sha256()
    for path in (ONTOLOGY_FILE, folder / THREAT_MODELS_NAME):
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            raise InputError(f"{path}: missing or unreadable (run `gia-kg import-sok`)") from None
    return digest.hexdigest()


def inferred_problem(folder: Path) -> str | None:
    """Why the folder's inferred.ttl cannot be used (missing, or stamped for other sources), or None."""
    path = folder / INFERRED_NAME
    if not path.is_file():
        return f"{path}: missing; run `gia-kg reason` to derive the threat-model order"
    with path.open(encoding="utf-8") as handle:
        head = [handle.readline() for _ in range(5)]
    stamp = next((line.split(":", 1)[1].strip() for line in head if line.startswith(STAMP)), None)
    if stamp != order_sources_digest(folder):
        return (
            f"{path}: stale (the ontology or {THREAT_MODELS_NAME} changed since it was derived); "
            "run `gia-kg reason`"
        )
    return None


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
