"""`gia-kg audit`: each check on its pass/fail fixtures, and the exact findings on the shipped SoK.

The expected findings were written by hand from the SoK README (2025-07-15) tables, not computed:
- monotonicity: DCS-2 [56] is green at D and F but orange at C, and D > C, F > C.
- bypass-vs-rating: PRECODE [58] is "Proven ineffective against advanced GIAs [14]"; Yue et al.
  (2023) [14] is a D attack and PRECODE is orange (C-H) at D. The "Bypassed by modern GIAs" rows
  ([42,43], [14], [44], [45]) cite D attacks ([14], [22], [19], [16]) and are red from D on.
- duplicate-publication: [21] and [44] are both "Auditing Privacy Defenses in Federated Learning via
  Generative Gradient Leakage", same CVPR link.
- stale-evaluation ("not tested against ... generative model-based GIAs", generative attacks newer
  than the defense's year): [46] 2022 → [19] [22] [23] [24]; DigestNN [49] 2021 → [18] [19] [21]
  [22] [23] [24]; [50] 2022 → [19] [22] [23] [24]; PEFL [54] 2023 → [24]. [47] and GIAnDe [55]
  (2024) have none newer (Gu et al. is 2024, not after).
- defense-from-attack-paper: the defense rows [14] (quantization) and [44] (clipping) cite the
  attack papers Yue et al. (2023) [14] and Li et al. (2022) [21].
- weakness-cites-non-attack: FedCDP [38] cites [39] and ATS [52] cites [53], neither an attack row.

The shipped findings of unresolvable-link, defense-name-history, defense-name-neighbours,
reference-without-venue and identifier-conflict (85 rows) are checked in tests/test_audit_links.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from kg import audit
from kg.cli import main
from kg.engine import ResultTable
from kg.errors import QueryError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "audit"
ORDER_FIXTURE = ROOT / "tests" / "fixtures" / "reasoning" / "sok-table"
CHECKS = sorted(p.stem for p in (ROOT / "queries" / "audit").glob("*.rq"))

#: (finding, ref, words the evidence must contain), for the shipped SoK, written by hand.
SOK_FINDINGS = [
    ("bypass-vs-rating", "58", ["[14]", "threat model D", "partial against D"]),
    ("defense-from-attack-paper", "14", ["Yue et al. (2023) [14]", "threat model D"]),
    ("defense-from-attack-paper", "44", ["Li et al. (2022) [21]", "threat model D"]),
    ("duplicate-publication", "21,44", ["[21] and [44]", "same title", "same paper link"]),
    ("monotonicity", "56", ["effective against D", "partial against C"]),
    ("monotonicity", "56", ["effective against F", "partial against C"]),
    ("stale-evaluation", "46", ["4 published after 2022", "[19]", "[22]", "[23]", "[24]"]),
    ("stale-evaluation", "49", ["6 published after 2021", "[18]", "[19]", "[21]", "[22]",
                                "[23]", "[24]"]),
    ("stale-evaluation", "50", ["4 published after 2022", "[19]", "[22]", "[23]", "[24]"]),
    ("stale-evaluation", "54", ["1 published after 2023", "Gu et al. (2024) [24]"]),
    ("weakness-cites-non-attack", "38", ["[39]"]),
    ("weakness-cites-non-attack", "52", ["[53]"]),
]

#: The one finding each fail fixture must produce: (ref, exact evidence), written by hand.
FIXTURE_FINDINGS = {
    "bypass-vs-rating": (
        "90",
        'weakness "Bypassed by modern GIAs [91]" cites Doe et al. (2023) [91] (threat model D), '
        "but rated partial against D",
    ),
    "defense-from-attack-paper": (
        "90",
        "the defense's work is the paper of attack Doe et al. (2023) [91] (threat model D)",
    ),
    "duplicate-publication": ("92,93", "references [92] and [93]: same title; different works"),
    "monotonicity": (
        "90",
        "D is stronger than C but rated effective against D and partial against C",
    ),
    "stale-evaluation": (
        "90",
        "not tested against Generative Model-based attacks; 1 published after 2021: "
        "New et al. (2022) [95]",
    ),
    "weakness-cites-non-attack": (
        "90",
        'weakness cites [92] "A Fixture Analysis", which is not in the attack table',
    ),
    "unresolvable-link": (
        "92,93",
        "https://openaccess.thecvf.com/content/CVPR2021/papers/Doe_A_Fixture_Paper_CVPR_2021_paper.paper "
        "cannot resolve (.paper → .pdf); likely "
        "https://openaccess.thecvf.com/content/CVPR2021/papers/Doe_A_Fixture_Paper_CVPR_2021_paper.pdf",
    ),
    "defense-name-history": (
        "90",
        "its IRI defense:fx-guard comes from the name the row had when it was first imported; "
        "this release's Work cell gives only [90]",
    ),
    "defense-name-neighbours": (
        "91",
        'named "FX-Guard" while the rows above ([90]) and below ([92]) give only reference numbers',
    ),
    "reference-without-venue": ("93", "reference [93] gives no venue; its paper link names CVPR 2021"),
    "identifier-conflict": (
        "92,93",
        'arXiv:2001.02610 is the identifier of two works: "A Fixture Paper" and '
        '"A Fixture Paper (Extended)"',
    ),
}
#: Every finding of the shipped release (the 12 above and the 85 of tests/test_audit_links.py).
SHIPPED_TOTAL = 97


#: The label of defense [58] since 2025-09-02 dropped its name "PRECODE".
PRECODE = "PRECODE - A Generic Model Extension To Prevent Deep Gradient Leakage"

def _kg_with(tmp_path: Path, fixture: Path | None) -> Path:
    """A data folder: the SoK's threat models and reasoned order, plus one fixture file."""
    folder = tmp_path / "kg"
    folder.mkdir()
    for name in ("threat-models.ttl", "inferred.ttl"):
        shutil.copy(ORDER_FIXTURE / name, folder / name)
    if fixture is not None:
        shutil.copy(fixture, folder / "fixture.ttl")
    return folder


