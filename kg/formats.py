"""One name per output syntax, for every command: the documented names, their aliases, extensions.

A command offers a tuple of canonical names (e.g. ``export``: ttl, nt, jsonld, xml, trig, nq).
``resolve`` turns what the user gave into one of them: ``--format`` (a name or a common alias,
case-insensitive), else the extension of ``-o FILE``, else the command's default. The same name
can mean a different syntax by result kind, as in the SPARQL world: ``xml`` is SPARQL Results XML
for a table and RDF/XML for a graph, ``.json`` is SPARQL Results JSON for a table and JSON-LD for a
graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kg.errors import UsageError

#: Canonical name → aliases accepted for it (the canonical names are the documented ones).
ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("table", "txt", "plain"),
    "csv": (),
    "tsv": (),
    "json": ("srj",),
    "xml": ("srx", "rdfxml", "rdf-xml", "rdf", "owl"),
    "md": ("markdown",),
    "ttl": ("turtle",),
    "nt": ("ntriples", "n-triples"),
    "jsonld": ("json-ld",),
    "trig": (),
    "nq": ("nquads", "n-quads"),
    "dot": ("graphviz", "gv"),
}

#: File extension → canonical name, per result kind ("graph" for RDF graphs and datasets).
EXTENSIONS: dict[str, dict[str, str]] = {
    "table": {".txt": "text", ".csv": "csv", ".tsv": "tsv", ".json": "json", ".srj": "json",
              ".xml": "xml", ".srx": "xml", ".md": "md", ".dot": "dot", ".ttl": "ttl"},
    "graph": {".ttl": "ttl", ".nt": "nt", ".jsonld": "jsonld", ".json": "jsonld", ".xml": "xml",
              ".rdf": "xml", ".owl": "xml", ".trig": "trig", ".nq": "nq", ".txt": "text"},
}

#: The SPARQL result formats: SELECT and ASK results, CONSTRUCT and DESCRIBE graphs.
TABLE = ("text", "csv", "tsv", "json", "xml", "md")
GRAPH = ("ttl", "nt", "jsonld", "xml")
DATASET = ("trig", "nq")

#: Media types, for the HTTP side and for documentation.
MEDIA_TYPES: dict[tuple[str, str], str] = {
    ("table", "text"): "text/plain",
    ("table", "csv"): "text/csv",
    ("table", "tsv"): "text/tab-separated-values",
    ("table", "json"): "application/sparql-results+json",
    ("table", "xml"): "application/sparql-results+xml",
    ("table", "md"): "text/markdown",
    ("graph", "ttl"): "text/turtle",
    ("graph", "nt"): "application/n-triples",
    ("graph", "jsonld"): "application/ld+json",
    ("graph", "xml"): "application/rdf+xml",
    ("graph", "trig"): "application/trig",
    ("graph", "nq"): "application/n-quads",
}

_BY_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in (name, *aliases)}


def canonical(value: str) -> str | None:
    """The canonical name of a format name or alias (case-insensitive), or None."""
    return _BY_ALIAS.get(value.strip().lower())


def describe(choices: Sequence[str], default: str | None) -> str:
    """``text (default), csv, json`` plus the aliases, for a --format help line."""
    names = [f"{c} (default)" if c == default else c for c in choices]
    aliases = [f"{a}={c}" for c in choices for a in ALIASES.get(c, ()) if a in _DOCUMENTED_ALIASES]
    text = ", ".join(names)
    return text + (f"; aliases {', '.join(aliases)}" if aliases else "")


#: Aliases worth listing in help texts (the others are accepted quietly).
_DOCUMENTED_ALIASES = {"table", "turtle", "ntriples", "json-ld", "markdown", "nquads", "rdfxml"}


def check_choice(value: str, choices: Sequence[str], what: str = "--format") -> str:
    """``value`` (a name or alias) as one of ``choices``; anything else is a UsageError."""
    name = canonical(value)
    if name is None or name not in choices:
        raise UsageError(f"{what} {value}: expected one of {', '.join(choices)}")
    return name


def from_extension(output: str | Path, choices: Sequence[str], kind: str = "table") -> str | None:
    """The format an output file's extension names among ``choices``; None for an unknown one.

    An extension that names a format the command cannot write (``export -o x.csv``) is a
    UsageError: writing Turtle into ``x.csv`` would be the silent surprise this avoids.
    """
    suffix = Path(output).suffix.lower()
    if not suffix:
        return None
    first, second = ("graph", "table") if kind == "graph" else ("table", "graph")
    name = EXTENSIONS[first].get(suffix) or EXTENSIONS[second].get(suffix)
    if name is None:
        return None
    if name not in choices:
        raise UsageError(
            f"-o {output}: this command does not write {suffix} files; give --format "
            f"({', '.join(choices)}) or an output name ending in one of its extensions"
        )
    return name


def resolve(
    given: str | None,
    output: str | Path | None,
    choices: Sequence[str],
    default: str,
    kind: str = "table",
) -> str:
    """The format to write: ``--format`` if given, else ``-o``'s extension, else the default."""
    if given is not None:
        return check_choice(given, choices)
    if output is not None and not _is_device(output):
        return from_extension(output, choices, kind) or default
    return default


def _is_device(output: str | Path) -> bool:
    """``-o /dev/stdout`` names no format."""
    return str(output).startswith("/dev/")
