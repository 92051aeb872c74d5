"""Saved-query parameters that name attacks, and `gia-kg query NAME --help` (issue 13, Messages).

Expected numbers and labels are read by hand from the SoK attack and defense tables
(tests/fixtures/sok/sok_gias_fl-README-2025-09-02.md) and from tests/fixtures/queries, which holds
the attacks [1] Zhu et al. (2019), [3], [4], [6], [14] Yue et al. (2023), [28], [29], [31] and the
defenses [37], [41], [42,43], [45], [58].
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import cli, queries
from kg.engine import open_dataset
from kg.errors import UsageError
from tests.conftest import real_data

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "queries"

CATALOG = queries.load_catalog()
#: Every defense of the SoK table is green at A, so an A attack (Zhu et al. (2019), [1]) gets all 21.
ALL_DEFENSES = {"37", "38", "40", "41", "42,43", "14", "44", "45", "46", "47", "48", "49", "50",
                "51", "52", "54", "55", "56", "57", "58", "59"}
LISTING = "list the attacks with 'gia-kg query attacks-by-year'"


def query_error(capsys: pytest.CaptureFixture[str], attack: str, kg: Path | None = None) -> str:
    """The one stderr line of a refused ``-p attack=...``; exit code 2, nothing on stdout."""
    argv = ["--kg", str(kg)] if kg is not None else []
    code = cli.main([*argv, "query", "defenses-for-attack", "-p", f"attack={attack}",
                     "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err
    prefix = f"gia-kg: error: query defenses-for-attack: parameter attack={attack!r}"
    assert err.startswith(prefix), err
    return err[len(prefix):].rstrip("\n")


def rows(attack: str, kg: Path | None = None) -> list[tuple[str, ...]]:
    return queries.run_saved("defenses-for-attack", {"attack": attack}, kg_dir=kg).text_rows()


# ---------------------------------------------------------------- helpers


def test_compact_numbers() -> None:
    assert queries.compact_numbers(["5", "1", "2", "3", "8", "7", "3"]) == "1-3, 5, 7-8"
    assert queries.compact_numbers(["14"]) == "14"
    assert queries.compact_numbers([]) == ""
    assert queries.compact_numbers(["1", "3", "4"], ",") == "1,3-4"


def test_attack_vocabulary_is_read_from_the_graph() -> None:
    vocab = queries.vocabulary(open_dataset(FIXTURE))
    assert list(vocab["attack"]) == ["1", "3", "4", "6", "14", "28", "29", "31"]
    assert vocab["attack"]["14"].value == (
        "https://w3id.org/gia-kg/id/attack/yue-2023-gradient-obfuscation")
    defenses = {e.cite() for e in vocab.entries["attack"] if e.kind == "defense"}
    assert "[42,43] Revisiting Gradient Pruning: A Dual Realization for Defending against " \
           "Gradient Attacks" in defenses and len(defenses) == 5
    assert vocab.listing["attack"] == "gia-kg query attacks-by-year"
    assert set(queries.vocabulary(open_dataset(FIXTURE), ["level"])) == {"level"}


def test_listing_command_is_a_saved_query() -> None:
    listing = queries.parse_query_file(queries.VOCAB_DIR / "attack.rq").meta["listing"]
    name = listing.removeprefix("gia-kg query ")
    assert name in CATALOG and "ref" in CATALOG[name].columns()
    assert "label" in CATALOG[name].columns()


# ---------------------------------------------------------------- resolving attack values


def test_number_label_and_fragment_resolve_on_fixture() -> None:
    by_number = rows("14", FIXTURE)
    assert {r[0] for r in by_number} == {"41"} and by_number[0][2:4] == ("14", "Yue et al. (2023)")
    for value in ("Yue et al. (2023)", "YUE ET AL. (2023)", "  yue  et al.  (2023) ", "yue",
                  "[14]", "014"):
        assert rows(value, FIXTURE) == by_number, value


def test_unknown_number_lists_fixture_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    # [2] is a reference of the fixture (Zhao et al.'s work) but neither attack nor defense
    for number in ("99", "2"):
        message = query_error(capsys, number, FIXTURE)
        assert message == (f": no attack has reference number {number}; expected an attack's "
                           "reference number (1, 3-4, 6, 14, 28-29, 31) or (part of) its label; "
                           + LISTING)


def test_defense_number_is_explained_on_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    message = query_error(capsys, "41", FIXTURE)
    assert message.startswith(": [41] is a defense (Practical Secure Aggregation for "
                              "Privacy-Preserving Machine Learning), not an attack; ")
    message = query_error(capsys, "43", FIXTURE)
    assert message.startswith(": [43] is a defense (Revisiting Gradient Pruning: ")


def test_hostile_text_is_refused_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    message = query_error(capsys, '14") || true || STR("', FIXTURE)
    assert message.startswith(": no attack's label contains '14\") || true || STR(\"'")


def test_empty_value_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert query_error(capsys, "", FIXTURE).startswith(": empty; expected an attack's ")


def test_library_raises_usage_error() -> None:
    with pytest.raises(UsageError, match=r"parameter attack='99': no attack has reference"):
        queries.run_saved("defenses-for-attack", {"attack": "99"}, kg_dir=FIXTURE)


@real_data
def test_unknown_attack_on_sok(capsys: pytest.CaptureFixture[str]) -> None:
    assert query_error(capsys, "99") == (
        ": no attack has reference number 99; expected an attack's reference number (1-36) or "
        "(part of) its label; " + LISTING)
    assert query_error(capsys, "Smith") == (
        ": no attack's label contains 'Smith'; expected an attack's reference number (1-36) or "
        "(part of) its label; " + LISTING)


@real_data
def test_defense_number_on_sok(capsys: pytest.CaptureFixture[str]) -> None:
    assert query_error(capsys, "40") == (
        ": [40] is a defense (Sok: Secure aggregation based on cryptographic schemes for "
        "federated learning), not an attack; expected an attack's reference number (1-36) or "
        "(part of) its label; " + LISTING)
    # [39] is cited in [38]'s weakness but is in neither table
    assert query_error(capsys, "39").startswith(": no attack has reference number 39; ")


@real_data
def test_defense_label_on_sok(capsys: pytest.CaptureFixture[str]) -> None:
    assert query_error(capsys, "soteria").startswith(
        " names a defense, [45] Soteria: Provable Defense Against Privacy Leakage in Federated "
        "Learning, not an attack; ")


@real_data
def test_ambiguous_fragment_lists_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    assert query_error(capsys, "Zhu") == (
        " matches 2 attacks: [1] Zhu et al. (2019), [25] Zhu et al. (2021); give the reference "
        "number or the whole label")
    assert query_error(capsys, "zhao") == (
        " matches 3 attacks: [2] Zhao et al. (2020), [32] Zhao et al. (2023), "
        "[33] Zhao et al. (2024); give the reference number or the whole label")


@real_data
def test_ambiguous_whole_label(capsys: pytest.CaptureFixture[str]) -> None:
    # The SoK has two "Hatamizadeh et al. (2022)" rows, [5] and [7]
    assert query_error(capsys, "Hatamizadeh et al. (2022)") == (
        " is the label of 2 attacks: [5] Hatamizadeh et al. (2022), "
        "[7] Hatamizadeh et al. (2022); give the reference number")


@real_data
def test_many_candidates_stay_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    message = query_error(capsys, "et al")  # every one of the 36 attack labels
    assert message.startswith(" matches 36 attacks: [1] Zhu et al. (2019), [2] Zhao et al. ")
    assert "[12] Li et al. (2025) and 24 more; give the reference number" in message


@real_data
def test_whole_label_and_fragment_on_sok() -> None:
    by_number = rows("1")
    assert {r[0] for r in by_number} == ALL_DEFENSES
    assert {r[2:5] for r in by_number} == {("1", "Zhu et al. (2019)", "A")}
    assert rows("zhu et al. (2019)") == by_number
    yue = rows("yue")
    assert {r[0] for r in yue} == {"40", "41", "48", "51", "56"}
    assert {r[2:5] for r in yue} == {("14", "Yue et al. (2023)", "D")}
    assert rows("14") == yue  # [14] is also a defense's number: the attack wins
    assert {r[2] for r in rows("7")} == {"7"}  # [7], one of the two Hatamizadeh et al. (2022)


@real_data
def test_cli_answers_by_label(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["query", "defenses-for-attack", "-p", "attack=yue", "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.split("\r\n")[0] == (
        "ref,label,attack_ref,attack_label,threat_model,cites_attack,defense")
    assert out.split("\r\n")[1] == (
        "40,Sok: Secure aggregation based on cryptographic schemes for federated learning,14,"
        "Yue et al. (2023),D,false,https://w3id.org/gia-kg/id/defense/sok-secure-aggregation")


# ---------------------------------------------------------------- columns


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_columns_read_from_select_are_the_result_columns(name: str) -> None:
    query = CATALOG[name]
    values = {p.name: {"threat_model": "C", "attack": "14"}.get(p.type, p.default or "")
              for p in query.params}
    assert query.columns() == queries.run_saved(name, values, kg_dir=FIXTURE).columns


def test_columns_of_select_star_and_expressions(tmp_path: Path) -> None:
    (tmp_path / "star.rq").write_text("#+ summary: s\nSELECT * WHERE { ?s ?p ?o }\n")
    (tmp_path / "expr.rq").write_text(
        "#+ summary: s\n#+ params:\n#+   - x: string\n"
        '# SELECT ?commented\nSELECT DISTINCT ?s (COUNT(?o) AS ?n) ("a(" AS ?t) ?_x\n'
        "WHERE { ?s ?p ?o FILTER(?o != ?_x) { SELECT ?inner WHERE {} } } GROUP BY ?s ?_x\n")
    catalog = queries.load_catalog(tmp_path)
    assert catalog["star"].columns() is None
    assert catalog["expr"].columns() == ["s", "n", "t"]


# ---------------------------------------------------------------- gia-kg query NAME --help


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main([*argv, "--help"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    return out


def test_help_of_defenses_cover_but_not(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(capsys, "--kg", str(FIXTURE), "query", "defenses-cover-but-not")
    lines = out.splitlines()
    assert lines[0] == ("usage: gia-kg query defenses-cover-but-not "
                        "-p covered=<A|B|C|D|E|F|G|H>")
    assert lines[1] == ("       -p uncovered=<A|B|C|D|E|F|G|H> "
                        "[-p min_level=<effective|partial>]")
    assert "Defenses rated at least min_level against one threat model and below it" in out
    assert "what protects\nagainst a G adversary" in out or "against a G adversary" in out
    assert "  covered    threat_model, required: one of A, B, C, D, E, F, G, H" in lines
    assert "  uncovered  threat_model, required: one of A, B, C, D, E, F, G, H" in lines
    assert "  min_level  level, default effective: one of effective, partial" in lines
    assert lines[lines.index("columns:") + 1] == (
        "  ref, label, covered_level, uncovered_level, defense")
    assert lines[lines.index("example:") + 1] == (
        "  gia-kg query defenses-cover-but-not -p covered=G -p uncovered=H")
    assert all(len(line) <= 78 for line in lines), max(lines, key=len)


def test_help_of_defenses_for_attack_lists_fixture_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = help_text(capsys, "--kg", str(FIXTURE), "query", "defenses-for-attack")
    assert out.startswith("usage: gia-kg query defenses-for-attack "
                          "-p attack=<1,3-4,6,14,28-29,31|label>\n")
    flat = " ".join(out.split())
    assert ("attack attack, required: an attack's reference number (1, 3-4, 6, 14, 28-29, 31), "
            "its label, case-insensitive (e.g. 'Zhu et al. (2019)'), or a part of a label that "
            "names one attack; list them with 'gia-kg query attacks-by-year'") in flat
    assert ("columns: ref, label, attack_ref, attack_label, threat_model, cites_attack, "
            "defense") in flat


def test_help_without_parameters_or_vocabulary() -> None:
    text = queries.render_help(CATALOG["coverage-matrix"], None)
    assert text.startswith("usage: gia-kg query coverage-matrix\n\n")
    assert "parameters:" not in text
    assert "columns:\n  ref, label, A, B, C, D, E, F, G, H, defense\n" in text
    text = queries.render_help(CATALOG["defenses-for-attack"], None)
    assert "usage: gia-kg query defenses-for-attack -p attack=<attack>\n" in text
    assert "  attack  attack, required: an attack's reference number or label\n" in text


def test_help_of_an_unknown_query_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--kg", str(FIXTURE), "query", "no-such-query", "--help"])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("gia-kg: error: unknown query 'no-such-query'")


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_help_has_summary_and_example(name: str) -> None:
    query = CATALOG[name]
    text = queries.render_help(query, queries.vocabulary(open_dataset(FIXTURE)))
    assert " ".join(query.summary.split()) in " ".join(text.split())
    assert f"example:\n  {query.example}\n" in text
    assert all(len(line) <= 78 for line in text.splitlines() if line != f"  {query.example}")
