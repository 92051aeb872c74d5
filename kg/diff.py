"""What changed between two SoK releases, entity by entity: ``gia-kg diff OLD NEW``.

Each side is an SoK README (a file, built in memory by :func:`kg.sok_import.build`; nothing is
written) or a gia-kg data folder (its ``*.ttl`` loaded by :func:`kg.loading.load_graph`, without
the ontology and without ``inferred.ttl``). A README takes its IRIs from the stable-identifier
registry (kg.identity): OLD from the shipped one, NEW from the registry OLD was built with, or
OLD's own ``registry.tsv`` when OLD is a folder (see :func:`diff`).

Entities are the resources typed ``gia:ThreatModel``, ``gia:Attack``, ``gia:Defense``,
``gia:Work`` and ``gia:Reference``, matched across the two sides by IRI (the stable identifiers of
docs/data-model.md). ``kind`` is the local class name in lower case, words joined by ``-``:
``threat-model``, ``attack``, ``defense``, ``work``, ``reference``.

An entity present on one side only is ``added`` or ``removed`` (``{kind, iri, ref, label}``); for
an entity on both sides every property whose values differ is one ``changed`` item
(``{kind, iri, ref, field, old, new}``):

* ``field`` is the property's local name (``name``, ``title``, ``venue``, ``threatModel``,
  ``sharedModel``, ...); two properties of the data sharing a local name are told apart by their
  prefixed names (``dcterms:title``) instead.
* ``old`` and ``new`` are strings, or ``null`` (``(none)`` in text and Markdown) where the side has
  no value. IRIs are given as prefixed names (``gia:Effective``, ``tm:G``, ``work:...``; an IRI
  under no project prefix, such as a paper link, in full), literals as their lexical text
  (``2023``; language tag and datatype are not compared). A property with several values (models,
  tasks, capabilities, learning algorithms, ...) is reported as its values, sorted, joined by
  ``", "``.
* Ratings are reported through their defense: one item per threat model whose level differs,
  ``{kind: "defense", iri, ref, field: "level", threat_model: "G", old, new}`` (``threat_model`` is
  the letter; the assessment resources themselves are not compared, so a renamed assessment IRI
  is not a change).

Not compared: ``rdf:type`` (it gives the kind), ``prov:wasDerivedFrom`` and the ``sok:`` release
resource (they change with every release; its ``gia:sokVersion`` is reported as ``old``/``new``),
``gia:hasAssessment`` (see ratings), any property whose local name is ``position`` (generated
ordering indexes), any value that is a blank node, and the labels of link, technique, model and
task resources (a value is compared by its IRI).

``ref`` is the entity's SoK reference numbers as the saved queries give them: ascending,
comma-separated, no spaces (``"42,43"``): the numbers of an attack's or defense's
``gia:reference``, of the references of a work, a reference's own number; ``""`` for threat
models. ``label`` is ``rdfs:label`` (threat models, attacks, defenses) or ``dcterms:title``
(works, references). A changed item takes its ``ref`` from the new side; text and Markdown name a
changed entity by its old label (the name the maintainers knew it by).

Order is deterministic: by kind (threat-model, attack, defense, work, reference: the SoK's
tables, then its reference lists), reference numbers compared as numbers, IRI, field, threat
model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.errors import InputError, UsageError
from kg.namespaces import GIA_NS, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

    from kg.identity import Registry

FORMATS = ("text", "json", "md")

#: gia: class -> kind, in report order.
KINDS: dict[str, str] = {
    "ThreatModel": "threat-model",
    "Attack": "attack",
    "Defense": "defense",
    "Work": "work",
    "Reference": "reference",
}
_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS.values())}
_KIND_NAMES = {
    "threat-model": "Threat model", "attack": "Attack", "defense": "Defense", "work": "Work",
    "reference": "Reference",
}

_RDF_TYPE = PREFIXES["rdf"] + "type"
_RDFS_LABEL = PREFIXES["rdfs"] + "label"
_TITLE = PREFIXES["dcterms"] + "title"
_IGNORED = frozenset({
    _RDF_TYPE,
    PREFIXES["prov"] + "wasDerivedFrom",
    GIA_NS + "hasAssessment",
})
_IGNORED_LOCAL = frozenset({"position"})
_LEVEL = "level"


# ---------------------------------------------------------------- data


@dataclass
class Entity:
    """One entity of one side: its kind, reference numbers, label and compared values."""

    kind: str
    iri: str
    ref: str
    label: str | None
    #: property IRI -> values (shown as text), one set per property
    values: dict[str, set[str]] = field(default_factory=dict)
    #: threat-model letter -> levels (a set, in case of duplicate assessments)
    levels: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Side:
    """What one side (a README or a data folder) holds: its version and its entities."""

    version: str | None
    entities: dict[str, Entity]


@dataclass
class Diff:
    """The differences between two sides, as lists of JSON-ready dictionaries in report order."""

    old: str | None
    new: str | None
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    #: IRI -> the old label, for naming changed entities in text and Markdown
    labels: dict[str, str | None] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "added": self.added,
                "removed": self.removed, "changed": self.changed}


# ---------------------------------------------------------------- loading


def _build_readme(path: Path, registry: Registry | None) -> tuple[dict[str, str], Registry]:
    """The Turtle files the importer would write for ``path``, and its extended registry.

    The one call of the importer: nothing is written (``build`` copies the registry it is given).
    """
    from kg import sok_import

    result = sok_import.build(path, registry=registry)
    return result.files, result.registry


def _readme_graph(path: Path, registry: Registry | None) -> tuple[Graph, Registry]:
    from kg.loading import new_graph

    files, registry = _build_readme(path, registry)
    graph = new_graph()
    for text in files.values():
        graph.parse(data=text, format="turtle")
    return graph, registry


def _folder_graph(path: Path, role: str) -> Graph:
    from kg.loading import load_graph
    from kg.paths import INFERRED_NAME

    if not any(p.name != INFERRED_NAME for p in path.glob("*.ttl")):
        raise InputError(f"diff {role} {path}: a folder without *.ttl files; expected a gia-kg "
                         "data folder or an SoK README")
    return load_graph(path, ontology=False, inferred=False)


def _load(arg: str | Path, role: str, registry: Registry | None) -> tuple[Side, Registry | None]:
    """One side, and the registry a README compared with it should be built with.

    A README is built with ``registry`` (None: the shipped one) and hands on the registry the
    build extended; a folder hands on its own ``registry.tsv`` (the IRIs its data was minted
    with), else ``registry``.
    """
    from kg.identity import REGISTRY_NAME, Registry

    path = Path(arg)
    if not path.exists():
        raise InputError(f"diff {role} {path}: no such file or folder")
    if path.is_dir():
        graph = _folder_graph(path, role)
        own = path / REGISTRY_NAME
        if own.is_file():
            registry = Registry.read(own)
    elif path.is_file():
        if path.suffix.lower() in (".ttl", ".nt", ".jsonld", ".rdf", ".owl"):
            raise InputError(f"diff {role} {path}: an RDF file; expected an SoK README or a "
                             "gia-kg data folder (give the folder)")
        graph, registry = _readme_graph(path, registry)
    else:
        raise InputError(f"diff {role} {path}: neither a regular file nor a folder")
    return snapshot(graph), registry


def load_side(arg: str | Path, role: str = "OLD", registry: Registry | None = None) -> Side:
    """Read one side of the comparison: a README file or a data folder."""
    return _load(arg, role, registry)[0]


# ---------------------------------------------------------------- graph -> entities


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rsplit("/", 1)[-1]


def compact(iri: str) -> str:
    """``tm:G`` for an IRI under a project prefix (longest match), else the IRI itself."""
    best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
    if best is not None:
        local = iri[len(best):]
        if local and all(c.isalnum() or c in "-_." for c in local):
            prefix = next(p for p, ns in PREFIXES.items() if ns == best)
            return f"{prefix}:{local}"
    return iri


def _text(term: Any) -> str:
    from rdflib import URIRef

    return compact(str(term)) if isinstance(term, URIRef) else str(term)


def _ref(numbers: set[int]) -> str:
    return ",".join(str(n) for n in sorted(numbers))


def _numbers(graph: Graph, node: Any) -> set[int]:
    from rdflib import URIRef

    out = set()
    for value in graph.objects(node, URIRef(GIA_NS + "referenceNumber")):
        try:
            out.add(int(str(value)))
        except ValueError:
            continue
    return out


def snapshot(graph: Graph) -> Side:
    """The entities of a graph, with their compared values (see the module docstring)."""
    from rdflib import BNode, URIRef

    gia = {name: URIRef(GIA_NS + name) for name in (
        "SoKRelease", "sokVersion", "reference", "work", "Reference", "hasAssessment",
        "threatModel", "level", "letter")}
    versions = sorted({str(v) for s in graph.subjects(URIRef(_RDF_TYPE), gia["SoKRelease"])
                       for v in graph.objects(s, gia["sokVersion"])})
    version = ", ".join(versions) if versions else None

    work_numbers: dict[Any, set[int]] = {}
    for ref in graph.subjects(URIRef(_RDF_TYPE), gia["Reference"]):
        for work in graph.objects(ref, gia["work"]):
            work_numbers.setdefault(work, set()).update(_numbers(graph, ref))

    entities: dict[str, Entity] = {}
    for cls, kind in KINDS.items():
        for node in graph.subjects(URIRef(_RDF_TYPE), URIRef(GIA_NS + cls)):
            if not isinstance(node, URIRef) or str(node) in entities:
                continue
            if kind in ("attack", "defense"):
                numbers = set().union(*(_numbers(graph, r)
                                        for r in graph.objects(node, gia["reference"])))
            elif kind == "reference":
                numbers = _numbers(graph, node)
            elif kind == "work":
                numbers = work_numbers.get(node, set())
            else:
                numbers = set()
            label_prop = _TITLE if kind in ("work", "reference") else _RDFS_LABEL
            labels = sorted(str(v) for v in graph.objects(node, URIRef(label_prop)))
            if not labels:
                labels = sorted(str(v) for v in graph.objects(node, URIRef(_RDFS_LABEL)))
            entity = Entity(kind, str(node), _ref(numbers), labels[0] if labels else None)
            for pred, obj in graph.predicate_objects(node):
                prop = str(pred)
                if prop in _IGNORED or _local(prop) in _IGNORED_LOCAL or isinstance(obj, BNode):
                    continue
                entity.values.setdefault(prop, set()).add(_text(obj))
            for cell in graph.objects(node, gia["hasAssessment"]):
                for tm in graph.objects(cell, gia["threatModel"]):
                    letter = graph.value(tm, gia["letter"])
                    key = str(letter) if letter is not None else _local(str(tm))
                    levels = entity.levels.setdefault(key, set())
                    levels.update(_text(v) for v in graph.objects(cell, gia["level"]))
            entities[entity.iri] = entity
    return Side(version, entities)


# ---------------------------------------------------------------- comparison


def _joined(values: set[str] | None) -> str | None:
    return ", ".join(sorted(values)) if values else None


def _ref_key(ref: str) -> tuple[int, ...]:
    return tuple(int(n) for n in ref.split(",") if n.isdigit())


def _entity_key(item: dict[str, Any]) -> tuple:
    return (_KIND_ORDER.get(item["kind"], len(_KIND_ORDER)), _ref_key(item["ref"]), item["iri"])


def _field_names(old: Side, new: Side) -> dict[str, str]:
    """Property IRI -> field: its local name, or its prefixed name where local names collide."""
    props = {p for side in (old, new) for e in side.entities.values() for p in e.values}
    by_local: dict[str, list[str]] = {}
    for prop in props:
        by_local.setdefault(_local(prop), []).append(prop)
    names = {}
    for local, group in by_local.items():
        for prop in group:
            names[prop] = local if len(group) == 1 else compact(prop)
    return names


def compare(old: Side, new: Side) -> Diff:
    """The differences from ``old`` to ``new``."""
    def summary(entity: Entity) -> dict[str, Any]:
        return {"kind": entity.kind, "iri": entity.iri, "ref": entity.ref, "label": entity.label}

    added, removed, changed = [], [], []
    labels: dict[str, str | None] = {}
    names = _field_names(old, new)
    for iri in sorted(set(old.entities) | set(new.entities)):
        before, after = old.entities.get(iri), new.entities.get(iri)
        if before is not None and after is not None and before.kind != after.kind:
            removed.append(summary(before))
            added.append(summary(after))
            continue
        if before is None:
            added.append(summary(after))
            continue
        if after is None:
            removed.append(summary(before))
            continue
        labels[iri] = before.label if before.label is not None else after.label
        head = {"kind": after.kind, "iri": iri, "ref": after.ref}
        for prop in set(before.values) | set(after.values):
            was, now = _joined(before.values.get(prop)), _joined(after.values.get(prop))
            if was != now:
                changed.append({**head, "field": names[prop], "old": was, "new": now})
        for letter in set(before.levels) | set(after.levels):
            was, now = _joined(before.levels.get(letter)), _joined(after.levels.get(letter))
            if was != now:
                changed.append({**head, "field": _LEVEL, "threat_model": letter,
                                "old": was, "new": now})
    added.sort(key=_entity_key)
    removed.sort(key=_entity_key)
    changed.sort(key=lambda c: (*_entity_key(c), c["field"], c.get("threat_model", "")))
    return Diff(old.version, new.version, added, removed, changed, labels)


def diff(old: str | Path, new: str | Path) -> Diff:
    """Compare two releases, each a README file or a data folder.

    IRIs must mean the same on both sides, so NEW, if a README, is built with the registry OLD
    was built with (and extended), or OLD's own registry.tsv if OLD is a data folder: what
    ``gia-kg import-sok OLD`` then ``import-sok NEW`` into one folder would mint.
    """
    old_side, registry = _load(old, "OLD", None)
    new_side, _ = _load(new, "NEW", registry)
    return compare(old_side, new_side)


# ---------------------------------------------------------------- rendering


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")) if "\n" in text else text


def _md_escape(text: str) -> str:
    out = []
    for char in _one_line(text):
        out.append("\\" + char if char in "\\`*_[]<>#|~" else char)
    return "".join(out)


def _md_code(text: str) -> str:
    text = _one_line(text)
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _who(item: dict[str, Any], label: str | None, md: bool) -> str:
    """``Defense [58] PRECODE``: kind, reference numbers (or the IRI's local name), label."""
    ident = f"[{item['ref']}]" if item["ref"] else _local(item["iri"])
    shown = label if label is not None else compact(item["iri"])
    return f"{_KIND_NAMES.get(item['kind'], item['kind'])} {ident} " + (
        _md_escape(shown) if md else _one_line(shown))


def _lines(result: Diff, md: bool) -> list[str]:
    def value(text: str | None) -> str:
        if text is None:
            return "(none)"
        return _md_code(text) if md else f"'{_one_line(text)}'"

    def iri(item: dict[str, Any]) -> str:
        return _md_code(compact(item["iri"])) if md else compact(item["iri"])

    sections = []
    for title, items in (("Added", result.added), ("Removed", result.removed)):
        if items:
            bullets = [f"- {_who(i, i['label'], md)} ({iri(i)})" for i in items]
            sections.append((title, bullets))
    if result.changed:
        bullets = []
        for item in result.changed:
            where = f" at {item['threat_model']}" if "threat_model" in item else ""
            bullets.append(f"- {_who(item, result.labels.get(item['iri']), md)}: "
                           f"{item['field']}{where} {value(item['old'])} → {value(item['new'])}")
        sections.append(("Changed", bullets))
    old = result.old or "(unknown)"
    new = result.new or "(unknown)"
    heading = f"SoK {new} (changes since {old})"
    lines = [f"## {_md_escape(heading)}" if md else heading, ""]
    if not sections:
        lines.append("No changes.")
    for i, (title, bullets) in enumerate(sections):
        if i:
            lines.append("")
        lines += [f"### {title}", "", *bullets] if md else [title, *bullets]
    return lines


def render(result: Diff, fmt: str = "text") -> str:
    """The report as ``text`` (a changelog), ``md`` (Markdown changelog) or ``json``."""
    if fmt == "json":
        return json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n"
    if fmt not in FORMATS:
        raise UsageError(f"diff --format {fmt}: expected one of {', '.join(FORMATS)}")
    return "\n".join(_lines(result, fmt == "md")) + "\n"
