"""`gia-kg site -o DIR` (issue 14 §1): the static site, checked as a browser sees it.

The site is rendered once per module; headless Chromium (Debian ``chromium``) loads a handful of
pages and prints the DOM after scripts ran, which is parsed with html.parser. Expected values are
written by hand from the SoK README (tests/fixtures/sok/sok_gias_fl-README-2025-09-02.md): its
defense table for the heatmap, its threat-model capability table for the Hasse edges.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kg.cli import main
from tests.conftest import DATA, ROOT, real_data

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="headless Chromium (Debian package chromium) is not installed")
pytestmark = real_data

#: The SoK's defense table, row by row: reference numbers, then the cell of A..H
#: (E effective = green, P partial = orange, I ineffective = red), transcribed from the README.
SOK_DEFENSES = [
    ("37", "EEEPPIII"),     # A (green) - C (green) D (orange) - E (orange) F (red) - H (red)
    ("38", "EEEPPPPP"),     # A (green) - C (green) D (orange) - H (orange)
    ("40", "EEEEEIII"),     # A (green) - E (green) F (red) - H (red)
    ("41", "EEEEEEEE"),     # A (green) - H (green)
    ("42,43", "EPPIIIII"),  # A (green) B (orange) - C (orange) D (red) - H (red)
    ("14", "EPPIIIII"),
    ("44", "EPPIIIII"),
    ("45", "EEPIIIII"),     # A (green) - B (green) C (orange) D (red) - H (red)
    ("46", "EEPPPPPP"),     # A (green) - B (green) C (orange) - H (orange)
    ("47", "EEPPPPPP"),
    ("48", "EEEEPPPP"),     # A (green) - D (green) E (orange) - H (orange)
    ("49", "EEPPPPPP"),
    ("50", "EEPPPPPP"),
    ("51", "EEEEPPPP"),
    ("52", "EEPPPPPP"),
    ("54", "EEPPPPPP"),
    ("55", "EEPPPPPP"),
    ("56", "EEPEPEPP"),     # A - B green, C orange, D green, <br> E orange, F green, G - H orange
    ("57", "EEPPPPPP"),
    ("58", "EEPPPPPP"),
    ("59", "EPPPPPPP"),     # A (green) B (orange) - H (orange)
]
LEVEL = {"E": "effective", "P": "partial", "I": "ineffective"}
LETTERS = "ABCDEFGH"
#: The SoK's groups: category (Cat. column; H written again on each new technique) and technique.
SOK_GROUPS = [
    ("F", [("DP-based", 2), ("Cryptography-Based", 2)]),
    ("H", [("Gradient Perturbation", 7)]),
    ("H", [("Learning Algorithm Modification", 7)]),
    ("H", [("Model Modification", 3)]),
]
#: Capability sets of the SoK's threat-model table (MU model updates, BK basic knowledge, TD
#: training details, SD surrogate data, CD client data distribution, AM active manipulation,
#: CS client selection).
SOK_CAPABILITIES = {
    "A": {"MU"}, "B": {"MU", "BK"}, "C": {"MU", "BK", "TD"}, "D": {"MU", "BK", "TD", "SD"},
    "E": {"MU", "BK", "TD", "SD", "CD"}, "F": {"MU", "BK", "TD", "AM"},
    "G": {"MU", "BK", "TD", "SD", "AM"}, "H": {"MU", "BK", "TD", "SD", "AM", "CS"},
}
#: The covering relation of those sets, by hand: X > Y when Y's set is a strict subset of X's with
#: no set in between. A<B<C<D<E is a chain; F adds AM to C; G = D + AM = F + SD; H = G + CS; E (CD)
#: and the manipulators (AM) are incomparable, so E covers only D.
SOK_HASSE = {"B>A", "C>B", "D>C", "E>D", "F>C", "G>D", "G>F", "H>G"}
SOK_NAMES = {"A": "Eavesdropper", "B": "Informed Eavesdropper", "C": "Parameter-Aware Eavesdropper",
             "D": "Data-Enhanced Eavesdropper", "E": "Statistical-Informed Eavesdropper",
             "F": "Active Manipulator", "G": "Data-Enhanced Manipulator",
             "H": "Active Client Manipulator"}
SOK_STARS = {"A": "★★★", "B": "★★★", "C": "★★★", "D": "★★☆", "E": "★★☆", "F": "★☆☆", "G": "★☆☆",
             "H": "★☆☆"}


# ---------------------------------------------------------------- a small DOM


class Element:
    """One element of a parsed page: tag, attributes, children (elements and text)."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Element]:
        """Descendants by tag and attributes (``True``: present; ``data_ref`` is ``data-ref``)."""
        out = []
        for element in self.iter():
            if tag is not None and element.tag != tag:
                continue
            names = {key.rstrip("_").replace("_", "-"): value for key, value in attrs.items()}
            if all(name in element.attrs if value is True else element.attrs.get(name) == value
                   for name, value in names.items()):
                out.append(element)
        return out


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
        "wbr"}


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(text: str) -> Element:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped graph's site, rendered once through the CLI."""
    out = tmp_path_factory.mktemp("site") / "site"
    assert main(["site", "-o", str(out)]) == 0
    return out


