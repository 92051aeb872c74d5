"""The crosswalk: hand-reviewed SSSOM mappings from gia-kg terms to MITRE ATLAS, NIST AI 100-2, OWASP
and AVID (``mappings/*.sssom.tsv``), read into RDF.

The TSV files are the source. ``mappings/crosswalk.ttl`` is generated from them (``python -m
kg.mappings``; ``--check`` fails when it is stale) and loaded with the ontology and the data
(``crosswalk_files``, used by kg.engine.dataset_files and kg.loading.load_graph), so ``query``,
``sparql``, ``export`` and the store see it. Turtle is committed rather than the TSV parsed at load
time because every loader reads RDF (the store's fingerprint covers exactly the files it loads):
the query path stays free of TSV parsing, and other tools can load the crosswalk as it is.

The RDF is sssom-py's layout (``sssom convert -O rdf`` gives a subset of it), plus what a SPARQL
user needs: per mapping set ``<mapping_set_id> a sssom:MappingSet`` with its metadata and
``sssom:mappings [ a owl:Axiom ; owl:annotatedSource S ; owl:annotatedProperty P ;
owl:annotatedTarget O ; sssom:subject_label ... ; sssom:object_label ... ;
sssom:mapping_justification ... ; rdfs:comment ... ]``, the mapping itself ``S P O`` (which the
axiom annotates, as OWL 2 requires) and ``O skos:prefLabel object_label``.

The reader is stricter than ``sssom validate`` (which fills in a missing license or justification):
the crosswalk's contract is a license, the target's version, SKOS predicates, a manual curation
justification and both labels on every row. Everything wrong in a file is reported at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import GiaKgError, InputError, InputErrors, StaleError
from kg.paths import PACKAGE_DIR, SHAPES_DIR

if TYPE_CHECKING:
    from kg.validation import ValidationResult

#: The mapping files and the Turtle made from them: ``mappings/`` in a checkout, ``kg/crosswalk/``
#: in the wheel (the package ``kg.crosswalk``; ``kg.mappings`` is this module).
MAPPINGS_DIR = PACKAGE_DIR / "crosswalk" if (PACKAGE_DIR / "crosswalk").is_dir() else (
    PACKAGE_DIR.parent / "mappings")
CROSSWALK_FILE = MAPPINGS_DIR / "crosswalk.ttl"
#: The shapes of the crosswalk (also part of shapes/*.ttl, where they find nothing without it).
SHAPES_FILE = SHAPES_DIR / "mappings.ttl"
#: Name of the crosswalk's graph in ``export --format trig|nq``.
CROSSWALK_GRAPH = "https://w3id.org/gia-kg/mappings"

SSSOM = "https://w3id.org/sssom/"
SEMAPV = "https://w3id.org/semapv/vocab/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
#: Prefixes SSSOM lets a curie_map leave out.
BUILTIN_PREFIXES = {"owl": OWL, "rdf": RDF, "rdfs": RDFS, "semapv": SEMAPV, "skos": SKOS,
                    "sssom": SSSOM}
#: The SKOS mapping predicates a row may use.
PREDICATES = tuple(SKOS + p for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch",
                                      "relatedMatch"))
#: Every mapping is reviewed by hand.
JUSTIFICATION = SEMAPV + "ManualMappingCuration"

#: Mapping set metadata: slot → (RDF predicate, kind of value), as sssom-py writes them.
SET_SLOTS: dict[str, tuple[str, str]] = {
    "mapping_set_id": ("", "iri"),
    "license": (DCTERMS + "license", "iri"),
    "object_source_version": (SSSOM + "object_source_version", "text"),
    "mapping_set_version": (OWL + "versionInfo", "text"),
    "mapping_set_title": (DCTERMS + "title", "text"),
    "mapping_set_description": (DCTERMS + "description", "text"),
    "mapping_date": (DCTERMS + "created", "date"),
    "object_source": (SSSOM + "object_source", "curie"),
}
REQUIRED_SET_SLOTS = ("curie_map", "mapping_set_id", "license", "object_source_version")
#: Mapping columns: slot → (RDF predicate on the axiom, kind of value).
COLUMNS: dict[str, tuple[str, str]] = {
    "subject_id": (OWL + "annotatedSource", "curie"),
    "subject_label": (SSSOM + "subject_label", "text"),
    "predicate_id": (OWL + "annotatedProperty", "curie"),
    "object_id": (OWL + "annotatedTarget", "curie"),
    "object_label": (SSSOM + "object_label", "text"),
    "mapping_justification": (SSSOM + "mapping_justification", "curie"),
    "comment": (RDFS + "comment", "text"),
}
REQUIRED_COLUMNS = tuple(c for c in COLUMNS if c != "comment")

_KEY = re.compile(r"^([a-z_]+):\s*(.*?)\s*$")
_PREFIX_ITEM = re.compile(r"^\s+([A-Za-z_][A-Za-z0-9_.-]*):\s*(\S+)\s*$")
_CURIE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*):(\S*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: A local name written as ``prefix:local`` in the generated Turtle (else the IRI in ``<>``).
_SAFE_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")


@dataclass(frozen=True)
class Mapping:
    """One row: IRIs expanded, labels and comment as written."""

    subject: str
    subject_label: str
    predicate: str
    object: str
    object_label: str
    justification: str
    comment: str
    line: int


@dataclass(frozen=True)
class MappingSet:
    """One ``.sssom.tsv`` file: its metadata (slot → IRI or text), curie_map and rows."""

    path: Path
    id: str
    metadata: dict[str, str]
    curie_map: dict[str, str]
    mappings: tuple[Mapping, ...]


# ---------------------------------------------------------------- files


def mapping_files(folder: str | Path = MAPPINGS_DIR) -> list[Path]:
    """The SSSOM files of the crosswalk, sorted."""
    return sorted(Path(folder).glob("*.sssom.tsv"))


def crosswalk_files(folder: str | Path = MAPPINGS_DIR) -> list[Path]:
    """The Turtle the graph loads: the generated crosswalk and its declarations, sorted."""
    return sorted(Path(folder).glob("*.ttl"))


# ---------------------------------------------------------------- reading


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _header(path: Path, lines: list[str], problems: list[str]) -> tuple[dict[str, str], dict[str, str], int]:
    """The ``#`` metadata block (a YAML subset: ``key: value`` and the ``curie_map`` items)."""
    metadata: dict[str, str] = {}
    curie_map: dict[str, str] = {}
    current = None
    n = 0
    for n, line in enumerate(lines, 1):
        if not line.startswith("#"):
            return metadata, curie_map, n
        body = line[1:].removeprefix(" ")
        if not body.strip():
            continue
        key = _KEY.match(body)
        item = _PREFIX_ITEM.match(body)
        where = f"{path}:{n}"
        if item and current == "curie_map":
            prefix, iri = item.groups()
            if prefix in curie_map:
                problems.append(f"{where}: curie_map: prefix {prefix!r} given twice")
            curie_map[prefix] = _unquote(iri)
        elif key and not body[:1].isspace():
            current, value = key.group(1), _unquote(key.group(2))
            if current in metadata or (current == "curie_map" and curie_map):
                problems.append(f"{where}: metadata {current!r} given twice")
            if current == "curie_map":
                if value:
                    problems.append(f"{where}: curie_map: expected its prefixes on the lines below")
            elif current not in SET_SLOTS:
                problems.append(f"{where}: unsupported mapping set metadata {current!r}; expected one of "
                                + ", ".join(("curie_map", *SET_SLOTS)))
            elif not value:
                problems.append(f"{where}: {current}: empty")
            else:
                metadata[current] = value
        else:
            problems.append(f"{where}: expected '# key: value' or a curie_map item '#   prefix: IRI', "
                            f"got {body.strip()!r}")
    return metadata, curie_map, n + 1


