"""Equivalent threat models (equal capability sets): kept, warned about, and honoured everywhere.

The scenario of the issue: give F surrogate data, so F = {MU, BK, TD, SD, AM} = G. Every expected
answer below is worked out by hand from the SoK's Threat Models table (A {MU}, B {MU,BK},
C {MU,BK,TD}, D {C + SD}, E {D + CDD}, F {C + AM}, G {D + AM}, H {G + CS}), its attack table
(attack rows by threat model: A 1 2; B 3 8 12 18 25 26 27; C 6; D 9 13-17 19-24;
E 4 5 7 10 11; F 29 34; G 28 30 32 33 35 36; H 31) and its defense table's colours
(DCS-2 [56]: green at D and F, orange at C and G; no defense is rated better at F than at D,
and [56] is the only one rated differently at F and G).

With F + SD the classes are A < B < C < D < E and D < {F, G} < H: F gains F > D, loses G > F.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib.plugins.sparql import prepareQuery

from kg import order, queries, reasoning
from kg.cli import main
from kg.engine import open_dataset
from kg.loading import load_graph
from kg.namespaces import PREFIXES, SPARQL_PREFIXES
from tests.conftest import FIXTURES, ROOT
from tests.test_differential import combinations, rdflib_rows

TM = PREFIXES["tm"]
WARNING = "gia-kg: warning: threat models F and G have the same capabilities (equivalent)\n"

#: Appended to threat-models.ttl: F's capability set and adversary class gain surrogate data
#: (full IRIs, so the edit does not depend on the file's prefixes or layout).
GIVE_F_SURROGATE_DATA = f"""
<{TM}F> <{PREFIXES['gia']}hasCapability> <{PREFIXES['cap']}surrogate-data> .
<{PREFIXES['adv']}F> <{PREFIXES['rdfs']}subClassOf> [
    a <{PREFIXES['owl']}Restriction> ;
    <{PREFIXES['owl']}onProperty> <{PREFIXES['gia']}hasCapability> ;
    <{PREFIXES['owl']}hasValue> <{PREFIXES['cap']}surrogate-data> ] .
"""

# By hand: X > Y when X's capabilities strictly include Y's (F and G are equal, so neither).
EXPECTED_STRICT = {
    ("B", "A"),
    ("C", "A"), ("C", "B"),
    ("D", "A"), ("D", "B"), ("D", "C"),
    ("E", "A"), ("E", "B"), ("E", "C"), ("E", "D"),
    ("F", "A"), ("F", "B"), ("F", "C"), ("F", "D"),
    ("G", "A"), ("G", "B"), ("G", "C"), ("G", "D"),
    ("H", "A"), ("H", "B"), ("H", "C"), ("H", "D"), ("H", "F"), ("H", "G"),
}
# By hand: covering edges of the classes A < B < C < D < E, D < {F,G} < H, one per member.
EXPECTED_HASSE_CSV = "stronger,weaker\nB,A\nC,B\nD,C\nE,D\nF,D\nG,D\nH,F\nH,G\n"
# By hand: attacks under A, B, C, D, F or G (an F adversary is now a G adversary and above D).
FEASIBLE_F_OR_G = {
    "1", "2", "3", "8", "12", "18", "25", "26", "27", "6",
    "9", "13", "14", "15", "16", "17", "19", "20", "21", "22", "23", "24",
    "29", "34", "28", "30", "32", "33", "35", "36",
}
F_OR_G_CAPABILITIES = "model-updates,basic-knowledge,training-details,surrogate-data,active-manipulation"


def _letters(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(a[len(TM):], b[len(TM):]) for a, b in pairs}


@pytest.fixture(scope="module")
def f_equals_g(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the shipped data with F given surrogate data, reasoned once; (folder, stderr)."""
    folder = tmp_path_factory.mktemp("f-equals-g") / "data"
    shutil.copytree(ROOT / "kg" / "data", folder, ignore=shutil.ignore_patterns(".*"))
    with (folder / "threat-models.ttl").open("a", encoding="utf-8") as handle:
        handle.write(GIVE_F_SURROGATE_DATA)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["--kg", str(folder), "reason"]) == 0
    return folder, err.getvalue()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