_DOMS: dict[str, Element] = {}


def dom(site: Path, page: str) -> Element:
    """The page as headless Chromium has it after scripts ran (one Chromium run per page)."""
    if page not in _DOMS:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
             (site / page).as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0 and "<body" in result.stdout, result.stderr[-2000:]
        _DOMS[page] = parse(result.stdout)
    return _DOMS[page]


def raw(site: Path, page: str) -> Element:
    """The page as written (what a browser without JavaScript shows)."""
    return parse((site / page).read_text(encoding="utf-8"))


def heatmap_rows(root: Element) -> list[Element]:
    (table,) = root.find_all("table", class_="heatmap")
    return table.find_all("tr", data_ref=True)


# ---------------------------------------------------------------- the coverage heatmap


@needs_chromium
def test_heatmap_has_one_row_per_defense_in_the_sok_order(site: Path) -> None:
    rows = heatmap_rows(dom(site, "coverage.html"))
    assert [r.attrs["data-ref"] for r in rows] == [ref for ref, _ in SOK_DEFENSES]


@needs_chromium
def test_heatmap_cells_are_the_sok_table(site: Path) -> None:
    root = dom(site, "coverage.html")
    cells = root.find_all("td", data_level=True)
    assert len(cells) == 168 == 21 * 8
    for row, (ref, levels) in zip(heatmap_rows(root), SOK_DEFENSES, strict=True):
        mine = row.find_all("td", data_level=True)
        assert [c.attrs["data-threat-model"] for c in mine] == list(LETTERS), ref
        assert [c.attrs["data-level"] for c in mine] == [LEVEL[x] for x in levels], ref
        # the level is written as text too, not colour alone
        assert [c.text().strip() for c in mine] == [LEVEL[x] for x in levels], ref


@needs_chromium
def test_heatmap_secure_aggregation_cells(site: Path) -> None:
    """[40] secure aggregation: effective against A-E, ineffective against F-H (SoK)."""
    (row,) = [r for r in heatmap_rows(dom(site, "coverage.html")) if r.attrs["data-ref"] == "40"]
    levels = {c.attrs["data-threat-model"]: c.attrs["data-level"] for c in row.find_all("td", data_level=True)}
    assert levels == {**dict.fromkeys("ABCDE", "effective"), **dict.fromkeys("FGH", "ineffective")}
    assert "Secure aggregation" in row.text()


def test_heatmap_is_grouped_by_category_and_technique(site: Path) -> None:
    (table,) = raw(site, "coverage.html").find_all("table", class_="heatmap")
    groups = []
    for body in table.find_all("tbody"):
        headers = body.find_all("th", scope="rowgroup")
        category, techniques = headers[0], headers[1:]
        groups.append((category.text().strip(),
                       [(t.text().strip(), int(t.attrs["rowspan"])) for t in techniques]))
        assert int(category.attrs["rowspan"]) == sum(n for _, n in groups[-1][1])
    assert groups == SOK_GROUPS