def _iri(value: str, where: str, problems: list[str]) -> str:
    try:
        node = ox.NamedNode(value)
    except ValueError:
        problems.append(f"{where}: {value!r} is not an IRI")
        return value
    if not re.match(r"^https?://", node.value):
        problems.append(f"{where}: {value!r}: expected an http(s) IRI")
    return node.value


def _expand(value: str, curie_map: dict[str, str], where: str, problems: list[str]) -> str:
    """A CURIE of the file's curie_map (or SSSOM's built-in prefixes) as an IRI."""
    match = _CURIE.match(value)
    if match is None or match.group(2).startswith("//"):
        problems.append(f"{where}: {value!r}: expected a CURIE (prefix:local) of the curie_map")
        return value
    prefix, local = match.groups()
    namespace = curie_map.get(prefix, BUILTIN_PREFIXES.get(prefix))
    if namespace is None:
        problems.append(f"{where}: {value!r}: prefix {prefix!r} is not in the curie_map")
        return value
    return _iri(namespace + local, where, problems)


def _table(
    path: Path, lines: list[str], start: int, curie_map: dict[str, str], problems: list[str]
) -> tuple[Mapping, ...]:
    """The rows after the header line at ``start`` (1-based), checked and expanded."""
    if start > len(lines):
        problems.append(f"{path}: no mapping table after the metadata block")
        return ()
    columns = lines[start - 1].split("\t")
    unknown = [c for c in columns if c not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if unknown:
        problems.append(f"{path}:{start}: unsupported column {unknown[0]!r}; expected "
                        + ", ".join(COLUMNS))
    if missing:
        problems.append(f"{path}:{start}: missing column {missing[0]!r} (required: "
                        + ", ".join(REQUIRED_COLUMNS) + ")")
    if unknown or missing or len(set(columns)) != len(columns):
        if len(set(columns)) != len(columns):
            problems.append(f"{path}:{start}: a column is named twice")
        return ()
    rows = []
    for n, line in enumerate(lines[start:], start + 1):
        if not line.strip():
            continue
        cells = line.split("\t")
        where = f"{path}:{n}"
        if len(cells) != len(columns):
            problems.append(f"{where}: {len(cells)} fields; expected {len(columns)} ({', '.join(columns)})")
            continue
        row = dict(zip(columns, (c.strip() for c in cells), strict=True))
        for column in REQUIRED_COLUMNS:
            if not row[column]:
                problems.append(f"{where}: {column}: empty; every mapping needs it")
        if any(not row[c] for c in REQUIRED_COLUMNS):
            continue
        iris = {c: _expand(row[c], curie_map, f"{where}: {c}", problems)
                for c in ("subject_id", "predicate_id", "object_id", "mapping_justification")}
        if iris["predicate_id"] not in PREDICATES:
            problems.append(f"{where}: predicate_id: {row['predicate_id']!r}; expected one of "
                            + ", ".join("skos:" + p.removeprefix(SKOS) for p in PREDICATES))
        if iris["mapping_justification"] != JUSTIFICATION:
            problems.append(f"{where}: mapping_justification: {row['mapping_justification']!r}; "
                            "expected semapv:ManualMappingCuration (every mapping is reviewed by hand)")
        rows.append(Mapping(iris["subject_id"], row["subject_label"], iris["predicate_id"],
                            iris["object_id"], row["object_label"], iris["mapping_justification"],
                            row.get("comment", ""), n))
    if not rows and not problems:
        problems.append(f"{path}: no mappings")
    return tuple(rows)


def read_sssom(path: str | Path) -> MappingSet:
    """One SSSOM TSV file, checked against the crosswalk's contract; every problem in one InputErrors."""
    from kg.inputs import read_text

    path = Path(path)
    lines = read_text(path).splitlines()
    problems: list[str] = []
    metadata, curie_map, start = _header(path, lines, problems)
    for slot in REQUIRED_SET_SLOTS:
        if (slot == "curie_map" and not curie_map) or (slot != "curie_map" and slot not in metadata):
            problems.append(f"{path}: missing mapping set metadata {slot!r} (required: "
                            + ", ".join(REQUIRED_SET_SLOTS) + ")")
    for prefix, iri in curie_map.items():
        _iri(iri, f"{path}: curie_map: {prefix}", problems)
        if prefix in BUILTIN_PREFIXES and iri != BUILTIN_PREFIXES[prefix]:
            problems.append(f"{path}: curie_map: {prefix} is SSSOM's built-in prefix for "
                            f"{BUILTIN_PREFIXES[prefix]}, not {iri}")
    values = {}
    for slot, value in metadata.items():
        kind = SET_SLOTS[slot][1]
        where = f"{path}: {slot}"
        if kind == "iri":
            values[slot] = _iri(value, where, problems)
        elif kind == "curie":
            values[slot] = _expand(value, curie_map, where, problems)
        elif kind == "date" and not _DATE.match(value):
            problems.append(f"{where}: {value!r}; expected a date YYYY-MM-DD")
        else:
            values[slot] = value
    mappings = _table(path, lines, start, curie_map, problems)
    if problems:
        raise InputErrors(problems)
    return MappingSet(path, values["mapping_set_id"], values, curie_map, mappings)


def read_crosswalk(files: Iterable[str | Path] | None = None) -> list[MappingSet]:
    """Every mapping set (default: ``mapping_files()``), checked across files as well.

    Across the crosswalk a mapping set id is used once, a (subject, object) pair is mapped once
    (SKOS's exact, broad and related matches exclude each other), and an object has one label.
    """
    paths = mapping_files() if files is None else [Path(p) for p in files]
    if not paths:
        raise InputError(f"{MAPPINGS_DIR if files is None else 'crosswalk'}: no mapping files (*.sssom.tsv)")
    sets = [read_sssom(p) for p in paths]
    problems: list[str] = []
    ids: dict[str, Path] = {}
    pairs: dict[tuple[str, str], str] = {}
    labels: dict[str, tuple[str, str]] = {}
    for mapping_set in sets:
        if mapping_set.id in ids:
            problems.append(f"{mapping_set.path}: mapping_set_id {mapping_set.id} is also the id of "
                            f"{ids[mapping_set.id]}")
        ids[mapping_set.id] = mapping_set.path
        for m in mapping_set.mappings:
            where = f"{mapping_set.path}:{m.line}"
            if (m.subject, m.object) in pairs:
                problems.append(f"{where}: {m.subject} and {m.object} are already mapped at "
                                f"{pairs[m.subject, m.object]}; map a pair once, with one predicate")
            pairs.setdefault((m.subject, m.object), where)
            label, first = labels.setdefault(m.object, (m.object_label, where))
            if label != m.object_label:
                problems.append(f"{where}: object_label {m.object_label!r} of {m.object}, but "
                                f"{first} labels it {label!r}")
    if problems:
        raise InputErrors(problems)
    return sorted(sets, key=lambda s: s.id)


# ---------------------------------------------------------------- RDF


def _node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _value(kind: str, value: str) -> ox.NamedNode | ox.Literal:
    if kind in ("iri", "curie"):
        return ox.NamedNode(value)
    if kind == "date":
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))
    return ox.Literal(value)