def _rows(table: ResultTable, check: str | None = None) -> list[tuple[str, ...]]:
    return [row for row in table.text_rows() if check is None or row[0] == check]


def test_every_check_has_a_pass_and_a_fail_fixture_and_an_expectation() -> None:
    assert CHECKS, "no audit checks found"
    for check in CHECKS:
        assert (FIXTURES / f"{check}.pass.ttl").is_file(), check
        assert (FIXTURES / f"{check}.fail.ttl").is_file(), check
    assert sorted(FIXTURE_FINDINGS) == CHECKS


@pytest.mark.parametrize("check", CHECKS)
def test_check_has_problem_and_solution_lines(check: str) -> None:
    text = (ROOT / "queries" / "audit" / f"{check}.rq").read_text(encoding="utf-8")
    assert re.search(r"^# \*\*Problem:\*\* \S", text, re.MULTILINE)
    assert re.search(r"^# \*\*Solution:\*\* \S", text, re.MULTILINE)
    assert text.startswith("#+ summary: ")


@pytest.mark.parametrize("check", CHECKS)
def test_fail_fixture_gives_exactly_one_finding(check: str, tmp_path: Path) -> None:
    table = audit.audit(_kg_with(tmp_path, FIXTURES / f"{check}.fail.ttl"))
    ref, evidence = FIXTURE_FINDINGS[check]
    assert [(r[1], r[3]) for r in _rows(table, check)] == [(ref, evidence)]


@pytest.mark.parametrize("check", CHECKS)
def test_pass_fixture_gives_no_finding(check: str, tmp_path: Path) -> None:
    table = audit.audit(_kg_with(tmp_path, FIXTURES / f"{check}.pass.ttl"))
    assert _rows(table, check) == []


def test_shipped_sok_findings_exactly() -> None:
    rows = [row for row in _rows(audit.audit()) if row[0] in {f for f, _, _ in SOK_FINDINGS}]
    assert [(r[0], r[1]) for r in rows] == [(f, ref) for f, ref, _ in SOK_FINDINGS]
    for row, (finding, ref, words) in zip(rows, SOK_FINDINGS, strict=True):
        for word in words:
            assert word in row[3], (finding, ref, word, row[3])


def test_shipped_sok_labels() -> None:
    labels = {(r[0], r[1]): r[2] for r in _rows(audit.audit())}
    # 2025-09-02 dropped the names DCS-2, PRECODE and PEFL: those rows show their work's title
    dcs = "Concealing Sensitive Samples against Gradient Leakage in Federated Learning"
    pefl = "Privacy-Encoded Federated Learning Against Gradient-Based Data Reconstruction Attacks"
    assert labels[("monotonicity", "56")] == dcs
    assert labels[("bypass-vs-rating", "58")] == PRECODE
    assert labels[("stale-evaluation", "49")] == "DigestNN"
    assert labels[("stale-evaluation", "54")] == pefl
    assert labels[("duplicate-publication", "21,44")] == (
        "Auditing Privacy Defenses in Federated Learning via Generative Gradient Leakage"
    )


def test_cli_csv_exit_zero_with_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["finding", "ref", "label", "evidence"]
    assert len(rows) == 1 + SHIPPED_TOTAL
    assert rows[1][:3] == ["bypass-vs-rating", "58", PRECODE]


def test_cli_json_is_sparql_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["head"]["vars"] == ["finding", "ref", "label", "evidence"]
    assert len(doc["results"]["bindings"]) == SHIPPED_TOTAL
    assert doc["results"]["bindings"][-1]["ref"]["value"] == "52"


def test_cli_text_counts_findings_per_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "97 findings (bypass-vs-rating 1, defense-from-attack-paper 2, defense-name-history 6, " in out
    assert "monotonicity 2, reference-without-venue 57, stale-evaluation 4, unresolvable-link 21, " in out
    assert "weakness-cites-non-attack 2)" in out


def test_cli_no_findings_is_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--kg", str(_kg_with(tmp_path, None))]) == 0
    assert "0 findings" in capsys.readouterr().out


def test_check_without_problem_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.rq").write_text(
        "#+ summary: no header\nSELECT ?ref ?label ?evidence WHERE { }\n", encoding="utf-8"
    )
    with pytest.raises(QueryError, match=r"bad\.rq: expected '# \*\*Problem:\*\*'"):
        audit.audit(_kg_with(tmp_path, None), folder=tmp_path)


def test_check_with_wrong_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.rq").write_text(
        "#+ summary: wrong columns\n# **Problem:** p\n# **Solution:** s\n"
        "SELECT ?ref ?label WHERE { }\n",
        encoding="utf-8",
    )
    with pytest.raises(QueryError, match=r"bad\.rq: a check must SELECT \?ref \?label \?evidence"):
        audit.audit(_kg_with(tmp_path, None), folder=tmp_path)


def test_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--format", "dot"]) == 2
    assert "--format dot: expected one of text, csv, tsv, json, xml, md" in capsys.readouterr().err