def test_heatmap_has_a_legend_with_the_three_levels(site: Path) -> None:
    (legend,) = raw(site, "coverage.html").find_all("ul", class_="legend")
    assert [s.text() for s in legend.find_all("span") if "lv" in s.attrs.get("class", "")] == \
        ["effective", "partial", "ineffective"]
    assert "green" in legend.text() and "orange" in legend.text() and "red" in legend.text()


# ---------------------------------------------------------------- the Hasse diagram


@needs_chromium
def test_hasse_edges_are_the_covering_relation_of_the_sok_capability_sets(site: Path) -> None:
    # the hand-written covering relation, checked against the hand-written capability sets
    for edge in SOK_HASSE:
        stronger, weaker = edge.split(">")
        assert SOK_CAPABILITIES[weaker] < SOK_CAPABILITIES[stronger]
    root = dom(site, "order.html")
    (svg,) = root.find_all("svg")
    lines = svg.find_all("line", data_edge=True)
    assert {line.attrs["data-edge"] for line in lines} == SOK_HASSE
    assert len(lines) == 8
    for line in lines:  # drawn from the stronger box's bottom up to the weaker box's top: stronger above
        assert float(line.attrs["y1"]) < float(line.attrs["y2"]), line.attrs
    assert not svg.find_all("line", data_equivalent=True)  # no two SoK threat models are equal


@needs_chromium
def test_hasse_nodes_show_names_stars_and_capabilities(site: Path) -> None:
    (svg,) = dom(site, "order.html").find_all("svg")
    nodes = {g.attrs["data-threat-model"]: g for g in svg.find_all("g", class_="node")}
    assert sorted(nodes) == list(LETTERS)
    for letter, node in nodes.items():
        text = node.text()
        assert SOK_NAMES[letter] in text and SOK_STARS[letter] in text, letter
        assert node.parent.tag == "a" and node.parent.attrs["href"] == f"id/threat-model/{letter}.html"
    assert all(c in nodes["H"].text() for c in ("Model Updates", "Basic Knowledge", "Training Details",
                                                "Surrogate Data", "Active Manipulation",
                                                "Client Selection"))
    assert "Client Data Distribution" not in nodes["H"].text()
    # bold "new here": what no model below has; G = D + F adds nothing of its own
    new = {letter: [t.text().rstrip(", ") for t in node.find_all("tspan", class_="new")]
           for letter, node in nodes.items()}
    assert new == {"A": ["Model Updates"], "B": ["Basic Knowledge"], "C": ["Training Details"],
                   "D": ["Surrogate Data"], "E": ["Client Data Distribution"],
                   "F": ["Active Manipulation"], "G": [], "H": ["Client Selection"]}


def test_hasse_layers_and_equivalents() -> None:
    from kg.errors import InputError
    from kg.site_hasse import Node, layers, svg

    edges = [tuple(e.split(">")) for e in sorted(SOK_HASSE)]
    assert layers(list(LETTERS), edges) == {"A": 0, "B": 1, "C": 2, "D": 3, "F": 3, "E": 4, "G": 4,
                                            "H": 5}
    with pytest.raises(InputError, match="cycle"):
        layers(["A", "B"], [("A", "B"), ("B", "A")])
    with pytest.raises(InputError, match="names Z"):
        layers(["A"], [("Z", "A")])
    nodes = [Node(x, f"model {x}", "★", "", ("c",)) for x in "ABX"]
    drawing = parse(svg(nodes, [("B", "A"), ("X", "A")], [("B", "X")]))
    (equal,) = drawing.find_all("line", data_equivalent=True)
    assert equal.attrs["data-equivalent"] == "B=X"
    assert float(equal.attrs["y1"]) == float(equal.attrs["y2"])  # side by side, one layer


# ---------------------------------------------------------------- attacks and entity pages


