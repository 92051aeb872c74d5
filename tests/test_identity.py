"""Stable identifiers across SoK releases (kg.identity, docs/identifiers.md).

Expected IRIs are written by hand from the tables: the shipped 2025-07-15 IRIs (as published by
the first release of gia-kg) must survive in every later release that still has the entity.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, URIRef

from kg.cli import main
from kg.identity import HEADER, Registry, normalize_title, normalize_url
from kg.loading import load_graph
from kg.namespaces import GIA, PREFIXES

ROOT = Path(__file__).resolve().parent.parent
SOK = ROOT / "tests" / "fixtures" / "sok"
OLD = SOK / "sok_gias_fl-README-2025-07-15.md"
NEW = SOK / "sok_gias_fl-README-2025-09-02.md"
KINDS = ("ThreatModel", "Attack", "Defense", "Work", "Reference", "Assessment")

# The six defenses whose name 2025-09-02 dropped, with the IRIs 2025-07-15 gave them (by hand).
RENAMED_DEFENSES = {"pefl": 54, "giande": 55, "dcs-2": 56, "spn": 57, "precode": 58, "fedkl": 59}


def iri(prefix: str, local: str) -> URIRef:
    return URIRef(PREFIXES[prefix] + local)


def imported(readme: Path, out: Path, registry: str | None = None) -> dict[str, set[URIRef]]:
    """Import ``readme`` into ``out`` (``registry``: text of out/registry.tsv first); IRIs by kind."""
    if registry is not None:
        out.mkdir(exist_ok=True)
        (out / "registry.tsv").write_text(registry, encoding="utf-8")
    assert main(["import-sok", str(readme), "-o", str(out)]) == 0
    graph = load_graph(out, ontology=False, inferred=False)
    return {k: set(graph.subjects(RDF.type, getattr(GIA, k))) for k in KINDS}


@pytest.fixture(scope="module")
def minted_by_the_old_rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[URIRef]]:
    """2025-07-15 imported with an empty registry: the IRIs gia-kg published for that release."""
    return imported(OLD, tmp_path_factory.mktemp("old") / "o", HEADER + "\n")


def test_the_published_2025_07_15_iris(minted_by_the_old_rules: dict[str, set[URIRef]]) -> None:
    defenses = minted_by_the_old_rules["Defense"]
    assert {iri("defense", slug) for slug in RENAMED_DEFENSES} <= defenses
    assert iri("assessment", "dcs-2-G") in minted_by_the_old_rules["Assessment"]
    assert [len(minted_by_the_old_rules[k]) for k in KINDS] == [8, 36, 21, 58, 59, 168]


def test_both_shared_releases_give_the_same_iris(
    tmp_path: Path, minted_by_the_old_rules: dict[str, set[URIRef]]
) -> None:
    # Every entity is in both releases; with the shipped registry both give the published IRIs.
    assert imported(NEW, tmp_path / "new") == minted_by_the_old_rules
    assert imported(OLD, tmp_path / "old") == minted_by_the_old_rules


def test_a_registry_grown_from_nothing_keeps_the_first_releases_iris(
    tmp_path: Path, minted_by_the_old_rules: dict[str, set[URIRef]]
) -> None:
    out = tmp_path / "chain"
    imported(OLD, out, HEADER + "\n")
    assert imported(NEW, out) == minted_by_the_old_rules  # out/registry.tsv from the first import
    graph = load_graph(out, ontology=False, inferred=False)
    precode = iri("defense", "precode")
    assert graph.value(precode, GIA.name) is None  # the name went, the IRI stayed
    assert (precode, GIA.hasAssessment, iri("assessment", "precode-G")) in graph


def test_without_the_registry_the_renamed_defenses_would_get_new_iris(tmp_path: Path) -> None:
    fresh = imported(NEW, tmp_path / "bare", HEADER + "\n")["Defense"]
    assert iri("defense", "dcs-2") not in fresh
    assert iri("defense", "concealing-sensitive-samples") in fresh  # the example


def test_a_renumbered_bibliography_keeps_every_iri(
    tmp_path: Path, minted_by_the_old_rules: dict[str, set[URIRef]]
) -> None:
    # A paper inserted as [1]: every other entry and citation moved up by one.
    got = imported(SOK / "renumbered-2025-10-01.md", tmp_path / "o")
    new_work = iri("work", "survey-gradient-leakage")
    assert got["Work"] == minted_by_the_old_rules["Work"] | {new_work}
    assert got["Reference"] == minted_by_the_old_rules["Reference"] | {
        iri("ref", "survey-gradient-leakage-ref1")}
    for kind in ("ThreatModel", "Attack", "Defense", "Assessment"):
        assert got[kind] == minted_by_the_old_rules[kind], kind
    graph = load_graph(tmp_path / "o", ontology=False, inferred=False)
    zhu = iri("ref", "zhu-2019-deep-leakage-ref1")  # minted as [1], now [2]
    assert int(graph.value(zhu, GIA.referenceNumber)) == 2
    assert graph.value(iri("attack", "zhu-2019-deep-leakage"), GIA.reference) == zhu


def test_renamed_titles_and_moved_links_keep_every_iri(
    tmp_path: Path, minted_by_the_old_rules: dict[str, set[URIRef]]
) -> None:
    # [2] and [30] retitled (links kept), [58]'s links moved (title kept).
    assert imported(SOK / "renamed-2025-10-02.md", tmp_path / "o") == minted_by_the_old_rules
    graph = load_graph(tmp_path / "o", ontology=False, inferred=False)
    idlg = iri("work", "zhao-2020-idlg-improved")
    assert str(graph.value(idlg, URIRef(PREFIXES["dcterms"] + "title"))).endswith("(Extended Version)")
    precode = iri("work", "precode-generic-model")
    links = set(graph.objects(iri("ref", "precode-generic-model-ref58"), GIA.codeRepository))
    assert links == {URIRef("https://github.com/example/precode-mirror")}
    assert (iri("defense", "precode"), GIA.work, precode) in graph


def test_a_minted_iri_is_never_given_to_another_entity() -> None:
    registry = Registry({(str(iri("work", "zhu-2019-deep-leakage")), "work", "title:deep leakage")})
    assert registry.mint("work", "zhu-2019-deep-leakage", set()) == str(iri("work", "zhu-2019-deep-leakage-2"))
    taken = {str(iri("work", "zhu-2019-deep-leakage-2"))}
    assert registry.mint("work", "zhu-2019-deep-leakage", taken) == str(iri("work", "zhu-2019-deep-leakage-3"))


def test_a_replaced_paper_under_the_same_number_gets_a_new_iri(tmp_path: Path) -> None:
    # [1] becomes another paper (new title, new link, another author in the attack row).
    text = NEW.read_text(encoding="utf-8")
    old_entry = "[1] Deep Leakage from Gradients. NeurIPS. [paper](https://arxiv.org/abs/1906.08935)"
    assert old_entry in text and "Zhu et al. (2019) [1]" in text
    text = text.replace(old_entry, "[1] Gradient Leakage Without Priors. [paper](https://example.org/other)")
    text = text.replace("Zhu et al. (2019) [1]", "Moreau et al. (2025) [1]")
    readme = tmp_path / "replaced-2025-10-03.md"
    readme.write_text(text, encoding="utf-8")
    got = imported(readme, tmp_path / "o")
    assert iri("work", "zhu-2019-deep-leakage") not in got["Work"]
    assert iri("work", "moreau-2025-gradient-leakage") in got["Work"]
    assert iri("attack", "moreau-2025-gradient-leakage") in got["Attack"]


def test_registry_file_is_sorted_and_checked(tmp_path: Path, capsys) -> None:
    shipped = (ROOT / "kg" / "data" / "registry.tsv").read_text(encoding="utf-8").splitlines()
    assert shipped[0] == HEADER and shipped[1:] == sorted(shipped[1:])
    out = tmp_path / "o"
    out.mkdir()
    (out / "registry.tsv").write_text(HEADER + "\nnot a row\n", encoding="utf-8")
    assert main(["import-sok", str(NEW), "-o", str(out)]) == 2
    assert f"{out / 'registry.tsv'}:2: expected IRI<TAB>KIND<TAB>KEY" in capsys.readouterr().err


def test_normalization() -> None:
    assert normalize_url("https://www.Example.org/a/") == normalize_url("http://example.org/a")
    assert normalize_title("Deep  Leakage from Gradients.") == normalize_title("deep leakage FROM gradients")
    assert normalize_title("Mjölnir: breaking") == "mjolnir breaking"