def set_triples(mapping_set: MappingSet) -> list[ox.Triple]:
    """The mapping set's own triples (type and metadata), in SET_SLOTS order."""
    subject = _node(mapping_set.id)
    out = [ox.Triple(subject, _node(RDF + "type"), _node(SSSOM + "MappingSet"))]
    for slot, (predicate, kind) in SET_SLOTS.items():
        if predicate and slot in mapping_set.metadata:
            out.append(ox.Triple(subject, _node(predicate), _value(kind, mapping_set.metadata[slot])))
    return out


def axiom_values(mapping: Mapping) -> list[tuple[str, ox.NamedNode | ox.Literal]]:
    """(predicate, value) of the mapping's owl:Axiom, in COLUMNS order (no empty comment)."""
    cells = {"subject_id": mapping.subject, "subject_label": mapping.subject_label,
             "predicate_id": mapping.predicate, "object_id": mapping.object,
             "object_label": mapping.object_label, "mapping_justification": mapping.justification,
             "comment": mapping.comment}
    out: list[tuple[str, ox.NamedNode | ox.Literal]] = [(RDF + "type", _node(OWL + "Axiom"))]
    out += [(predicate, _value(kind, cells[slot])) for slot, (predicate, kind) in COLUMNS.items()
            if cells[slot]]
    return out