@needs_chromium
def test_attack_table_plain_and_with_its_script(site: Path) -> None:
    plain = raw(site, "attacks.html")
    rows = plain.find_all("tbody")[0].find_all("tr")
    assert [r.attrs["data-ref"] for r in rows] == [str(n) for n in range(1, 37)]  # SoK: [1]..[36]
    assert not plain.find_all("input")  # the filter box exists only where the script runs
    browser = dom(site, "attacks.html")
    assert browser.find_all("input", type="search")
    assert len(browser.find_all("table", class_="attacks")[0].find_all("button")) == 13
    fowl = next(r for r in rows if r.attrs["data-ref"] == "28")  # Fowl et al. (2022), threat model G
    assert "Fowl et al. (2022)" in fowl.text() and fowl.find_all("a", href="id/threat-model/G.html")


def test_one_page_and_turtle_file_per_resource(site: Path) -> None:
    import rdflib

    counts = {kind: len(list((site / "id" / kind).glob("*.html")))
              for kind in ("attack", "defense", "threat-model")}
    assert counts == {"attack": 36, "defense": 21, "threat-model": 8}  # the SoK's three tables
    works = rdflib.Graph().parse(DATA / "works.ttl")
    gia = rdflib.Namespace("https://w3id.org/gia-kg/ontology#")
    for work in works.subjects(rdflib.RDF.type, gia.Work):
        slug = str(work).rsplit("/", 1)[1]
        assert (site / "id" / "work" / f"{slug}.html").is_file(), work
    for page in (site / "id").rglob("*.html"):
        assert page.with_suffix(".ttl").is_file(), page


def test_entity_turtle_holds_the_entity_facts(site: Path) -> None:
    """The defense [40]'s .ttl: its triples as kg/data/defenses.ttl has them, plus its 8 assessments."""
    import rdflib

    iri = rdflib.URIRef("https://w3id.org/gia-kg/id/defense/sok-secure-aggregation")
    data = rdflib.Graph().parse(DATA / "defenses.ttl")
    page = rdflib.Graph().parse(site / "id" / "defense" / "sok-secure-aggregation.ttl")
    assert set(page.triples((iri, None, None))) == set(data.triples((iri, None, None)))
    gia = rdflib.Namespace("https://w3id.org/gia-kg/ontology#")
    cells = list(page.objects(iri, gia.hasAssessment))
    assert len(cells) == 8 and all((c, gia.level, None) in page for c in cells)
    html = raw(site, "id/defense/sok-secure-aggregation.html")
    (pre,) = html.find_all("pre", class_="turtle")
    assert pre.text() == (site / "id" / "defense" / "sok-secure-aggregation.ttl").read_text(encoding="utf-8")
    text = html.text()
    assert "[40]" in text and "Sok: Secure aggregation based on cryptographic schemes" in text
    assert html.find_all("a", href="https://petsymposium.org/popets/2023/popets-2023-0009.php"
                         "#:~:text=popets%2D2023%2D0009-,Download%20paper,-Abstract%3A%20Secure")


def test_threat_model_page_links_its_order_and_attacks(site: Path) -> None:
    page = raw(site, "id/threat-model/G.html")
    hrefs = {a.attrs.get("href") for a in page.find_all("a")}
    assert {"D.html", "F.html", "H.html"} <= hrefs  # directly stronger than D, F; H above it
    assert "../attack/fowl-2022-robbing-fed.html" in hrefs  # Fowl et al. [28] assumes G


# ---------------------------------------------------------------- index, queries, audit, ontology


def test_index_names_the_release_and_links_everything(site: Path) -> None:
    page = raw(site, "index.html")
    (release,) = page.find_all("section", id="release")
    assert "2025-09-02" in release.text()  # the shipped data is the README of 2025-09-02
    hrefs = {a.attrs["href"] for a in page.find_all("a")}
    assert {"coverage.html", "order.html", "attacks.html", "works.html", "queries.html", "audit.html",
            "ontology.html"} <= hrefs


