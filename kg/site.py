"""``gia-kg site -o DIR``: the graph as a static website that works offline, in deterministic bytes.

Pages: ``index.html`` (what the graph is, the SoK release it shows), ``coverage.html`` (the SoK's
coloured defense x threat-model table), ``order.html`` (the Hasse diagram of the reasoned order,
inline SVG laid out by kg.site_hasse), ``attacks.html``, ``works.html``, ``queries.html`` and
``queries/NAME.html`` (every saved query's answer), ``audit.html``, ``ontology.html``, and one page
per attack, defense, work and threat model at the path of its IRI (``id/attack/SLUG.html``) with
its own Turtle beside it (``id/attack/SLUG.ttl``).

What the pages show comes from SPARQL (queries/site/*.rq, the saved queries, the audit checks, the
order queries); this module arranges it. No script, style, font or image comes from another host
(the only script is kg/templates/table.js, inlined). The folder is built beside DIR and swapped in
atomically (kg.fileio.replace_dir_atomic); a DIR that holds anything but an earlier site is refused.

DOM contract (tests/test_site.py): each heatmap row ``<tr data-ref="42,43">`` (ascending reference
numbers), each cell ``data-threat-model="X" data-level="effective|partial|ineffective"``; each Hasse
edge ``data-edge="B>A"`` (stronger>weaker).
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import __version__
from kg.engine import Dataset, ResultTable, Term, is_ref_column, open_dataset, term_text
from kg.errors import GiaKgError, InputError, UsageError
from kg.namespaces import ID_BASE, PREFIXES
from kg.paths import ONTOLOGY_FILE, QUERIES_DIR
from kg.site_html import Html, anchor, esc, fill, join, lines, link, rel, tag, template_text

SITE_QUERIES = QUERIES_DIR / "site"
#: The file that marks a folder as written by ``gia-kg site`` (so that it may be replaced whole).
MARKER = ".gia-kg-site"
MARKER_TEXT = ("Written by `gia-kg site`. The next run replaces this whole folder: keep nothing "
               "else in it.\n")
#: Kinds of resource with a page, as IRI path segments, and what a page calls them.
KINDS = {"attack": "Attack", "defense": "Defense", "work": "Work", "threat-model": "Threat model"}
#: The site's navigation: path and link text.
NAV = (
    ("index.html", "Home"),
    ("coverage.html", "Coverage"),
    ("order.html", "Threat models"),
    ("attacks.html", "Attacks"),
    ("works.html", "Works"),
    ("queries.html", "Saved queries"),
    ("audit.html", "Audit"),
    ("ontology.html", "Ontology"),
)
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
_EXTERNAL = ("https://", "http://")
RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
GIA_WORK = PREFIXES["gia"] + "work"
GIA_THREAT_MODEL = PREFIXES["gia"] + "threatModel"


@dataclass(frozen=True)
class Entity:
    """A resource with a page: attack, defense, work or threat model."""

    iri: str
    kind: str
    slug: str
    label: str
    refs: tuple[int, ...]

    @property
    def path(self) -> str:
        """Its page, at the path of its IRI: ``id/attack/SLUG.html``."""
        return f"id/{self.kind}/{self.slug}.html"

    @property
    def ttl_path(self) -> str:
        """Its own Turtle: ``id/attack/SLUG.ttl``."""
        return f"id/{self.kind}/{self.slug}.ttl"

    @property
    def display(self) -> str:
        """How links name it: an attack or defense with its reference numbers, as the SoK cites."""
        if self.kind in ("attack", "defense") and self.refs:
            return f"[{','.join(map(str, self.refs))}] {self.label}"
        return self.label


@dataclass(frozen=True)
class SiteResult:
    """What ``build`` wrote: the folder, and how many HTML pages and files in all."""

    path: Path
    pages: int
    files: int


def _numbers(text: str) -> tuple[int, ...]:
    """``"43,42"`` -> ``(42, 43)``: reference numbers, ascending, each once."""
    return tuple(sorted({int(n) for n in text.split(",") if n.strip().isdigit()}))


def _items(text: str) -> list[str]:
    """A ``|``-separated cell as sorted items (GROUP_CONCAT's order is undefined)."""
    return sorted(item for item in text.split("|") if item)


def _select(dataset: Dataset, name: str) -> list[dict[str, Term | None]]:
    """Rows of queries/site/NAME.rq as ``{column: term}`` (unbound cells None), in query order."""
    table = dataset.select((SITE_QUERIES / f"{name}.rq").read_text(encoding="utf-8"))
    return [dict(zip(table.columns, row, strict=True)) for row in table.sorted_rows()]


def _t(row: dict[str, Term | None], key: str) -> str:
    return term_text(row.get(key))


def _compact(iri: str) -> str:
    from kg.results import compact

    return compact(ox.NamedNode(iri))


def _turtle(triples: list[ox.Triple], subject: str) -> str:
    """Turtle with only the project prefixes it uses, declared in sorted order (stable bytes);
    the triples of ``subject`` first, then the others (its assessments), each sorted.

    Not kg.results.format_triples: that declares all twenty-odd prefixes on every page, and the
    order in which pyoxigraph writes prefix lines is its own; sorting them keeps the bytes ours.
    """
    used: dict[str, str] = {}
    for triple in triples:
        for term in (triple.subject, triple.predicate, triple.object):
            if isinstance(term, ox.NamedNode):
                best = max((ns for ns in PREFIXES.values() if term.value.startswith(ns)), key=len,
                           default=None)
                if best is not None:
                    used[next(p for p, ns in PREFIXES.items() if ns == best)] = best
    first = ox.NamedNode(subject)
    ordered = sorted(triples, key=lambda t: (t.subject != first, str(t)))
    data = ox.serialize(ordered, format=ox.RdfFormat.TURTLE,
                        prefixes=dict(sorted(used.items()))) or b""
    text = data.decode("utf-8")
    head = [line for line in text.splitlines() if line.startswith("@prefix ")]
    body = [line for line in text.splitlines() if not line.startswith("@prefix ")]
    return "\n".join(sorted(head)) + ("\n\n" if head else "") + "\n".join(body).strip("\n") + "\n"


class _Site:
    """Everything one render needs, read once from the graph, and the files it produces."""

    def __init__(self, kg_dir: str | Path | None) -> None:
        self.kg_dir = kg_dir
        self.dataset = open_dataset(kg_dir)
        self.files: dict[str, bytes] = {}
        self.entities = self._entities()
        self.labels = self._labels()
        self.ontology = self._ontology_rows()
        self.ontology_terms = {_t(row, "term") for row in self.ontology}
        self.releases = _select(self.dataset, "release")
        self.release_iris = {_t(row, "release") for row in self.releases}
        self.models = _select(self.dataset, "threat-models")
        self.letters = [_t(row, "letter") for row in self.models]
        self.levels = _select(self.dataset, "levels")
        self.ratings: dict[tuple[str, str], dict[str, Term | None]] = {
            (_t(row, "defense"), _t(row, "letter")): row for row in _select(self.dataset, "ratings")
        }
        self.works = _select(self.dataset, "works")
        self.work_of_ref: dict[int, str] = {}
        for row in self.works:
            for number in _numbers(_t(row, "refs")):
                self.work_of_ref.setdefault(number, _t(row, "work"))

    # ------------------------------------------------------------ reading

    def _entities(self) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for row in _select(self.dataset, "entities"):
            iri, kind = _t(row, "entity"), _t(row, "kind")
            prefix = f"{ID_BASE}{kind}/"
            slug = iri[len(prefix):] if iri.startswith(prefix) else ""
            if not _SLUG.match(slug):
                raise InputError(f"{iri}: a {KINDS[kind].lower()} needs an IRI {prefix}SLUG (SLUG of "
                                 "letters, digits, '.', '_', '~', '-') to get a page of its own")
            if iri not in out:
                out[iri] = Entity(iri, kind, slug, _t(row, "label"), _numbers(_t(row, "refs")))
        return out

    def _labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for row in _select(self.dataset, "labels"):
            out.setdefault(_t(row, "thing"), " ".join(_t(row, "label").split()))
        return out

    def _ontology_rows(self) -> list[dict[str, Term | None]]:
        """ontology.rq over ontology/gia.ttl alone: the instance data would add its individuals."""
        from kg.store import memory_store

        return _select(Dataset(memory_store([ONTOLOGY_FILE]), [ONTOLOGY_FILE]), "ontology")

    # ------------------------------------------------------------ rendering helpers

    def term(self, page: str, term: Term | None) -> Html:
        """An RDF term as seen from ``page``: a link where the site or the web has a page for it."""
        if term is None:
            return esc("")
        if isinstance(term, ox.NamedNode):
            iri = term.value
            entity = self.entities.get(iri)
            if entity is not None:
                return link(page, entity.path, entity.display)
            label = self.labels.get(iri)
            if iri in self.ontology_terms:
                name = _compact(iri)
                return link(page, f"ontology.html#{anchor(name)}", label or name, title=name)
            if iri in self.release_iris:
                return link(page, "index.html#release", label or _compact(iri), title=iri)
            name = _compact(iri)
            if iri.startswith(ID_BASE) or label or not name.startswith("<"):
                return tag("span", label or name, title=iri)  # a known vocabulary: no page to go to
            if iri.startswith(_EXTERNAL):
                return tag("a", iri, href=iri, class_="external")
            return esc(name)
        if isinstance(term, ox.BlankNode):
            return esc(f"_:{term.value}")
        return esc(term_text(term))

    def refs(self, page: str, text: str) -> Html:
        """``42,43`` with each number linked to the work it cites."""
        parts: list[Html] = []
        for number in _numbers(text):
            work = self.entities.get(self.work_of_ref.get(number, ""))
            parts.append(link(page, work.path, str(number), title=work.label) if work
                         else esc(str(number)))
        return join(parts, ",") if parts else esc(text)

    def iri_link(self, page: str, iri: str) -> Html:
        return self.term(page, ox.NamedNode(iri)) if iri else esc("")

    def page(self, path: str, title: str, body: Html, *, script: str | None = None) -> None:
        """Wrap ``body`` in the page template and keep it as ``path``."""
        nav = lines(link(path, target, text, aria_current="page" if target == path else None)
                    for target, text in NAV)
        inline = Html("")
        if script is not None:
            code = template_text(script)
            if "</" in code:
                raise ValueError(f"kg/templates/{script} must not contain '</'")
            inline = Html(f"<script>\n{code}</script>")
        release = self.releases[0] if self.releases else {}
        html = fill("page.html", version=__version__, title=title, root="../" * path.count("/"),
                    nav=nav, body=body, script=inline, sok_title=_t(release, "title") or "SoK",
                    sok_version=_t(release, "version") or "unknown")
        self.add(path, html)

    def add(self, path: str, text: str) -> None:
        if path in self.files:
            raise ValueError(f"two files at {path}")
        self.files[path] = text.encode("utf-8")

    # ------------------------------------------------------------ pages

    def render(self) -> dict[str, bytes]:
        self.add("style.css", template_text("style.css"))
        self.add(MARKER, MARKER_TEXT)
        self.coverage()
        self.order()
        self.attacks()
        self.works_page()
        self.entity_pages()
        findings = self.audit()
        count = self.saved_queries()
        self.ontology_page()
        self.index(findings, count)
        return dict(sorted(self.files.items()))

    def index(self, findings: int, queries: int) -> None:
        path = "index.html"
        if self.releases:
            items = []
            for row in self.releases:
                source = _t(row, "source")
                items.append(tag("dl", tag("dt", "Title"), tag("dd", tag("cite", _t(row, "title"))),
                                 tag("dt", "Version"), tag("dd", tag("strong", _t(row, "version"))),
                                 tag("dt", "Source"),
                                 tag("dd", tag("a", source, href=source) if source.startswith(_EXTERNAL)
                                     else source),
                                 tag("dt", "IRI"), tag("dd", tag("code", _t(row, "release"))),
                                 tag("dt", "Resources derived from it"),
                                 tag("dd", f"{_t(row, 'derived')} (prov:wasDerivedFrom)"),
                                 class_="term"))
            release = lines(items)
        else:
            release = tag("p", "The data names no SoK release (no gia:SoKRelease resource).")
        by_kind: dict[str, list[Entity]] = defaultdict(list)
        for entity in self.entities.values():
            by_kind[entity.kind].append(entity)
        sections = []
        for kind, title in KINDS.items():
            members = sorted(by_kind[kind], key=lambda e: (e.refs or (10**9,), e.label, e.iri))
            sections.append(tag("h3", f"{title}s ({len(members)})"))
            sections.append(tag("ul", lines(tag("li", link(path, e.path, e.display)) for e in members),
                                class_="columns"))
        body = fill("index.html", release=release, defense_count=len(by_kind["defense"]),
                    threat_model_count=len(by_kind["threat-model"]),
                    attack_count=len(by_kind["attack"]), work_count=len(by_kind["work"]),
                    query_count=queries, finding_count=findings, entity_lists=lines(sections))
        self.page(path, "gia-kg", body)

    def coverage(self) -> None:
        """The heatmap: grouped by category (a new group where the SoK restates it) and technique."""
        path = "coverage.html"
        rows = _select(self.dataset, "defenses")
        groups: list[list[list[dict]]] = []  # category groups of technique groups of rows
        previous: dict | None = None
        for row in rows:
            new_category = (previous is None or _t(row, "categoryCode") != _t(previous, "categoryCode")
                            or _t(row, "restated") == "true")
            if new_category:
                groups.append([[row]])
            elif _t(row, "technique") != _t(previous, "technique"):
                groups[-1].append([row])
            else:
                groups[-1][-1].append(row)
            previous = row
        names = {_t(m, "letter"): _t(m, "name") for m in self.models}
        head = [tag("th", "Cat.", scope="col"), tag("th", "Technique", scope="col"),
                tag("th", "Defense", scope="col"), tag("th", "Year", scope="col"),
                tag("th", "Where", scope="col")]
        for model in self.models:
            letter = _t(model, "letter")
            head.append(tag("th", link(path, self.entities[_t(model, "threatModel")].path, letter),
                            tag("small", names[letter]), class_="tm", scope="col"))
        bodies = []
        for category in groups:
            size = sum(len(t) for t in category)
            out = []
            for t_index, technique in enumerate(category):
                for r_index, row in enumerate(technique):
                    cells: list[Html] = []
                    if t_index == 0 and r_index == 0:
                        cells.append(tag("th", tag("abbr", _t(row, "categoryCode"),
                                                   title=_t(row, "categoryLabel")),
                                         rowspan=size, scope="rowgroup"))
                    if r_index == 0:
                        cells.append(tag("th", _t(row, "techniqueLabel"), rowspan=len(technique),
                                         scope="rowgroup"))
                    cells += self._defense_cells(path, row, names)
                    refs = ",".join(map(str, _numbers(_t(row, "refs"))))
                    out.append(tag("tr", *cells, data_ref=refs))
            bodies.append(tag("tbody", Html("\n"), lines(out), Html("\n")))
        foot = [tag("td", "Per threat model", colspan=5)]
        for letter in self.letters:
            counts = [sum(1 for (d, x), r in self.ratings.items() if x == letter
                          and _t(r, "levelLabel") == _t(level, "label")) for level in self.levels]
            foot.append(tag("td", join((tag("span", f"{n} {_t(level, 'label')}")
                                        for n, level in zip(counts, self.levels, strict=True)),
                                       Html("<br>"))))
        heatmap = tag("table", Html("\n"), tag("thead", tag("tr", *head)), Html("\n"),
                      lines(bodies), Html("\n"), tag("tfoot", tag("tr", *foot)), class_="heatmap")
        body = lines([
            tag("h1", "Coverage heatmap: how each defense holds against each threat model"),
            tag("p", "The SoK's defense table, one row per defense and one column per threat model, "
                "grouped by category (F formal, H heuristic) and technique as the SoK groups them. "
                "Each cell gives the level as text as well as colour. Defenses link to their page, "
                "threat models to theirs; hover a cell for its full reading.", class_="lead"),
            self._legend(),
            tag("div", heatmap, class_="scroll"),
            tag("p", "The same table from a terminal: ", tag("code", "gia-kg query coverage-matrix"),
                "; the threat models are ordered on the ", link(path, "order.html", "order page"), "."),
        ])
        self.page(path, "Coverage heatmap", body)

    def _legend(self) -> Html:
        items = [tag("li", tag("span", _t(level, "label"), class_=f"lv lv-{_t(level, 'symbol')}"),
                     tag("span", _t(level, "definition")))
                 for level in self.levels]
        return tag("ul", *items, class_="legend", aria_label="Legend")

    def _defense_cells(self, page: str, row: dict, names: dict[str, str]) -> list[Html]:
        defense = self.entities[_t(row, "defense")]
        work = tag("div", link(page, defense.path, defense.display), class_="clip", title=defense.display)
        cells = [tag("td", work, class_="work"), tag("td", _t(row, "year")), tag("td", _t(row, "where"))]
        for letter in self.letters:
            rating = self.ratings.get((defense.iri, letter))
            if rating is None:
                cells.append(tag("td", "not rated", class_="lv", data_threat_model=letter,
                                 data_level="none"))
                continue
            level = _t(rating, "levelLabel")
            cells.append(tag("td", level, class_=f"lv lv-{_t(rating, 'symbol')}",
                             data_threat_model=letter, data_level=level,
                             title=f"{defense.display} against {letter} ({names[letter]}): {level}"))
        return cells

    def _capabilities(self) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
        """The capability columns in the SoK's order, and each letter's capability labels."""
        from kg import sok_render

        caps = sok_render.run(self.dataset, sok_render.load_query("threat-model-capabilities"))
        held: dict[str, list[str]] = {letter: [] for letter in self.letters}
        for cap in caps:
            for letter in _items(cap["holders"]):
                held.setdefault(letter, []).append(cap["label"])
        return caps, held

    def order(self) -> None:
        from kg import order
        from kg.site_hasse import Node, svg

        path = "order.html"
        caps, held = self._capabilities()
        edges = order.edges(self.kg_dir)
        same = order.equivalent(self.kg_dir)
        names = {_t(m, "letter"): _t(m, "name") for m in self.models}
        below: dict[str, set[str]] = defaultdict(set)
        for stronger, weaker in edges:
            below[stronger].update(held.get(weaker, ()))
        nodes = []
        for model in self.models:
            letter, stars = _t(model, "letter"), _t(model, "stars")
            count = int(stars) if stars.isdigit() else 0
            mine = tuple(held.get(letter, ()))
            nodes.append(Node(letter, names[letter], order.STARS.get(count, "★" * count),
                              order.APPLICABILITY.get(count, ""), mine,
                              rel(path, self.entities[_t(model, "threatModel")].path),
                              frozenset(mine) - below[letter]))

        def describe(stronger: str, weaker: str) -> str:
            return f"{stronger} > {weaker}: {names[stronger]} is directly stronger than {names[weaker]}"

        diagram = svg(nodes, edges, same, describe=describe)
        matrix_head = ["ID", "Threat model", *(c["label"] for c in caps), "Applicability"]
        matrix_rows = []
        for node, model in zip(nodes, self.models, strict=True):
            marks = [tag("span", "✔", title="has it") if c["label"] in node.capabilities
                     else tag("span", "✗", title="does not have it", class_="muted") for c in caps]
            matrix_rows.append([link(path, self.entities[_t(model, "threatModel")].path, node.letter),
                                node.name, *marks, tag("span", node.stars, title=node.stars_text)])
        table = self.dataset.select((order.ORDER_QUERIES / "incomparable.rq").read_text(encoding="utf-8"))
        incomparable = [tag("li", f"{a} ∥ {b}: {names.get(a, a)} and {names.get(b, b)}")
                        for a, b in table.text_rows()]
        caption = tag("figcaption", "Bold: the capabilities that no model below has. Stars: ", join(
            (f"{order.STARS[n]} {text}" for n, text in order.APPLICABILITY.items()), "; "), ".")
        side = [
            tag("h2", f"Covering edges ({len(edges)})"),
            tag("ul", *(tag("li", describe(a, b)) for a, b in edges)),
            tag("h2", "Equivalent threat models"),
            tag("ul", *(tag("li", f"{a} ≡ {b}: the same capabilities") for a, b in same))
            if same else tag("p", "None: no two threat models have the same capabilities."),
            tag("h2", f"Incomparable pairs ({len(incomparable)})"),
            tag("ul", *incomparable) if incomparable else tag("p", "None."),
            tag("p", "The same order from a terminal: ", tag("code", "gia-kg order"), "."),
        ]
        body = lines([
            tag("h1", "The threat-model order"),
            tag("p", "X is stronger than Y when an X adversary holds every capability of a Y adversary "
                "and more; HermiT derives the order from the SoK's capability sets. Stronger models are "
                "higher, with a line to each model directly below (the Hasse diagram). Click a box for "
                "its page.", class_="lead"),
            tag("div", tag("figure", diagram, caption, class_="hasse"), tag("div", lines(side), class_="side"),
                class_="order"),
            tag("h2", "Capabilities (the SoK's threat-model table)"),
            tag("div", _table(matrix_head, matrix_rows), class_="scroll"),
        ])
        self.page(path, "Threat-model order", body)

    def attacks(self) -> None:
        path = "attacks.html"
        head = ["Ref", "Attack", "Year", "Category", "Technique", "TM", "Learning algorithm",
                "Resolution", "Batch size", "Shared model", "Learning task", "Label recovery", "Code"]
        rows = []
        for row in _select(self.dataset, "attacks"):
            attack = self.entities[_t(row, "attack")]
            tm = self.entities.get(_t(row, "threatModel"))
            repos = [tag("a", r.split("://", 1)[-1], href=r, class_="external")
                     for r in _items(_t(row, "repositories")) if r.startswith(_EXTERNAL)]
            code = join([_t(row, "code"), *([Html(": ")] if repos else []), join(repos, ", ")])
            refs = _t(row, "refs")
            cells = [
                tag("td", self.refs(path, refs), data_sort=str(min(_numbers(refs), default=0)),
                    class_="num"),
                tag("td", link(path, attack.path, attack.label)),
                tag("td", _t(row, "year"), class_="num"),
                tag("td", _t(row, "categoryLabel")),
                tag("td", _t(row, "techniqueLabel")),
                tag("td", link(path, tm.path, _t(row, "letter"), title=tm.label) if tm
                    else _t(row, "letter")),
                tag("td", ", ".join(_items(_t(row, "algorithms")))),
                tag("td", _t(row, "resolution"), data_sort=_pixels(_t(row, "resolution"))),
                tag("td", _t(row, "batch"), data_sort=_product(_t(row, "batch")), class_="num"),
                tag("td", ", ".join(_items(_t(row, "models")))),
                tag("td", ", ".join(_items(_t(row, "tasks")))),
                tag("td", _t(row, "labelRecovery")),
                tag("td", code),
            ]
            rows.append(tag("tr", *cells, data_ref=",".join(map(str, _numbers(refs)))))
        thead = tag("thead", tag("tr", *(tag("th", h, scope="col") for h in head)))
        attack_table = tag("table", Html("\n"), thead, Html("\n"), tag("tbody", lines(rows)),
                           Html("\n"), class_="attacks", data_sortable=True)
        body = lines([
            tag("h1", f"Gradient inversion attacks ({len(rows)})"),
            tag("p", "The SoK's attack table, one row per attack in the SoK's order. Where JavaScript "
                "runs, click a column heading to sort and type in the box to filter; without it this "
                "is a plain table. Reference numbers link to the cited work, attacks and threat "
                "models to their pages.", class_="lead"),
            tag("div", attack_table, class_="scroll"),
        ])
        self.page(path, "Attacks", body, script="table.js")

    def works_page(self) -> None:
        path = "works.html"
        presented: dict[str, list[str]] = defaultdict(list)
        for row in _select(self.dataset, "incoming"):
            if _t(row, "property") == GIA_WORK:
                presented[_t(row, "target")].append(_t(row, "source"))
        rows = []
        for row in self.works:
            work = self.entities.get(_t(row, "work"))
            if work is None:
                continue
            rows.append([self.refs(path, _t(row, "refs")), link(path, work.path, work.label),
                         _t(row, "author"), _t(row, "year"),
                         join((self.iri_link(path, s) for s in sorted(presented[work.iri])), Html("<br>"))])
        body = lines([
            tag("h1", f"Works cited by the SoK ({len(rows)})"),
            tag("p", "One resource per paper, however many reference numbers point at it; the last "
                "column names the attack or defense rows that present the work.", class_="lead"),
            tag("div", _table(["Ref", "Title", "First author", "Year", "Row in the SoK's tables"], rows),
                class_="scroll"),
        ])
        self.page(path, "Works", body)

    # ------------------------------------------------------------ one page per resource

    def entity_pages(self) -> None:
        from kg.queries import bind_text

        text = (SITE_QUERIES / "entity.rq").read_text(encoding="utf-8")
        incoming: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in _select(self.dataset, "incoming"):
            incoming[_t(row, "target")].append((_t(row, "property"), _t(row, "source")))
        references: dict[str, dict[tuple[int, str], list[tuple[str, str]]]] = defaultdict(dict)
        for row in _select(self.dataset, "references"):
            entry = references[_t(row, "entity")].setdefault((int(_t(row, "number")), _t(row, "text")), [])
            if row.get("link") is not None:
                entry.append((_t(row, "kind"), _t(row, "link")))
        caps, held = self._capabilities()
        for entity in sorted(self.entities.values(), key=lambda e: e.path):
            result = self.dataset.run(bind_text(text, {"_entity_iri": ox.NamedNode(entity.iri)}))
            if not isinstance(result, list):
                raise InputError(f"{SITE_QUERIES / 'entity.rq'}: expected a CONSTRUCT query")
            turtle = _turtle(result, entity.iri)
            self.add(entity.ttl_path, turtle)
            own = [t for t in result if t.subject == ox.NamedNode(entity.iri)]
            sections = [self._references(entity, references.get(entity.iri, {}))]
            if entity.kind == "defense":
                sections.append(self._ratings(entity))
            if entity.kind == "threat-model":
                sections.append(self._threat_model(entity, caps, held))
            sections.append(tag("h2", "Facts"))
            sections.append(self._facts(entity.path, own))
            if incoming.get(entity.iri):
                sections.append(tag("h2", "Pointing here"))
                sections.append(self._incoming(entity.path, incoming[entity.iri]))
            main = tag("div", lines(sections))
            aside = tag("aside", tag("h2", "Turtle"),
                        tag("p", link(entity.path, entity.ttl_path, f"{entity.slug}.ttl"),
                            ": the entity's own triples", " (and its assessments)"
                            if entity.kind == "defense" else "", "."),
                        tag("pre", turtle, class_="turtle"))
            body = lines([
                tag("p", link(entity.path, "index.html", "gia-kg"), " › ", KINDS[entity.kind],
                    class_="muted"),
                tag("h1", entity.display),
                tag("p", "IRI: ", tag("code", entity.iri), class_="iri"),
                tag("div", main, aside, class_="entity"),
            ])
            self.page(entity.path, entity.display, body)

    def _references(self, entity: Entity, entries: dict[tuple[int, str], list[tuple[str, str]]]) -> Html:
        if not entries:
            if entity.kind == "threat-model":
                return tag("p", "Defined by the SoK itself (its threat-model table).", class_="muted")
            return Html("")
        items = []
        for (number, text), links in sorted(entries.items()):
            anchors = [tag("a", kind, href=url, class_="external") for kind, url in sorted(links)
                       if url.startswith(_EXTERNAL)]
            items.append(tag("li", tag("strong", f"[{number}]"), " ", text,
                             *([Html(" — "), join(anchors, " · ")] if anchors else [])))
        return join([tag("h2", "SoK reference"), tag("ul", *items)])

    def _ratings(self, entity: Entity) -> Html:
        page = entity.path
        head = [link(page, self.entities[_t(m, "threatModel")].path, _t(m, "letter"),
                     title=_t(m, "name")) for m in self.models]
        cells = []
        for letter in self.letters:
            rating = self.ratings.get((entity.iri, letter))
            level = _t(rating, "levelLabel") if rating else "not rated"
            symbol = _t(rating, "symbol") if rating else "none"
            cells.append(tag("td", level, class_=f"lv lv-{symbol}"))
        table = tag("table", tag("thead", tag("tr", *(tag("th", h, scope="col") for h in head))),
                    tag("tbody", tag("tr", *cells)), class_="ratings")
        return join([tag("h2", "Rated against the threat models"), tag("div", table, class_="scroll")])

    def _threat_model(self, entity: Entity, caps: list[dict[str, str]], held: dict[str, list[str]]) -> Html:
        page = entity.path
        model = next(m for m in self.models if _t(m, "threatModel") == entity.iri)
        letter = _t(model, "letter")
        mine = held.get(letter, [])
        items = [tag("li", "✔ " if c["label"] in mine else "✗ ", c["label"],
                     class_=None if c["label"] in mine else "muted") for c in caps]
        by_level = []
        for level in self.levels:
            names = sorted((self.entities[d] for (d, x), r in self.ratings.items()
                            if x == letter and _t(r, "levelLabel") == _t(level, "label")),
                           key=lambda e: (e.refs, e.label))
            by_level.append(tag("li", tag("span", _t(level, "label"), class_=f"lv lv-{_t(level, 'symbol')}"),
                                f" ({len(names)})",
                                tag("ul", *(tag("li", link(page, e.path, e.display)) for e in names))
                                if names else Html("")))
        return join([tag("h2", "Capabilities"), tag("ul", *items),
                     tag("h2", "How the defenses are rated against it"), tag("ul", *by_level)])

    def _facts(self, page: str, triples: list[ox.Triple]) -> Html:
        by_property: dict[str, list[Term]] = defaultdict(list)
        for triple in triples:
            by_property[triple.predicate.value].append(triple.object)

        def order(iri: str) -> tuple[int, str]:
            return ({RDF_TYPE: 0, RDFS_LABEL: 1}.get(iri, 2), _compact(iri))

        rows = []
        for prop in sorted(by_property, key=order):
            values = sorted(by_property[prop], key=lambda t: (term_text(t) if not isinstance(
                t, ox.NamedNode) else self.labels.get(t.value, t.value), str(t)))
            shown = [self.term(page, v) for v in values]
            cell = shown[0] if len(shown) == 1 else tag("ul", *(tag("li", s) for s in shown))
            rows.append(tag("tr", self._property(page, prop), tag("td", cell)))
        return tag("table", tag("tbody", lines(rows)), class_="facts")

    def _property(self, page: str, prop: str) -> Html:
        """A facts row's heading: the property's label (linked to the ontology) and its name."""
        name = _compact(prop)
        if prop in self.ontology_terms:
            return tag("th", self.term(page, ox.NamedNode(prop)), " ", tag("code", name, class_="muted"),
                       scope="row")
        return tag("th", tag("code", name, title=prop), scope="row")

    def _incoming(self, page: str, pairs: list[tuple[str, str]]) -> Html:
        by_property: dict[str, list[str]] = defaultdict(list)
        for prop, source in pairs:
            by_property[prop].append(source)
        rows = []
        for prop in sorted(by_property, key=_compact):
            sources = sorted(by_property[prop], key=lambda s: self.entities[s].path)
            shown = [self.iri_link(page, s) for s in sources]
            rows.append(tag("tr", self._property(page, prop),
                            tag("td", tag("ul", *(tag("li", s) for s in shown)))))
        return join([tag("p", "Resources whose property (left) points at this one.", class_="muted"),
                     tag("table", tag("tbody", lines(rows)), class_="facts")])

    # ------------------------------------------------------------ queries, audit, ontology

    def result_table(self, page: str, table: ResultTable) -> Html:
        rows = []
        for row in table.sorted_rows():
            rows.append([self.refs(page, term_text(t)) if is_ref_column(c) and t is not None
                         else self.term(page, t) for c, t in zip(table.columns, row, strict=True)])
        return tag("div", _table(table.columns, rows), class_="scroll")

    def saved_queries(self) -> int:
        from kg.queries import load_catalog, run_saved

        catalog = load_catalog()
        items = []
        for name, query in catalog.items():
            path = f"queries/{name}.html"
            params = _example_params(query.example, name)
            try:
                table = run_saved(name, params, dataset=self.dataset)
            except GiaKgError as exc:
                raise InputError(f"{query.path}: cannot run it with its #+ example: {exc}") from None
            shown = " ".join(f"-p {k}={v}" for k, v in params.items())
            command = f"gia-kg query {name} {shown}".rstrip()
            given = {p.name: params.get(p.name, p.default or "") for p in query.params}
            param_rows = [[p.name, p.type, given[p.name], "example" if p.name in params else "default"]
                          for p in query.params]
            n = len(table.rows)
            body = lines([
                tag("p", link(path, "queries.html", "Saved queries"), " › ", name, class_="muted"),
                tag("h1", name),
                tag("p", query.summary, class_="lead"),
                tag("p", query.description) if query.description else Html(""),
                tag("p", "Run as ", tag("code", command), f": {n} row{'s' if n != 1 else ''}."),
                _table(["parameter", "type", "value", "from"], param_rows) if param_rows else Html(""),
                self.result_table(path, table),
                tag("h2", "The query"),
                tag("pre", query.text, class_="sparql"),
            ])
            self.page(path, f"Query {name}", body)
            items.append([link("queries.html", path, name), query.summary, tag("code", shown or "—"),
                          str(n)])
        body = lines([
            tag("h1", f"Saved queries ({len(catalog)})"),
            tag("p", "Each saved query of ", tag("code", "queries/*.rq"), " answered on this graph, "
                "with the parameters of its example (or its defaults). ", tag("code", "gia-kg queries"),
                " lists them, ", tag("code", "gia-kg query NAME --help"), " explains one.",
                class_="lead"),
            _table(["query", "question", "parameters", "rows"], items),
        ])
        self.page("queries.html", "Saved queries", body)
        return len(catalog)

    def audit(self) -> int:
        from kg import audit

        path = "audit.html"
        sections = []
        total = 0
        severities = audit.profile() if hasattr(audit, "profile") else {}  # queries/audit/profile.tsv
        for name, check in audit.checks().items():
            table = audit.run_check(check, self.dataset)
            total += len(table.rows)
            problem, solution = _audit_notes(check.text)
            sections += [
                tag("h2", f"{name} ({len(table.rows)}"
                    + (f", {severities[name]})" if name in severities else ")"), id=anchor(name)),
                tag("p", check.summary),
                tag("p", tag("strong", "Problem: "), problem) if problem else Html(""),
                tag("p", tag("strong", "Solution: "), solution) if solution else Html(""),
                self.result_table(path, table) if table.rows else tag("p", "No finding.", class_="muted"),
            ]
        body = lines([
            tag("h1", f"Audit: where the SoK is inconsistent ({total} findings)"),
            tag("p", "Quality checks of the SoK itself, each a SPARQL file in ", tag("code", "queries/audit/"),
                "; every row is one finding. From a terminal: ", tag("code", "gia-kg audit"), ".",
                class_="lead"),
            *sections,
        ])
        self.page(path, "Audit", body)
        return total

    def ontology_page(self) -> None:
        path = "ontology.html"
        kinds: dict[str, list[dict]] = defaultdict(list)
        for row in self.ontology:
            kinds[_t(row, "kind")].append(row)
        parts = [tag("h1", "The ontology"),
                 tag("p", "Classes, properties and closed vocabularies of ", tag("code", "ontology/gia.ttl"),
                     ", with their labels and definitions.", class_="lead")]
        for row in kinds.pop("ontology", []):
            parts.append(tag("div", tag("p", tag("strong", _t(row, "label"))),
                             tag("p", _t(row, "definition")), tag("p", "IRI: ", tag("code", _t(row, "term"))),
                             class_="box"))
        titles = {"class": "Classes", "object property": "Object properties",
                  "datatype property": "Datatype properties", "annotation property": "Annotation properties",
                  "individual": "Named individuals (closed vocabularies)"}
        parts.append(tag("ul", *(tag("li", link(path, f"#{anchor(k)}", f"{t} ({len(kinds.get(k, []))})"))
                                 for k, t in titles.items())))
        for kind, title in titles.items():
            parts.append(tag("h2", title, id=anchor(kind)))
            for row in kinds.get(kind, []):
                iri = _t(row, "term")
                name = _compact(iri)
                facts = []
                for key, what in (("types", "type"), ("parents", "parent"), ("domains", "domain"),
                                  ("ranges", "range")):
                    values = [v for v in _items(_t(row, key)) if not (key == "types" and kind != "individual")]
                    if values:
                        facts += [tag("dt", what), tag("dd", join((self.iri_link(path, v) for v in values), ", "))]
                parts.append(tag("section",
                                 tag("h3", _t(row, "label") or name, tag("code", name)),
                                 tag("p", _t(row, "definition")) if _t(row, "definition") else Html(""),
                                 tag("dl", tag("dt", "IRI"), tag("dd", tag("code", iri)), *facts, class_="term"),
                                 id=anchor(name), class_="term"))
        self.page(path, "Ontology", lines(parts))


def _table(headers: Iterable[object], rows: Iterable[Iterable[object]]) -> Html:
    from kg.site_html import table

    return table(headers, rows)


def _pixels(text: str) -> str:
    """``64×64`` -> ``4096`` (sort key), anything else as it is."""
    parts = text.split("×")
    return str(int(parts[0]) * int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else text


def _product(text: str) -> str:
    """``10×5`` (E×B) -> ``50`` images per round (sort key); a plain number as it is."""
    parts = text.split("×")
    if all(p.isdigit() for p in parts):
        total = 1
        for p in parts:
            total *= int(p)
        return str(total)
    return text


_PROBLEM = re.compile(r"^#\s*\*\*(Problem|Solution):\*\*\s*(.*)$")


def _audit_notes(text: str) -> tuple[str, str]:
    """The ``# **Problem:**`` and ``# **Solution:**`` paragraphs of an audit check's header."""
    notes: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _PROBLEM.match(line)
        if match:
            current = match.group(1)
            notes[current] = [match.group(2)]
        elif current and line.startswith("#   "):
            notes[current].append(line[1:].strip())
        elif not line.startswith("#+"):
            current = None
    return " ".join(notes.get("Problem", [])), " ".join(notes.get("Solution", []))


def _example_params(example: str, name: str) -> dict[str, str]:
    """The ``-p key=value`` parameters of a saved query's ``#+ example:`` line."""
    from kg.queries import parse_assignments

    try:
        words = shlex.split(example)
    except ValueError:
        return {}
    values = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-p", "--param")]
    values += [w.split("=", 1)[1] for w in words if w.startswith("--param=")]
    if words[:3] != ["gia-kg", "query", name]:
        return {}
    return parse_assignments(values)


# ---------------------------------------------------------------- writing


def render(kg_dir: str | Path | None = None) -> dict[str, bytes]:
    """Every file of the site: path (``/``-separated, relative) -> bytes. Same graph, same bytes."""
    return _Site(kg_dir).render()


def _check_target(target: Path) -> None:
    """Refuse a target that is a file, or a folder holding anything but an earlier site."""
    if not target.parent.is_dir():
        raise UsageError(f"-o {target}: folder {target.parent} does not exist")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"-o {target}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"-o {target}: exists and is not a folder; give a new folder or an earlier "
                         "site's folder")
    try:
        names = sorted(os.listdir(target))
    except OSError as exc:
        raise UsageError(f"-o {target}: cannot read: {exc.strerror or exc}") from None
    if names and not os.path.isfile(target / MARKER):
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise UsageError(f"-o {target}: holds files that gia-kg site did not write ({shown}); give a "
                         "new or empty folder, or one an earlier 'gia-kg site' wrote (it replaces "
                         "the whole folder)")


def build(output: str | Path, kg_dir: str | Path | None = None) -> SiteResult:
    """Render the site and put it at ``output`` atomically (a new folder, or an earlier site's).

    The target is checked before rendering (fail fast) and again under the swap's lock.
    """
    from kg.fileio import replace_dir_atomic

    target = Path(output).resolve()
    _check_target(target)
    files = render(kg_dir)

    def fill_folder(tmp: Path) -> None:
        tmp.chmod(0o755)
        for relative, data in files.items():
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    replace_dir_atomic(target, fill_folder, check=_check_target)
    pages = sum(1 for name in files if name.endswith(".html"))
    return SiteResult(target, pages, len(files))