def triples(sets: Sequence[MappingSet]) -> list[ox.Triple]:
    """Every triple of the crosswalk; each mapping's axiom is a blank node (OWL 2's reification)."""
    out: list[ox.Triple] = []
    for mapping_set in sets:
        out += set_triples(mapping_set)
        for m in mapping_set.mappings:
            axiom = ox.BlankNode()
            out.append(ox.Triple(_node(mapping_set.id), _node(SSSOM + "mappings"), axiom))
            out += [ox.Triple(axiom, _node(p), v) for p, v in axiom_values(m)]
            out.append(ox.Triple(_node(m.subject), _node(m.predicate), _node(m.object)))
            out.append(ox.Triple(_node(m.object), _node(SKOS + "prefLabel"), ox.Literal(m.object_label)))
    return list(dict.fromkeys(out))


class _Writer:
    """Terms as Turtle: ``prefix:local`` where a prefix fits and the local name is plain."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.namespaces = sorted(prefixes.items(), key=lambda item: (-len(item[1]), item[0]))
        self.used: dict[str, str] = {}

    def term(self, term: ox.NamedNode | ox.Literal) -> str:
        if isinstance(term, ox.Literal):
            if term.datatype.value == XSD + "date":
                return f"{ox.Literal(term.value)}^^{self.term(term.datatype)}"
            return str(term)
        if term.value == RDF + "type":
            return "a"
        for prefix, namespace in self.namespaces:
            local = term.value[len(namespace):]
            if term.value.startswith(namespace) and _SAFE_LOCAL.match(local):
                self.used[prefix] = namespace
                return f"{prefix}:{local}"
        return str(term)


def render_turtle(sets: Sequence[MappingSet]) -> str:
    """The generated ``crosswalk.ttl``: mapping sets in id order, rows in file order, then the
    mappings and target labels sorted. The same TSV files always give the same bytes."""
    from kg.namespaces import PREFIXES

    prefixes = {**PREFIXES, "dcterms": DCTERMS, "sssom": SSSOM, "semapv": SEMAPV}
    for mapping_set in sets:
        for prefix, namespace in mapping_set.curie_map.items():
            if prefixes.setdefault(prefix, namespace) != namespace:
                raise InputError(f"{mapping_set.path}: curie_map: prefix {prefix!r} is "
                                 f"{prefixes[prefix]} elsewhere in the crosswalk, not {namespace}")
    write = _Writer(prefixes)
    body: list[str] = []
    for mapping_set in sets:
        head, *meta = set_triples(mapping_set)
        body.append(f"{write.term(head.subject)} a {write.term(head.object)} ;")
        body += [f"    {write.term(t.predicate)} {write.term(t.object)} ;" for t in meta]
        body.append(f"    {write.term(_node(SSSOM + 'mappings'))}")
        for i, m in enumerate(mapping_set.mappings):
            body.append("        [")
            values = axiom_values(m)
            body += [f"            {write.term(_node(p))} {write.term(v)}"
                     + (" ;" if j < len(values) - 1 else "") for j, (p, v) in enumerate(values)]
            body.append("        ]" + (" ," if i < len(mapping_set.mappings) - 1 else " ."))
        body.append("")
    rows = [m for s in sets for m in s.mappings]
    matches = sorted({(write.term(_node(m.subject)), write.term(_node(m.predicate)),
                       write.term(_node(m.object))) for m in rows})
    body += [f"{s} {p} {o} ." for s, p, o in matches] + [""]
    labels = sorted({(write.term(_node(m.object)), write.term(ox.Literal(m.object_label))) for m in rows})
    body += [f"{o} {write.term(_node(SKOS + 'prefLabel'))} {label} ." for o, label in labels]
    head_lines = [
        "# Generated by `python -m kg.mappings` from mappings/*.sssom.tsv. Do not edit by hand:",
        "# edit the TSV files and re-run it (docs/crosswalk.md).",
        *(f"@prefix {p}: <{ns}> ." for p, ns in sorted(write.used.items())),
        "",
    ]
    return "\n".join(head_lines + body) + "\n"


def check_current(folder: str | Path = MAPPINGS_DIR) -> None:
    """StaleError unless ``crosswalk.ttl`` is what the folder's TSV files give."""
    from kg.inputs import read_text

    folder = Path(folder)
    target = folder / CROSSWALK_FILE.name
    expected = render_turtle(read_crosswalk(mapping_files(folder)))
    if not target.exists() or read_text(target) != expected:
        raise StaleError(f"{target}: not what {folder}/*.sssom.tsv give; run `python -m kg.mappings`")


