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
    threat model looks incomparable and "feasible attacks" silently shrink. An entry that is not
    a regular file (a FIFO, a device, a folder named ``x.ttl``) is an error, not a hang.
    """
    folder = data_dir(kg_dir)
    files = sorted(p for p in folder.glob("*.ttl") if inferred or p.name != INFERRED_NAME)
    if not files:
        raise InputError(f"--kg {folder}: no *.ttl files found")
    for path in files:
        if not path.is_file():  # follows symbolic links: a link to a regular file is fine
            raise InputError(f"{path}: not a regular file; a data folder holds Turtle files only")
    if inferred:
        problem = inferred_problem(folder)
        if problem:
            raise InputError(problem)
    return files


def order_sources_digest(folder: Path) -> str:
    """SHA-256 of what the reasoned order depends on: the ontology and the folder's threat models."""
    import hashlib

    from kg.inputs import iter_chunks

    digest = hashlib.sha256()
    for path in (ONTOLOGY_FILE, folder / THREAT_MODELS_NAME):
        if not path.exists():
            raise InputError(f"{path}: missing (run `gia-kg import-sok`)")
        digest.update(path.name.encode() + b"\0")
        for chunk in iter_chunks(path):
            digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def inferred_problem(folder: Path) -> str | None:
    """Why the folder's inferred.ttl cannot be used (missing, or stamped for other sources), or None."""
    from kg.inputs import open_regular

    path = folder / INFERRED_NAME
    if not path.exists():
        return f"{path}: missing; run `gia-kg reason` to derive the threat-model order"
    with open_regular(path) as (handle, _size):
        head = [handle.readline(4096).decode("utf-8", "replace") for _ in range(5)]
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


#: RDF syntaxes read by ``parse_into``, by file suffix. Turtle and N-Triples are parsed by rdflib;
#: JSON-LD and RDF/XML by Oxigraph, whose parsers load no remote ``@context`` (rdflib's JSON-LD
#: parser fetches them, and opens ``file:`` ones), after a check that the XML declares no entities.
RDF_SYNTAXES = {
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "nt",
    ".jsonld": "json-ld", ".json": "json-ld", ".rdf": "xml", ".owl": "xml", ".xml": "xml",
}


def _syntax_of(path: Path) -> str:
    syntax = RDF_SYNTAXES.get(path.suffix.lower())
    if syntax is None:
        raise InputError(
            f"{path}: unknown RDF syntax {path.suffix or '(no suffix)'!r}; expected one of "
            + ", ".join(sorted(RDF_SYNTAXES))
        )
    return syntax


def _via_oxigraph(path: Path, data: bytes, syntax: str) -> str:
    """JSON-LD or RDF/XML as N-Triples text, parsed by Oxigraph (no remote context, no entities)."""
    import pyoxigraph as ox

    from kg.store import oxigraph_syntax_error

    if syntax == "xml" and b"<!ENTITY" in data:
        raise InputError(f"{path}: declares XML entities (<!ENTITY ...>); refused: RDF/XML with a DTD "
                         "can expand without bound")
    fmt = ox.RdfFormat.JSON_LD if syntax == "json-ld" else ox.RdfFormat.RDF_XML
    try:
        quads = ox.parse(data, format=fmt, base_iri=path.resolve().as_uri())
        return "".join(f"{q.triple} .\n" for q in quads if q.graph_name == ox.DefaultGraph())
    except SyntaxError as exc:
        if "LoadDocumentCallback" in str(exc):
            raise InputError(f"{path}: names a remote JSON-LD @context or @import; refused: "
                             "gia-kg reads only the files it is given (inline the context)") from None
        raise oxigraph_syntax_error(path, exc, "JSON-LD" if syntax == "json-ld" else "RDF/XML") from None
    except MemoryError:
        raise InputError(f"{path}: too large to parse in memory") from None


def parse_into(graph: Graph, path: Path) -> Graph:
    """Parse one RDF file into ``graph``; a syntax error becomes an InputError naming file and line.

    The file is read through kg.inputs (a regular file within the size cap, UTF-8); no parser is
    given a path or a URL to open, and ``owl:imports`` are data, never followed.
    """
    from rdflib.plugins.parsers.notation3 import BadSyntax

    from kg.inputs import decode_utf8, read_bytes

    path = Path(path)
    syntax = _syntax_of(path)
    data = read_bytes(path)
    if syntax in ("json-ld", "xml"):
        text, syntax = _via_oxigraph(path, data, syntax), "nt"
    else:
        text = decode_utf8(data, str(path))
    try:
        graph.parse(data=text, format=syntax, publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raw = exc._str.decode("utf-8", "replace") if isinstance(exc._str, bytes) else str(exc._str)
        line_start = raw.rfind("\n", 0, exc._i) + 1
        column = exc._i - line_start + 1
        near = raw[exc._i : exc._i + 30].split("\n")[0]
        raise InputError(
            f"{path}:{exc.lines + 1}:{column}: Turtle syntax error: {exc._why} (near {near!r})"
        ) from None
    except MemoryError:
        raise InputError(f"{path}: too large to parse in memory") from None
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
    """Ontology (with the crosswalk, kg.mappings), instance data, optionally inferred triples and
    extra files, in one rdflib graph: with ``ontology``, the files of kg.engine.dataset_files."""
    from kg.mappings import crosswalk_files

    graph = new_graph()
    files = [ONTOLOGY_FILE, *crosswalk_files()] if ontology else []
    files += instance_files(kg_dir, inferred=inferred)
    files += [Path(p) for p in extra]
    for path in files:
        parse_into(graph, path)
    return graph