# ---------------------------------------------------------------- reasoning


def test_inferred_keeps_the_equivalence_both_ways(f_equals_g: tuple[Path, str]) -> None:
    lines = (f_equals_g[0] / "inferred.ttl").read_text(encoding="utf-8").splitlines()
    assert [ln for ln in lines if "equivalentThreatModel" in ln] == [
        "tm:F gia:equivalentThreatModel tm:G .",
        "tm:G gia:equivalentThreatModel tm:F .",
    ]
    body = [ln for ln in lines if ln.startswith("tm:")]
    assert body == sorted(body)
    strict = {(ln.split()[0][3:], ln.split()[2][3:]) for ln in body if " gia:strongerThan " in ln}
    assert strict == EXPECTED_STRICT  # strongerThan stays strict; H > F comes with G ≡ F


def test_hermit_classifies_f_and_g_as_equivalent(f_equals_g: tuple[Path, str]) -> None:
    graph = reasoning._threat_model_graph(f_equals_g[0])
    strict, equivalent = reasoning.classify_order(graph, reasoning._adversary_classes(graph))
    assert _letters(strict) == EXPECTED_STRICT
    assert _letters(equivalent) == {("F", "G"), ("G", "F")}


def test_reason_warns_on_stderr(f_equals_g: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert f_equals_g[1] == WARNING
    assert main(["--kg", str(f_equals_g[0]), "reason", "--check"]) == 0  # fresh, still warned
    captured = capsys.readouterr()
    assert captured.err == WARNING and "up to date" in captured.out


def test_no_warning_and_no_equivalence_on_the_sok(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--kg", str(data_copy), "reason"]) == 0
    assert capsys.readouterr().err == ""
    assert "equivalentThreatModel" not in (data_copy / "inferred.ttl").read_text(encoding="utf-8")
    assert "Equivalent" not in _run(capsys, "--kg", str(data_copy), "order", "--all")


def test_covering_collapses_equivalent_models() -> None:
    strict = {(TM + a, TM + b) for a, b in EXPECTED_STRICT}
    expected = {tuple(row.split(",")) for row in EXPECTED_HASSE_CSV.splitlines()[1:]}
    assert _letters(reasoning.covering(strict)) == expected


def test_closure_completes_what_owlready2_lists() -> None:
    # owlready2 listed F ⊑ D and G ≡ F but not G ⊑ D: the closure adds it, without self-pairs.
    got = reasoning.closure({("F", "D"), ("F", "G"), ("G", "F"), ("D", "C")})
    assert got == {("F", "D"), ("F", "G"), ("G", "F"), ("D", "C"), ("F", "C"), ("G", "D"), ("G", "C")}


def test_equivalences_helper_needs_no_java(f_equals_g: tuple[Path, str]) -> None:
    from rdflib import Graph

    edited = Graph().parse(f_equals_g[0] / "threat-models.ttl", format="turtle")
    assert reasoning.equivalences(edited) == [("F", "G")]
    shipped = Graph().parse(FIXTURES / "reasoning" / "sok-table" / "threat-models.ttl")
    assert reasoning.equivalences(shipped) == []
    assert reasoning.equivalence_warning("F", "G") + "\n" == WARNING


# ---------------------------------------------------------------- order


def test_order_text_shows_the_equivalence(
    f_equals_g: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(capsys, "--kg", str(f_equals_g[0]), "order", "--all")
    lines = out.splitlines()
    assert "  F = G" in lines
    assert lines[lines.index("Incomparable:") + 1:] == ["  E || F", "  E || G", "  E || H"]
    assert "  G > F" not in lines and "  F > D" in lines


def test_order_csv_keeps_the_contract(
    f_equals_g: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "--kg", str(f_equals_g[0]), "order", "--format", "csv") == EXPECTED_HASSE_CSV


def test_order_dot_draws_an_undirected_dashed_edge(
    f_equals_g: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _run(capsys, "--kg", str(f_equals_g[0]), "order", "--format", "dot").splitlines()
    assert '  F -> G [dir=none, style=dashed, label="="];' in lines
    assert "  { rank=same; F; G; }" in lines
    assert "  D -> F;" in lines and "  F -> H;" in lines and "  C -> F;" not in lines


def test_classes_merge_chains() -> None:
    assert order.classes([("F", "G"), ("G", "X"), ("A", "B")]) == [["A", "B"], ["F", "G", "X"]]


# ---------------------------------------------------------------- saved queries


def test_attacks_feasible_for_equivalent_models(f_equals_g: tuple[Path, str]) -> None:
    folder = f_equals_g[0]
    for letter in "FG":
        got = set(queries.run_saved("attacks-feasible", {"threat_model": letter}, kg_dir=folder)
                  .column("ref"))
        assert got == FEASIBLE_F_OR_G, letter
    assert len(FEASIBLE_F_OR_G) == 30


def test_stronger_and_weaker_include_equivalents(f_equals_g: tuple[Path, str]) -> None:
    folder = f_equals_g[0]

    def letters(name: str, tm: str) -> list[str]:
        table = queries.run_saved(name, {"threat_model": tm}, kg_dir=folder)
        return sorted(table.column("letter"))

    assert letters("stronger-threat-models", "F") == ["G", "H"]
    assert letters("stronger-threat-models", "G") == ["F", "H"]
    assert letters("stronger-threat-models", "D") == ["E", "F", "G", "H"]
    assert letters("weaker-threat-models", "F") == ["A", "B", "C", "D", "G"]
    assert letters("weaker-threat-models", "H") == ["A", "B", "C", "D", "F", "G"]


@pytest.mark.parametrize(
    "name", ["attacks-feasible", "stronger-threat-models", "weaker-threat-models"]
)
def test_rdflib_agrees_on_equivalences(f_equals_g: tuple[Path, str], name: str) -> None:
    folder = f_equals_g[0]
    graph, dataset = load_graph(folder), open_dataset(folder)
    query = queries.load_catalog()[name]
    vocab = queries.vocabulary(dataset)
    prepared = prepareQuery(query.text, initNs=SPARQL_PREFIXES)
    for values in combinations(query, vocab):
        bindings = query.bindings(values, vocab)
        ours = sorted(dataset.select(query.bind(values, vocab)).text_rows())
        assert ours == rdflib_rows(graph, prepared, bindings), values


# ---------------------------------------------------------------- assess


@pytest.mark.parametrize(
    "who", [["--capabilities", F_OR_G_CAPABILITIES], ["--threat-model", "f"], ["--threat-model", "G"]]
)
def test_assess_names_both_equivalent_models(
    f_equals_g: tuple[Path, str], who: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(_run(capsys, "assess", "--kg", str(f_equals_g[0]), *who, "--format", "json"))
    assert doc["threat_models"] == ["F", "G"]
    assert {a["ref"] for a in doc["attacks"]} == FEASIBLE_F_OR_G
    ratings = {d["ref"]: d["ratings"] for d in doc["defenses"]}
    assert ratings["56"] == {"F": "effective", "G": "partial"}  # DCS-2
    assert ratings["41"] == {"F": "effective", "G": "effective"}


def test_assess_text_names_the_given_model_first(
    f_equals_g: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(capsys, "assess", "--kg", str(f_equals_g[0]), "--threat-model", "g")
    assert out.splitlines()[0] == "Adversary: threat model G (equivalent: F)"


# ---------------------------------------------------------------- audit


def test_monotonicity_reports_different_ratings_of_equivalent_models(
    f_equals_g: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from kg import audit

    rows = [(r[1], r[3]) for r in audit.audit(f_equals_g[0]).text_rows() if r[0] == "monotonicity"]
    assert rows == [
        ("56", "D is stronger than C but rated effective against D and partial against C"),
        ("56", "F is equivalent to (same capabilities as) G but rated effective against F and "
               "partial against G"),
        ("56", "F is stronger than C but rated effective against F and partial against C"),
    ]
