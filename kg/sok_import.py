"""SoK README -> instance data: cells (kg.sok_markdown) -> rdflib graphs -> sorted Turtle files.

The meaning of the SoK's marks (★, ◦, green, Client, ✗, ², Input Size, F/H, capability column
names) is read from ``gia:symbol``, ``gia:code`` and ``rdfs:label`` in ``ontology/gia.ttl``, so the
mapping lives in the ontology, not here. IRIs follow docs/data-model.md (kg.slugs). Every cell
that cannot be read is an InputError ``FILE:LINE: column 'NAME': expected ..., got '...'``.

Every value is checked here as shapes/*.ttl would check it (positive batch sizes, resolutions and
local iterations, years from 1990 to 2100, 1 to 3 stars, non-empty texts, absolute http(s)
links), so that what imports also validates; :func:`build` then runs the shapes on the result as
a safety net. Numbers are ASCII digits (``[0-9]``): ``\\d`` and ``int()`` accept any Unicode digit.

Each work also gets the identifiers its paper links name (``dcterms:identifier "arXiv:..."``,
``"doi:..."``, ...), read offline from the URLs by :mod:`kg.work_ids`.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kg.coverage import CoverageError, parse_coverage
from kg.errors import InputError, InputErrors, UsageError
from kg.identity import REGISTRY_NAME, Candidate, Registry, author_key, match_works, work_keys
from kg.inputs import file_kind
from kg.namespaces import resource_iri
from kg.paths import INFERRED_NAME, ONTOLOGY_FILE, THREAT_MODELS_NAME
from kg.slugs import significant_words, slugify, work_slug
from kg.sok_markdown import (
    LINK,
    POSITIVE,
    Cell,
    ReferenceEntry,
    Row,
    SokDocument,
    link_problem,
    parse_document,
)
from kg.work_ids import parse_identifier

if TYPE_CHECKING:
    from rdflib import Graph, URIRef

#: Where the living SoK README is maintained (dcterms:source of every imported release).
SOK_REPOSITORY = "https://github.com/gparrella12/sok_gias_fl"

#: Output files, in the order they are written.
FILES = (THREAT_MODELS_NAME, "attacks.ttl", "defenses.ttl", "works.ttl", "sok.ttl")

_VERSION_IN_NAME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\.md$", re.IGNORECASE)
_VERSION_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Reference markers ``[N]`` / ``[N, M]``: ASCII digits, at most 9 (``[１]`` is not a marker).
_REF_NUMBER = r"[0-9]{1,9}"
_CITATION = re.compile(rf"\[({_REF_NUMBER}(?:\s*,\s*{_REF_NUMBER})*)\]")
_ROW_WORK = re.compile(rf"^(?P<label>.*?)\s*\[(?P<refs>{_REF_NUMBER}(?:\s*,\s*{_REF_NUMBER})*)\]$")
_AUTHOR_YEAR = re.compile(
    r"^(?P<author>.+?)(?:\s+et al\.?|\s+and\s+.+?)?\s*\((?P<year>[0-9]{4})\)$"
)
#: ``64×64``, ``10×5``; a sign is matched so that ``-1×8`` gets the "positive" message.
_PAIR = re.compile(r"^([+-]?[0-9]+)\s*[×xX]\s*([+-]?[0-9]+)$")
_INTEGER = re.compile(r"[+-]?[0-9]+")
#: shapes/common.ttl shape:Year (gia:year of works and defenses).
YEARS = (1990, 2100)
#: shapes/common.ttl shape:ThreatModelApplicability (★ count).
STARS = (1, 3)
#: The largest count accepted (``POSITIVE``: at most 9 digits).
_MAX = 999_999_999
_NOTES = re.compile(r"[²³¹⁴⁵⁶⁷⁸⁹⁰]+$")
#: A ``<br>`` in a coverage cell, and the threat-model letter of the item right after it.
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BREAK_LETTER = re.compile(r"\s*(?:-\s*)?([A-Za-z])\s*\(")
_SHARED_NOUN = re.compile(r"^(?P<first>.+?) and (?P<second>.+) (?P<noun>\S+)$")
_NOT_AVAILABLE = "N/A"
_BOTH = "Both"
_CHECK = ("✔️", "✔", "✓")
_CROSS = ("✗", "✘", "❌")
#: Link texts of reference entries -> the property that holds the link.
_REFERENCE_LINKS = {"paper": "paperLink", "pdf": "paperLink", "github": "codeRepository",
                    "code": "codeRepository"}


def source_version(readme: Path, given: str | None, text: str = "") -> str:
    """The SoK version recorded as provenance (``sok:<version>``).

    ``--source-version`` if given; else the date in a file name like ``...-2025-07-15.md`` (the
    shared releases); else the commit that last changed the README when it is in a git checkout
    and unmodified (upstream's own ``README.md``); else ``content-`` and 12 hex digits of the
    SHA-256 of its text.
    """
    if given is not None:
        if not _VERSION_OK.match(given):
            raise UsageError(
                f"--source-version {given!r}: expected a date or commit (letters, digits, . _ -)"
            )
        return given
    match = _VERSION_IN_NAME.search(readme.name)
    if match is not None:
        return match.group(1)
    commit = git_commit(readme)
    if commit is not None:
        return commit
    import hashlib

    return "content-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def git_commit(path: Path) -> str | None:
    """The commit that last changed ``path``, if it is tracked in a git checkout and unmodified.

    Only plumbing that runs no hooks or monitors of the checkout (``log``, ``rev-parse``), and
    the file's blob id is computed here and compared with the commit's, so a local edit is seen.
    """
    import hashlib
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return None
    folder, name = path.resolve().parent, path.resolve().name
    base = [git, "-c", "core.fsmonitor=false", "-C", str(folder)]

    def run(*args: str) -> str | None:
        try:
            out = subprocess.run([*base, *args], capture_output=True, text=True, timeout=10,
                                 stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = run("log", "-1", "--format=%H", "--", name)
    if not commit or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    blob = run("rev-parse", f"{commit}:./{name}")
    try:
        data = path.read_bytes()
    except OSError:
        return None
    mine = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's blob id
    return commit if blob == mine else None


def _err(cell: Cell, path: str, expected: str, got: str | None = None) -> InputError:
    shown = cell.text if got is None else got
    return InputError(f"{path}:{cell.line}: column '{cell.column}': {expected}, got '{shown}'")


def _positive(cell: Cell, path: str, text: str, expected: str) -> int:
    """``text`` as a count of 1 or more written in ASCII digits, else a cell error."""
    if not POSITIVE.fullmatch(text):
        raise _err(cell, path, f"{expected} (whole numbers from 1 to {_MAX})")
    return int(text)


def _year(cell: Cell, path: str, text: str) -> int:
    """A four-digit year within shape:Year's range, else a cell error."""
    low, high = YEARS
    if not re.fullmatch(r"[0-9]{4}", text) or not low <= int(text) <= high:
        raise _err(cell, path, f"expected a year from {low} to {high}", text)
    return int(text)


def _link(cell: Cell, path: str, url: str) -> str:
    """A cell's link target if it may be an IRI of the graph (kg.sok_markdown.link_problem)."""
    problem = link_problem(url)
    if problem:
        raise _err(cell, path, problem, url)
    return url


@dataclass
class _Vocabulary:
    """The closed vocabularies of the ontology, keyed by the marks the SoK uses."""

    capabilities: dict[str, URIRef]
    levels: dict[str, URIRef]
    level_names: list[str]
    label_kinds: dict[str, URIRef]
    notes: dict[str, URIRef]
    resolutions: dict[str, URIRef]
    sides: dict[str, URIRef]
    code_status: dict[str, URIRef]
    algorithms: dict[str, URIRef]
    defense_categories: dict[str, URIRef]
    ontology: Graph

    @classmethod
    def load(cls) -> _Vocabulary:
        from rdflib import RDF, RDFS

        from kg.loading import new_graph, parse_into
        from kg.namespaces import GIA

        onto = parse_into(new_graph(), ONTOLOGY_FILE)

        def by(cls_iri: URIRef, prop: URIRef, key=str) -> dict[str, URIRef]:
            found = {}
            for ind in onto.subjects(RDF.type, cls_iri):
                for value in onto.objects(ind, prop):
                    found[key(str(value))] = ind
            return found

        levels = by(GIA.EffectivenessLevel, GIA.symbol)
        ranks = {str(s): int(onto.value(i, GIA.rank)) for s, i in levels.items()}
        return cls(
            capabilities=by(GIA.Capability, RDFS.label, lambda s: " ".join(s.lower().split())),
            levels=levels,
            level_names=sorted(levels, key=lambda s: -ranks[s]),
            label_kinds=by(GIA.LabelRecoveryKind, GIA.symbol),
            notes=by(GIA.ModelNote, GIA.symbol),
            resolutions=by(GIA.ResolutionKind, GIA.symbol),
            sides=by(GIA.DeploymentSide, GIA.symbol),
            code_status=by(GIA.CodeStatus, GIA.symbol),
            algorithms=by(GIA.LearningAlgorithm, RDFS.label),
            defense_categories=by(GIA.DefenseCategory, GIA.code),
            ontology=onto,
        )


@dataclass
class ImportResult:
    """The Turtle text of each output file, the counts the checks verified, the extended registry."""

    version: str
    files: dict[str, str]
    counts: dict[str, int]
    registry: Registry
    #: What the import tolerated or could not finish (stripped HTML, merged duplicates, no Java).
    notes: list[str]
    #: True when inferred.ttl was derived in this import (the folder answers queries).
    reasoned: bool = False
    #: Threat models with equal capability sets (letter pairs), warned about on import.
    equivalent: list[tuple[str, str]] = field(default_factory=list)


class _Builder:
    """Turns the parsed document into one rdflib graph per output file."""

    def __init__(self, path: str, doc: SokDocument, version: str, registry: Registry) -> None:
        from rdflib import URIRef

        from kg.loading import new_graph

        self.path = path
        self.registry = registry
        #: IRIs this release gives out (so minting never hands one out twice).
        self.taken: set[str] = set()
        #: Problems of rows read so far (reported together at the end).
        self.problems: list[str] = []
        #: Set once works() has run: from then on every cited reference must have its work.
        self.works_read = False
        self.doc = doc
        self.version = version
        self.vocab = _Vocabulary.load()
        self.sok = URIRef(resource_iri("sok", version))
        self.graphs = {name: new_graph() for name in FILES}
        self.letters: list[str] = []
        self.ref_work: dict[int, URIRef] = {}
        self.ref_iri: dict[int, URIRef] = {}
        self.work_titles: dict[URIRef, str] = {}
        self.labels: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------ helpers

    def iri(self, kind: str, slug: str) -> URIRef:
        from rdflib import URIRef

        return URIRef(resource_iri(kind, slug))

    def stable(self, kind: str, known: str | None, slug: str, keys: list[str]) -> URIRef:
        """The registered IRI (``known``) or a new one minted from ``slug``; ``keys`` recorded."""
        from rdflib import URIRef

        iri = known if known is not None and known not in self.taken else \
            self.registry.mint(kind, slug, self.taken)
        self.taken.add(iri)
        self.registry.record(iri, kind, keys)
        return URIRef(iri)

    def _known_works(self, groups: dict[tuple, list[ReferenceEntry]],
                     authors: dict[int, tuple[str, int, Cell]]) -> dict[int, str]:
        """Which of this release's works the registry knows (kg.identity's matching rules)."""
        candidates = []
        for (title, urls), entries in groups.items():
            known = {authors[e.number][:2] for e in entries if e.number in authors}
            if len(known) > 1:
                numbers = ", ".join(str(e.number) for e in entries)
                raise InputError(f"{self.path}: references {numbers} are one paper but the "
                                 f"attack table gives authors {sorted(known)}")
            author, year = next(iter(known)) if known else (None, None)
            candidates.append(Candidate(title, tuple(urls), tuple(e.number for e in entries),
                                        author_key(author, year)))
        return match_works(self.registry, candidates)

    def add(self, file: str, *triples: tuple) -> None:
        for triple in triples:
            self.graphs[file].add(triple)

    def individual(self, file: str, node: URIRef, cls: URIRef, label: str | None = None) -> None:
        """A named individual with its class, optional label and provenance."""
        from rdflib import OWL, PROV, RDF, RDFS, Literal

        self.add(file, (node, RDF.type, OWL.NamedIndividual), (node, RDF.type, cls))
        self.add(file, (node, PROV.wasDerivedFrom, self.sok))
        if label is not None:
            self.add(file, (node, RDFS.label, Literal(label)))

    def labelled(self, file: str, kind: str, label: str, cls: URIRef, cell: Cell) -> URIRef:
        """The individual for a label (category, technique, model, task); one label per slug."""
        slug = slugify(label)
        if not slug:
            raise _err(cell, self.path, f"expected a {kind} name")
        seen = self.labels.get(f"{kind}:{slug}")
        if seen is not None and seen[0] != label:
            raise _err(cell, self.path, f"expected the {kind} spelt as {seen[0]!r} ({seen[1]})")
        self.labels[f"{kind}:{slug}"] = (label, f"line {cell.line}")
        node = self.iri(kind, slug)
        self.individual(file, node, cls, label)
        return node

    def cited(self, cell: Cell, numbers: Iterable[int]) -> list[int]:
        found = []
        for number in numbers:
            if number not in self.doc.references:
                raise _err(cell, self.path, f"cites reference [{number}], which the reference "
                           "lists do not contain; expected an existing reference number")
            if self.works_read and number not in self.ref_work:
                raise _AlreadyReported  # the entry's own problem is on its line; skip this row
            found.append(number)
        return found

    def link_label(self, file: str, cell: Cell, url: str, text: str) -> URIRef:
        """A table cell's Markdown link: the IRI, with the link text kept for rendering."""
        from rdflib import RDFS, Literal, URIRef

        node = URIRef(_link(cell, self.path, url))
        self.add(file, (node, RDFS.label, Literal(text)))
        return node

    # ------------------------------------------------------------ threat models

    def threat_models(self) -> None:
        from rdflib import BNode, Literal
        from rdflib.collection import Collection
        from rdflib.namespace import OWL, RDF, RDFS

        from kg.namespaces import GIA

        file = THREAT_MODELS_NAME
        graph = self.graphs[file]
        table = self.doc.tables["threat-models"]
        columns = []
        for key, header in table.columns.items():
            if key.startswith("capability:"):
                cap = self.vocab.capabilities.get(key.split(":", 1)[1])
                if cap is None:
                    raise InputError(
                        f"{self.path}:{table.line}: column '{header}': not a capability of the "
                        f"ontology, expected one of: {', '.join(sorted(self.vocab.capabilities))}"
                    )
                columns.append((key, cap))
        for row in table.rows:
            with self.collecting():
                letter = row["id"].text
                if not re.fullmatch(r"[A-Z]", letter) or letter in self.letters:
                    raise _err(row["id"], self.path, "expected a new capital letter")
                self.letters.append(letter)
                name = row["name"].text
                if not name:
                    raise _err(row["name"], self.path, "expected a threat model name")
                stars = row["applicability"]
                low, high = STARS
                if (not re.fullmatch(r"★+☆*", stars.text) or len(stars.text) > high
                        or not low <= stars.text.count("★") <= high):
                    raise _err(stars, self.path, f"expected {low} to {high} stars like ★★☆")
                tm, adv = self.iri("tm", letter), self.iri("adv", letter)
                self.individual(file, tm, GIA.ThreatModel, name)
                self.add(file, (tm, GIA.letter, Literal(letter)),
                         (tm, GIA.applicability, Literal(stars.text.count("★"))),
                         (tm, GIA.adversaryClass, adv))
                restrictions = [GIA.Adversary]
                for key, cap in columns:
                    cell = row[key]
                    if cell.text in _CHECK:
                        self.add(file, (tm, GIA.hasCapability, cap))
                        node = BNode()
                        self.add(file, (node, RDF.type, OWL.Restriction),
                                 (node, OWL.onProperty, GIA.hasCapability),
                                 (node, OWL.hasValue, cap))
                        restrictions.append(node)
                    elif cell.text not in _CROSS:
                        raise _err(cell, self.path, "expected ✔️ or ✗")
                if len(restrictions) == 1:  # shape:ThreatModelCapabilities, sh:minCount 1
                    raise InputError(f"{self.path}:{row.line}: threat model {letter}: expected at "
                                     "least one capability marked ✔️, got none")
                head, inter = BNode(), BNode()
                Collection(graph, head, restrictions)
                self.add(file, (adv, RDF.type, OWL.Class),
                         (adv, RDFS.label, Literal(f"{letter} adversary ({name})")),
                         (adv, OWL.equivalentClass, inter),
                         (inter, RDF.type, OWL.Class), (inter, OWL.intersectionOf, head))

    def threat_model(self, cell: Cell) -> URIRef:
        if cell.text not in self.letters:
            raise _err(cell, self.path,
                       f"expected a threat model letter ({', '.join(self.letters)})")
        return self.iri("tm", cell.text)

    # ------------------------------------------------------------ works and references

    def row_refs(self, cell: Cell, form: str) -> tuple[str, list[int]]:
        match = _ROW_WORK.match(cell.text)
        if match is None:
            raise _err(cell, self.path, f"expected {form}")
        numbers = [int(n) for n in match.group("refs").split(",")]
        if len(set(numbers)) != len(numbers):
            raise _err(cell, self.path, f"expected {form} citing each reference once")
        return match.group("label"), self.cited(cell, numbers)

    def works(self) -> None:
        """One gia:Work per paper (same title and same links), one gia:Reference per entry."""
        from rdflib import DCTERMS, Literal, URIRef

        from kg.namespaces import GIA

        authors: dict[int, tuple[str, int, Cell]] = {}
        for row in self.doc.tables["attacks"].rows:
            with self.collecting():
                label, numbers = self.row_refs(row["work"], "'Author et al. (YEAR) [N]'")
                match = _AUTHOR_YEAR.match(label)
                if match is None or not slugify(match.group("author")):
                    raise _err(row["work"], self.path, "expected 'Author et al. (YEAR) [N]'")
                year = _year(row["work"], self.path, match.group("year"))
                for number in numbers:
                    authors[number] = (match.group("author"), year, row["work"])
        groups: dict[tuple, list[ReferenceEntry]] = {}
        for number in sorted(self.doc.references):
            entry = self.doc.references[number]
            if not entry.title:
                raise InputError(f"{self.path}:{entry.line}: reference [{number}]: "
                                 "expected a title, got an empty entry")
            key = (entry.title, tuple(sorted(url for _, url in entry.links)))
            groups.setdefault(key, []).append(entry)
        slugs: dict[str, int] = {}
        file = "works.ttl"
        found = self._known_works(groups, authors)
        for index, ((title, urls), entries) in enumerate(groups.items()):
            with self.collecting():
                known = {authors[e.number][:2] for e in entries if e.number in authors}
                author, year = next(iter(known)) if known else (None, None)
                slug = work_slug(title, author, year)
                if not significant_words(title, 1):
                    raise InputError(f"{self.path}:{entries[0].line}: reference "
                                     f"[{entries[0].number}]: expected a title with letters or "
                                     f"digits, got '{title}'")
                if slug in slugs:
                    raise InputError(
                        f"{self.path}:{entries[0].line}: reference [{entries[0].number}] gets the work "
                        f"slug {slug!r} of reference [{slugs[slug]}]; expected distinct titles"
                    )
                slugs[slug] = entries[0].number
                work = self.stable("work", found.get(index), slug,
                                   work_keys(title, urls, author, year))
                self.work_titles[work] = title
                self.individual(file, work, GIA.Work)
                self.add(file, (work, DCTERMS.title, Literal(title)))
                if author is not None:
                    self.add(file, (work, GIA.firstAuthor, Literal(author)),
                             (work, GIA.year, Literal(year)))
                for rank, entry in enumerate(entries, start=1):
                    if entry.venue:
                        self.add(file, (work, GIA.venue, Literal(entry.venue)))
                    key = f"of:{work}#{rank}"
                    ref = self.stable("reference", _one(self.registry.iris("reference", key)),
                                      f"{work.rsplit('/', 1)[1]}-ref{entry.number}", [key])
                    self.ref_work[entry.number] = work
                    self.ref_iri[entry.number] = ref
                    self.individual(file, ref, GIA.Reference)
                    self.add(file, (ref, GIA.referenceNumber, Literal(entry.number)),
                             (ref, GIA.work, work), (ref, DCTERMS.title, Literal(entry.title)),
                             (ref, GIA.citationText, Literal(entry.citation_text)))
                    if entry.venue:
                        self.add(file, (ref, GIA.venue, Literal(entry.venue)))
                    for text, url in entry.links:
                        prop = _REFERENCE_LINKS.get(text.lower())
                        if prop is None:
                            raise InputError(
                                f"{self.path}:{entry.line}: reference [{entry.number}]: link "
                                f"'[{text}]': expected a [paper](url) or [GitHub](url) link"
                            )
                        self.add(file, (ref, getattr(GIA, prop), URIRef(url)))
                        named = parse_identifier(url) if prop == "paperLink" else None
                        if named is not None:  # kg.work_ids: what the link says, offline
                            self.add(file, (work, DCTERMS.identifier, Literal(str(named))))

    def cite_row(self, file: str, node: URIRef, numbers: list[int]) -> None:
        from kg.namespaces import GIA

        self.ordered(file, node, GIA.reference, [self.ref_iri[n] for n in numbers])
        for number in numbers:
            self.add(file, (node, GIA.work, self.ref_work[number]))

    def ordered(self, file: str, node: URIRef, prop: URIRef, values: list,
                cell: Cell | None = None) -> list:
        """``node prop value`` for each value of a cell, in the cell's order.

        With two or more values, each triple gets an ``owl:Axiom`` annotated with its
        ``gia:itemPosition`` (from 1), returned in order: an OWL 2 DL-safe record of the order
        (docs/data-model.md, "Order and layout"). Blank node ids are derived from the triple, so
        the sorted Turtle output stays byte-stable.
        """
        from rdflib import OWL, RDF, BNode, Literal

        from kg.namespaces import GIA, ID_BASE

        if len(set(values)) != len(values):
            if cell is not None:
                raise _err(cell, self.path, "expected each item once")
            raise InputError(f"{self.path}: {node}: a cell lists {prop} twice; expected each "
                             "value once")
        axioms = []
        for value in values:
            self.add(file, (node, prop, value))
        if len(values) < 2:
            return axioms
        tail = re.sub(r"[^A-Za-z0-9]+", "-", str(node).removeprefix(ID_BASE))
        for position, value in enumerate(values, 1):
            axiom = BNode(f"{tail}-{str(prop).rsplit('#', 1)[-1]}-{position}")
            self.add(file, (axiom, RDF.type, OWL.Axiom), (axiom, OWL.annotatedSource, node),
                     (axiom, OWL.annotatedProperty, prop), (axiom, OWL.annotatedTarget, value),
                     (axiom, GIA.itemPosition, Literal(position)))
            axioms.append(axiom)
        return axioms

    def code(self, file: str, node: URIRef, cell: Cell) -> None:
        from kg.namespaces import GIA

        if cell.text in self.vocab.code_status:
            self.add(file, (node, GIA.codeStatus, self.vocab.code_status[cell.text]))
            return
        links = LINK.findall(cell.text)
        if not links or LINK.sub("", cell.text).strip():
            marks = " or ".join(sorted(self.vocab.code_status))
            raise _err(cell, self.path, f"expected a Markdown link [text](url), {marks}")
        self.add(file, (node, GIA.codeStatus, GIA.OpenSource))
        self.ordered(file, node, GIA.codeRepository,
                     [self.link_label(file, cell, url, text) for text, url in links], cell)

    # ------------------------------------------------------------ attacks

    def attacks(self) -> None:
        from rdflib import Literal

        from kg.namespaces import GIA

        file = "attacks.ttl"
        category = technique = None
        seen: dict[URIRef, int] = {}
        for position, row in enumerate(self.doc.tables["attacks"].rows, 1):
            with self.collecting():
                above = (category, technique)
                category, technique = self._carry(file, row, category, technique)
                label, numbers = self.row_refs(row["work"], "'Author et al. (YEAR) [N]'")
                if len(numbers) != 1:  # shape:AttackReference and shape:AttackWork, sh:maxCount 1
                    raise _err(row["work"], self.path, "expected one reference: 'Author et al. "
                               "(YEAR) [N]'")
                work = self.ref_work[numbers[0]]
                key = f"of:{work}"
                attack = self.stable("attack", _one(self.registry.iris("attack", key)),
                                     str(work).rsplit("/", 1)[1], [key])
                if attack in seen:
                    raise _err(row["work"], self.path,
                               f"expected one attack row per work (also at line {seen[attack]})")
                seen[attack] = row.line
                self.individual(file, attack, GIA.Attack, label)
                self.layout(file, attack, row, position, above, (category, technique))
                self.add(file, (attack, GIA.category, category), (attack, GIA.technique, technique),
                         (attack, GIA.threatModel, self.threat_model(row["threat_model"])))
                self.cite_row(file, attack, numbers)
                self._algorithm(file, attack, row["algorithm"])
                self._resolution(file, attack, row["resolution"])
                batch = row["batch"]
                pair = _pair(batch, self.path, "expected E×B of positive integers")
                if pair:
                    epochs, size = pair
                    self.add(file, (attack, GIA.localIterations, Literal(epochs)),
                             (attack, GIA.batchSize, Literal(size)))
                elif _INTEGER.fullmatch(batch.text):
                    size = _positive(batch, self.path, batch.text, "expected a positive batch size")
                    self.add(file, (attack, GIA.batchSize, Literal(size)))
                else:
                    raise _err(batch, self.path, "expected an integer or E×B")
                self._models(file, attack, row["model"])
                tasks = _tasks(row["task"], self.path)
                nodes = [self.labelled(file, "task", task, GIA.LearningTask, row["task"])
                         for task, _ in tasks]
                axioms = self.ordered(file, attack, GIA.learningTask, nodes, row["task"])
                for axiom, (_, shared) in zip(axioms, tasks, strict=False):
                    if shared:
                        self.add(file, (axiom, GIA.sharesNounWithPrevious, Literal(True)))
                self._labels(file, attack, row["labels"])
                self.code(file, attack, row["code"])

    def layout(self, file: str, node: URIRef, row: Row, position: int, above: tuple,
               current: tuple) -> None:
        """The row's place in its table, and the carried cells it writes out all the same."""
        from rdflib import Literal

        from kg.namespaces import GIA

        self.add(file, (node, GIA.position, Literal(position)))
        if row["category"].text and current[0] == above[0]:
            self.add(file, (node, GIA.restates, GIA.category))
        if row["technique"].text and current == above:
            self.add(file, (node, GIA.restates, GIA.technique))

    def _carry(self, file: str, row: Row, category, technique):
        """Category and technique cells left blank repeat the row above."""
        from kg.namespaces import GIA

        cat_cell, tech_cell = row["category"], row["technique"]
        if cat_cell.text:
            category = self.labelled(file, "category", cat_cell.text, GIA.AttackCategory,
                                     cat_cell)
            technique = None
        elif category is None:
            raise _err(cat_cell, self.path, "expected a category (nothing above to repeat)")
        if tech_cell.text:
            technique = self._technique(file, tech_cell, GIA.AttackTechnique, category)
        elif technique is None:
            raise _err(tech_cell, self.path, "expected a technique (nothing above to repeat)")
        return category, technique

    def _technique(self, file: str, cell: Cell, cls: URIRef, category: URIRef) -> URIRef:
        from kg.namespaces import GIA

        node = self.labelled(file, "technique", cell.text, cls, cell)
        before = set(self.graphs[file].objects(node, GIA.category))
        if before and before != {category}:
            raise _err(cell, self.path, "expected each technique under one category only")
        self.add(file, (node, GIA.category, category))
        return node

    def _algorithm(self, file: str, attack: URIRef, cell: Cell) -> None:
        from kg.namespaces import GIA

        if cell.text == _BOTH:
            chosen = list(self.vocab.algorithms.values())
        elif cell.text in self.vocab.algorithms:
            chosen = [self.vocab.algorithms[cell.text]]
        else:
            names = ", ".join([*sorted(self.vocab.algorithms), _BOTH])
            raise _err(cell, self.path, f"expected a learning algorithm ({names})")
        for algorithm in chosen:
            self.add(file, (attack, GIA.learningAlgorithm, algorithm))

    def _resolution(self, file: str, attack: URIRef, cell: Cell) -> None:
        from rdflib import Literal

        from kg.namespaces import GIA

        pair = _pair(cell, self.path, "expected WIDTH×HEIGHT of positive integers")
        if pair:
            width, height = pair
            self.add(file, (attack, GIA.imageWidth, Literal(width)),
                     (attack, GIA.imageHeight, Literal(height)))
        elif cell.text in self.vocab.resolutions:
            self.add(file, (attack, GIA.resolutionKind, self.vocab.resolutions[cell.text]))
        elif cell.text == _NOT_AVAILABLE:
            self.add(file, (attack, GIA.notReported, GIA.imageWidth),
                     (attack, GIA.notReported, GIA.imageHeight))
        else:
            kinds = ", ".join(sorted(self.vocab.resolutions))
            raise _err(cell, self.path, f"expected WIDTH×HEIGHT, {kinds} or N/A")

    def _models(self, file: str, attack: URIRef, cell: Cell) -> None:
        from kg.namespaces import GIA

        if cell.text == _NOT_AVAILABLE:
            self.add(file, (attack, GIA.notReported, GIA.sharedModel))
            return
        models = []
        for item in cell.text.split(","):
            item = item.strip()
            marks = _NOTES.search(item)
            if marks:
                for mark in marks.group(0):
                    if mark not in self.vocab.notes:
                        notes = ", ".join(sorted(self.vocab.notes))
                        raise _err(cell, self.path, f"expected footnote marks among {notes}")
                    self.add(file, (attack, GIA.modelNote, self.vocab.notes[mark]))
                item = item[: marks.start()].strip()
            models.append(self.labelled(file, "model", item, GIA.ModelArchitecture, cell))
        self.ordered(file, attack, GIA.sharedModel, models, cell)

    def _labels(self, file: str, attack: URIRef, cell: Cell) -> None:
        from kg.namespaces import GIA

        text = cell.text
        if text in self.vocab.label_kinds:
            self.add(file, (attack, GIA.labelRecovery, self.vocab.label_kinds[text]))
            return
        cites = _CITATION.fullmatch(text)
        link = LINK.fullmatch(text)
        if cites:
            numbers = [int(n) for n in cites.group(1).split(",")]
            sources = [self.ref_work[n] for n in self.cited(cell, numbers)]
        elif link:
            sources = [self.link_label(file, cell, link.group(2), link.group(1))]
        else:
            marks = " ".join(sorted(self.vocab.label_kinds))
            raise _err(cell, self.path, f"expected one of {marks}, a citation [N] or a [link](url)")
        self.add(file, (attack, GIA.labelRecovery, GIA.ReusedLabelRecovery))
        self.ordered(file, attack, GIA.labelRecoverySource, sources, cell)

    # ------------------------------------------------------------ defenses

    def defenses(self) -> None:
        from rdflib import Literal

        from kg.namespaces import GIA

        file = "defenses.ttl"
        category = technique = None
        seen: dict[URIRef, int] = {}
        for position, row in enumerate(self.doc.tables["defenses"].rows, 1):
            with self.collecting():
                above = (category, technique)
                cat_cell = row["category"]
                if cat_cell.text:
                    if cat_cell.text not in self.vocab.defense_categories:
                        codes = ", ".join(sorted(self.vocab.defense_categories))
                        raise _err(cat_cell, self.path, f"expected a defense category ({codes})")
                    if self.vocab.defense_categories[cat_cell.text] != category:
                        technique = None
                    category = self.vocab.defense_categories[cat_cell.text]
                elif category is None:
                    raise _err(cat_cell, self.path, "expected a category (nothing above to repeat)")
                if row["technique"].text:
                    technique = self._technique(file, row["technique"], GIA.DefenseTechnique,
                                                category)
                elif technique is None:
                    raise _err(row["technique"], self.path,
                               "expected a technique (nothing above to repeat)")
                name, numbers = self.row_refs(row["work"], "'[N]', '[N,M]' or 'Name [N]'")
                first_work = self.ref_work[numbers[0]]
                slug = slugify(name) if name else str(first_work).rsplit("/", 1)[1]
                if not slug:
                    raise _err(row["work"], self.path, "expected a defense name with letters or "
                               "digits before [N]")
                keys = sorted({f"of:{self.ref_work[n]}" for n in numbers})
                known = set().union(*(self.registry.iris("defense", k) for k in keys)) - self.taken
                defense = self.stable("defense", _one(known), slug, keys)
                slug = str(defense).rsplit("/", 1)[1]  # assessments follow the defense's stable IRI
                if defense in seen:
                    raise _err(row["work"], self.path,
                               f"expected one row per defense (also at line {seen[defense]})")
                seen[defense] = row.line
                self.individual(file, defense, GIA.Defense, name or self.work_titles[first_work])
                self.layout(file, defense, row, position, above, (category, technique))
                if name:
                    self.add(file, (defense, GIA.name, Literal(name)))
                self.add(file, (defense, GIA.category, category), (defense, GIA.technique, technique))
                self.cite_row(file, defense, numbers)
                year = row["year"]
                if year.text == _NOT_AVAILABLE:
                    self.add(file, (defense, GIA.notReported, GIA.year))
                elif re.fullmatch(r"[0-9]{4}", year.text):
                    low, high = YEARS
                    if not low <= int(year.text) <= high:
                        raise _err(year, self.path, f"expected a year from {low} to {high} or N/A")
                    self.add(file, (defense, GIA.year, Literal(int(year.text))))
                else:
                    raise _err(year, self.path, "expected a year (YYYY) or N/A")
                for key in ("intuition", "weakness"):  # shape:DefenseIntuition/Weakness, minLength 1
                    if not row[key].text:
                        raise _err(row[key], self.path, "expected a non-empty text")
                where = row["where"]
                if where.text not in self.vocab.sides:
                    raise _err(where, self.path,
                               f"expected one of {', '.join(sorted(self.vocab.sides))}")
                self.add(file, (defense, GIA.deployedAt, self.vocab.sides[where.text]),
                         (defense, GIA.intuition, Literal(row["intuition"].text)),
                         (defense, GIA.weakness, Literal(row["weakness"].text)))
                for group in _CITATION.findall(row["weakness"].text):
                    numbers = [int(n) for n in group.split(",")]
                    for number in self.cited(row["weakness"], numbers):
                        self.add(file, (defense, GIA.weaknessCites, self.ref_work[number]))
                self.code(file, defense, row["code"])
                self._assessments(file, defense, slug, row["coverage"])

    def _assessments(self, file: str, defense: URIRef, slug: str, cell: Cell) -> None:
        from rdflib import Literal

        from kg.namespaces import GIA

        try:
            levels = parse_coverage(cell.text, self.letters, self.vocab.level_names)
        except CoverageError as exc:
            raise InputError(f"{self.path}:{cell.line}: column '{cell.column}': {exc}, "
                             f"got '{cell.text}'") from None
        for letter, level in levels.items():
            node = self.iri("assessment", f"{slug}-{letter}")
            self.individual(file, node, GIA.Assessment)
            self.add(file, (node, GIA.threatModel, self.iri("tm", letter)),
                     (node, GIA.level, self.vocab.levels[level]),
                     (defense, GIA.hasAssessment, node))
        for segment in _LINE_BREAK.split(cell.text)[1:]:  # "D (green) <br> E (orange)"
            after = _BREAK_LETTER.match(segment)
            if after and after.group(1) in levels:
                node = self.iri("assessment", f"{slug}-{after.group(1)}")
                self.add(file, (node, GIA.lineBreakBefore, Literal(True)))

    # ------------------------------------------------------------ release

    def release(self) -> None:
        from rdflib import DCTERMS, OWL, RDF, Literal, URIRef

        from kg.namespaces import GIA

        file = "sok.ttl"
        self.add(file, (self.sok, RDF.type, OWL.NamedIndividual),
                 (self.sok, RDF.type, GIA.SoKRelease),
                 (self.sok, GIA.sokVersion, Literal(self.version)),
                 (self.sok, DCTERMS.source, URIRef(SOK_REPOSITORY)))
        if self.doc.title:
            self.add(file, (self.sok, DCTERMS.title, Literal(self.doc.title)))

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """Note a row's problem and go on with the next row: a README's problems come in one run."""
        try:
            yield
        except _AlreadyReported:
            pass
        except InputError as exc:
            self.problems.extend(getattr(exc, "messages", [str(exc)]))

    def build(self) -> dict[str, Graph]:
        self.threat_models()
        self.works()
        self.works_read = True
        self.attacks()
        self.defenses()
        self.release()
        if self.problems:
            raise InputErrors(self.problems)
        return self.graphs


def _pair(cell: Cell, path: str, wanted: str) -> tuple[int, int] | None:
    """``64×64`` / ``10×5`` as two positive integers; None when the cell is not of that form."""
    match = _PAIR.match(cell.text)
    if match is None:
        return None
    return _positive(cell, path, match.group(1), wanted), _positive(cell, path, match.group(2), wanted)


class _AlreadyReported(Exception):
    """A row that depends on a reference entry whose problem is already reported."""


def _one(iris: set[str]) -> str | None:
    """The IRI when a key names exactly one, else None (then a new one is minted)."""
    return next(iter(iris)) if len(iris) == 1 else None


def _tasks(cell: Cell, path: str) -> list[tuple[str, bool]]:
    """``Object and Face Classification`` -> ``Object Classification``, ``Face Classification``.

    Each task comes with whether the cell wrote it sharing its last word with the task before.
    """
    tasks: list[tuple[str, bool]] = []
    for item in cell.text.split(","):
        item = " ".join(item.split())
        if not item:
            raise _err(cell, path, "expected learning tasks separated by commas")
        shared = _SHARED_NOUN.match(item)
        if shared:
            noun = shared.group("noun")
            tasks += [(f"{shared.group('first')} {noun}", False),
                      (f"{shared.group('second')} {noun}", True)]
        else:
            tasks.append((item, False))
    return tasks


_COUNT_QUERY = """
SELECT ?what (COUNT(DISTINCT ?s) AS ?n) WHERE {
  VALUES (?what ?cls) { ("threat-models" gia:ThreatModel) ("attacks" gia:Attack)
    ("defenses" gia:Defense) ("references" gia:Reference) ("works" gia:Work)
    ("assessments" gia:Assessment) }
  ?s a ?cls .
} GROUP BY ?what
"""


def _check(graphs: dict[str, Graph], doc: SokDocument, path: str, letters: list[str]) -> dict:
    """Reasoning-independent checks on the built graphs: counts agree with the tables."""
    from kg.loading import new_graph
    from kg.namespaces import GIA, SPARQL_PREFIXES

    union = new_graph()
    for graph in graphs.values():
        union += graph
    counts = {str(r.what): int(r.n) for r in union.query(_COUNT_QUERY, initNs=SPARQL_PREFIXES)}
    expected = {
        "threat-models": len(doc.tables["threat-models"].rows),
        "attacks": len(doc.tables["attacks"].rows),
        "defenses": len(doc.tables["defenses"].rows),
        "references": len(doc.references),
        "assessments": len(doc.tables["defenses"].rows) * len(letters),
    }
    for what, n in expected.items():
        if counts.get(what, 0) != n:
            raise InputError(f"{path}: {what}: the tables give {n} but {counts.get(what, 0)} "
                             "were built; expected them to agree")
    for defense in union.subjects(GIA.hasAssessment, None, unique=True):
        covered = sorted(str(union.value(a, GIA.threatModel)).rsplit("/", 1)[1]
                         for a in union.objects(defense, GIA.hasAssessment))
        if covered != sorted(letters):
            raise InputError(f"{path}: {defense}: assessed for {covered}, expected {letters}")
    return {k: counts.get(k, 0) for k in sorted(set(counts) | set(expected))}


def _conforms(graphs: dict[str, Graph], path: str, ontology: Graph) -> None:
    """Safety net: the built graphs satisfy shapes/*.ttl, else the first violation as an error.

    The cell checks above should make this unreachable; it catches a rule added to the shapes
    and not (yet) to the importer. It costs about half a second on the SoK (pySHACL).
    """
    from kg.loading import new_graph
    from kg.validation import validate

    union = new_graph()
    for graph in graphs.values():
        union += graph
    result = validate(data=union, ontology=ontology)
    for row in result.rows:
        if row.severity == "Violation":
            value = f" (value: {row.value})" if row.value and row.value != row.focus else ""
            raise InputError(f"{path}: the imported data would not validate: {row.focus}: "
                             f"{row.message}{value} [{row.shape}]")


def serialize(graph: Graph, version: str) -> str:
    """Sorted Turtle with a generated-file header (rdflib sorts subjects and predicates)."""
    body = graph.serialize(format="turtle")
    return (f"# Generated by `gia-kg import-sok` from the SoK README (version {version}).\n"
            f"# Do not edit by hand: re-run the import.\n{body}")


def shipped_registry() -> Registry:
    """The registry of the published IRIs (kg/data/registry.tsv)."""
    from kg.paths import DATA_DIR

    return Registry.read(DATA_DIR / REGISTRY_NAME)


def build(readme: str | Path, source: str | None = None, registry: Registry | None = None) -> ImportResult:
    """Read and check the README, and return the Turtle text of each output file.

    IRIs come from ``registry`` (default: the shipped one), which is extended with what this
    release adds (the result's ``registry``; the argument itself is not changed).
    """
    from kg import reasoning
    from kg.inputs import read_text

    path = Path(readme)
    text = read_text(path)  # a regular file, size-capped, strict UTF-8, BOM dropped
    version = source_version(path, source, text)
    shown = str(readme)
    doc = parse_document(shown, text)
    registry = (registry if registry is not None else shipped_registry()).copy()
    builder = _Builder(shown, doc, version, registry)
    graphs = builder.build()
    registry.renumber({n: str(w) for n, w in builder.ref_work.items()})
    counts = _check(graphs, doc, shown, builder.letters)
    _conforms(graphs, shown, builder.vocab.ontology)
    files = {name: serialize(graphs[name], version) for name in FILES}
    result = ImportResult(version, files, counts, registry, list(doc.notes))
    result.equivalent = reasoning.equivalences(graphs[THREAT_MODELS_NAME])
    return result


def import_sok(readme: str | Path, out_dir: str | Path, source: str | None = None) -> ImportResult:
    """Build, reason, then replace ``out_dir`` atomically: a folder that answers queries at once.

    IRIs come from the target's registry.tsv, else the shipped one, and the extended registry is
    written with the data. With Java, HermiT derives inferred.ttl inside the new folder before the
    swap; without it, an inferred.ttl that still matches the threat models is kept, and the
    result says how to finish (``reasoned`` False). The target is checked before the (slow) build
    to fail fast, and again under the swap's lock after a killed earlier run was recovered.
    """
    from kg import reasoning
    from kg.errors import ReasonerError
    from kg.fileio import replace_dir_atomic

    target = Path(out_dir).resolve()
    _check_target(target)
    own = target / REGISTRY_NAME
    result = build(readme, source, Registry.read(own) if own.exists() else shipped_registry())
    inferred = target / INFERRED_NAME

    def fill(tmp: Path) -> None:
        tmp.chmod(0o755)
        for name, content in result.files.items():
            (tmp / name).write_text(content, encoding="utf-8", newline="\n")
        (tmp / REGISTRY_NAME).write_text(result.registry.text(), encoding="utf-8", newline="\n")
        try:
            reasoning.materialize(tmp)
            result.reasoned = True
            return
        except ReasonerError as exc:  # HermiT warns of equivalent threat models; without it, say so here
            result.notes.append(str(exc))
            for first, second in result.equivalent:
                result.notes.append(f"threat models {first} and {second} have the same capabilities "
                                    "(equivalent)")
        kept = _kept_inferred(inferred)
        if kept is not None:
            data, info = kept
            copy = tmp / INFERRED_NAME
            copy.write_bytes(data)
            os.chmod(copy, stat.S_IMODE(info.st_mode))
            os.utime(copy, ns=(info.st_atime_ns, info.st_mtime_ns))

    replace_dir_atomic(target, fill, check=_check_target)
    return result


def _kept_inferred(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The bytes and stat of the target's inferred.ttl, or None; refused unless a regular file.

    Read with ``kg.inputs.read_bytes`` (regular file, size-capped, no FIFO wait) after an lstat,
    so a symlink put there since ``_check_target`` is not followed.
    """
    from kg.inputs import read_bytes

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"-o {path.parent}: {path} is {file_kind(info.st_mode)}; "
                         "expected a regular file")
    return read_bytes(path), info


def _check_target(target: Path) -> None:
    """Refuse a target whose swap would delete anything the import does not write itself.

    Entries are examined with lstat: a symlink (even named inferred.ttl) is refused, not
    followed, so the import never copies a file from outside the folder into it.
    """
    if not target.parent.is_dir():
        raise UsageError(f"-o {target}: folder {target.parent} does not exist")
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"-o {target}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"-o {target}: exists and is not a folder")
    ours = {*FILES, INFERRED_NAME, REGISTRY_NAME}
    try:
        entries = sorted(os.scandir(target), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"-o {target}: cannot read: {exc.strerror or exc}") from None
    foreign = [e.name for e in entries if e.name not in ours]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise UsageError(
            f"-o {target}: holds files that import-sok does not write ({shown}); "
            "give an empty or new folder, or a gia-kg data folder"
        )
    for entry in entries:
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            raise UsageError(f"-o {target}: {target / entry.name} is {file_kind(mode)}; "
                             "expected a regular file")