def write_crosswalk(folder: str | Path = MAPPINGS_DIR) -> Path:
    """Regenerate ``crosswalk.ttl`` from the folder's TSV files (atomically); its path."""
    from kg.fileio import write_atomic

    folder = Path(folder)
    target = folder / CROSSWALK_FILE.name
    write_atomic(target, render_turtle(read_crosswalk(mapping_files(folder))))
    return target


# ---------------------------------------------------------------- checking


def validate_crosswalk(
    kg_dir: str | Path | None = None, crosswalk: Iterable[str | Path] | None = None
) -> ValidationResult:
    """SHACL (shapes/mappings.ttl) over the ontology, the data and the crosswalk.

    Every mapping has both labels and the justification, its triple is asserted, its gia-kg term
    is in the graph (a type and a label) under the label the row gives, and every target has one
    label. ``crosswalk``: the Turtle files to check instead of the shipped ones (the tests' fixtures).
    """
    from kg.loading import load_graph, new_graph, parse_into
    from kg.validation import validate

    graph = load_graph(kg_dir, ontology=False, inferred=False)
    for path in crosswalk_files() if crosswalk is None else [Path(p) for p in crosswalk]:
        parse_into(graph, path)
    return validate(data=graph, shapes=parse_into(new_graph(), SHAPES_FILE))


def main(argv: list[str] | None = None) -> int:
    """``python -m kg.mappings [--check] [FOLDER]``: regenerate (or check) crosswalk.ttl."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        print("usage: python -m kg.mappings [--check] [FOLDER]", file=sys.stderr)
        return 2
    folder = Path(rest[0]) if rest else MAPPINGS_DIR
    try:
        if check:
            check_current(folder)
            print(f"{folder / CROSSWALK_FILE.name}: up to date")
        else:
            print(f"wrote {write_crosswalk(folder)}")
    except GiaKgError as exc:
        print(f"gia-kg: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