def test_saved_query_pages(site: Path) -> None:
    from kg.queries import load_catalog

    for name in load_catalog():
        assert (site / "queries" / f"{name}.html").is_file(), name
    page = raw(site, "queries/coverage-matrix.html")
    (table,) = page.find_all("table")
    assert len(table.find_all("tbody")[0].find_all("tr")) == 21  # one row per SoK defense
    page = raw(site, "queries/defenses-cover-but-not.html")
    assert "-p covered=G -p uncovered=H" in page.text()  # the query's #+ example


def test_audit_and_ontology_pages(site: Path) -> None:
    from kg import audit

    text = raw(site, "audit.html").text()
    for name in audit.checks():
        assert name in text, name
    ontology = raw(site, "ontology.html")
    ids = {e.attrs["id"] for e in ontology.iter() if "id" in e.attrs}
    assert {"gia-Attack", "gia-Defense", "gia-ThreatModel", "gia-strongerThan", "gia-Effective",
            "cap-client-selection"} <= ids
    (attack,) = [e for e in ontology.iter() if e.attrs.get("id") == "gia-Attack"]
    assert "A row of the SoK's attack table" in attack.text()


# ---------------------------------------------------------------- links, offline, determinism


def _targets(page: Element) -> list[tuple[str, str, str]]:
    return [(e.tag, name, e.attrs[name]) for e in page.iter() for name in ("href", "src") if name in e.attrs]


def test_every_internal_link_resolves_and_nothing_loads_from_another_host(site: Path) -> None:
    ids: dict[Path, set[str]] = {}
    broken, foreign = [], []
    for path in sorted(site.rglob("*.html")):
        for tag, _name, value in _targets(raw(site, str(path.relative_to(site)))):
            parts = urlsplit(value)
            if parts.scheme or parts.netloc:
                if tag != "a" or parts.scheme not in ("http", "https"):
                    foreign.append((path.name, tag, value))
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_relative_to(site.resolve()) or not target.is_file():
                broken.append((str(path.relative_to(site)), value))
                continue
            if parts.fragment:
                if target not in ids:
                    ids[target] = {e.attrs["id"] for e in raw(site, str(target.relative_to(site.resolve()))).iter()
                                   if "id" in e.attrs}
                if parts.fragment not in ids[target]:
                    broken.append((str(path.relative_to(site)), value))
    assert not broken, broken[:10]
    assert not foreign, foreign[:10]
    css = (site / "style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css
    scripts = [(p, e) for p in site.rglob("*.html") for e in raw(site, str(p.relative_to(site))).find_all("script")]
    assert [p.name for p, _ in scripts] == ["attacks.html"] and "src" not in scripts[0][1].attrs


def _tree(folder: Path) -> dict[str, bytes]:
    return {posixpath.join(*p.relative_to(folder).parts): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_give_the_same_bytes(site: Path, tmp_path: Path) -> None:
    """A second run in another process (another hash seed) writes the very same files."""
    other = tmp_path / "again"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-m", "kg", "site", "-o", str(other)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    first, second = _tree(site), _tree(other)
    assert sorted(first) == sorted(second)
    assert [n for n in first if first[n] != second[n]] == []


# ---------------------------------------------------------------- the target folder


def test_refuses_a_file_and_a_foreign_folder(tmp_path: Path, capsys) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    assert main(["site", "-o", str(file)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert file.read_text() == "mine\n"
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    assert main(["site", "-o", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "holds files that gia-kg site did not write (thesis.tex)" in err and err.count("\n") == 1
    assert sorted(os.listdir(foreign)) == ["thesis.tex"]
    assert main(["site", "-o", str(tmp_path / "missing" / "site")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rewrites_an_earlier_site_whole(tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    assert main(["site", "-o", str(out)]) == 0
    (out / "stale.html").write_text("left over")
    assert main(["site", "-o", str(out)]) == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert re.search(r"wrote .*site: \d+ pages, \d+ files", capsys.readouterr().out)
    assert oct(out.stat().st_mode & 0o777) == "0o755"
