"""The link, naming, venue and identifier audits, the severity profile and `audit --fail-on`.

The expected findings on the shipped release (2025-09-02) were written by hand from the SoK
README (tests/fixtures/sok/sok_gias_fl-README-2025-09-02.md), not computed:

- unresolvable-link: the 21 distinct links broken by a global "pdf" → "paper" replacement: 16
  URLs end in ``.paper`` ([21] and [44] give the same one), 4 use ``arxiv.org/paper/`` ([28],
  [29], [35], [53]) and 1 ``openreview.net/paper?id=`` ([6]); the code links (GitHub) and the
  label-recovery link of [6] (``arxiv.org/abs/2110.09074``) are fine.
- defense-name-history: 2025-07-15 named PEFL [54], GIAnDe [55], DCS-2 [56], SPN [57],
  PRECODE [58] and FedKL [59]; 2025-09-02 gives them as numbers only (their IRIs keep the names).
- defense-name-neighbours: DigestNN [49] is the one named row; [48] and [50] around it are not.
- reference-without-venue: only [1] and [20] give a venue ("NeurIPS"); of the other 57, the CVF,
  NeurIPS, USENIX, PMLR, AAAI, NDSS and PoPETs links name where the paper appeared.
- identifier-conflict: none (the one paper listed twice, [21] and [44], is one work).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from kg import audit
from kg.cli import main
from kg.errors import QueryError, UsageError
from kg.sok_import import import_sok
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "audit"
AUDIT_DIR = ROOT / "queries" / "audit"
DATA = ROOT / "kg" / "data"
OLD_README = ROOT / "tests" / "fixtures" / "sok" / "sok_gias_fl-README-2025-07-15.md"

CVF = "https://openaccess.thecvf.com/content/"
NEURIPS = "https://proceedings.neurips.cc/paper_files/paper/"
#: (ref, link, likely fix) of the shipped release, in reference order, copied from the README.
SHIPPED_LINKS = [
    ("3", NEURIPS + "2020/file/c4ede56bbd98819ae6112b20ac6bf145-Paper.paper",
     NEURIPS + "2020/file/c4ede56bbd98819ae6112b20ac6bf145-Paper.pdf"),
    ("4", CVF + "CVPR2021/papers/Yin_See_Through_Gradients_Image_Batch_Recovery_via_GradInversion_"
     "CVPR_2021_paper.paper",
     CVF + "CVPR2021/papers/Yin_See_Through_Gradients_Image_Batch_Recovery_via_GradInversion_"
     "CVPR_2021_paper.pdf"),
    ("5", CVF + "CVPR2022/papers/Hatamizadeh_GradViT_Gradient_Inversion_of_Vision_Transformers_"
     "CVPR_2022_paper.paper",
     CVF + "CVPR2022/papers/Hatamizadeh_GradViT_Gradient_Inversion_of_Vision_Transformers_"
     "CVPR_2022_paper.pdf"),
    ("6", "https://openreview.net/paper?id=e7A0B99zJf", "https://openreview.net/forum?id=e7A0B99zJf"),
    ("8", "https://proceedings.mlr.press/v202/kariyappa23a/kariyappa23a.paper",
     "https://proceedings.mlr.press/v202/kariyappa23a/kariyappa23a.pdf"),
    ("14", "https://www.usenix.org/system/files/usenixsecurity23-yue.paper",
     "https://www.usenix.org/system/files/usenixsecurity23-yue.pdf"),
    ("20", NEURIPS + "2021/file/fa84632d742f2729dc32ce8cb5d49733-Paper.paper",
     NEURIPS + "2021/file/fa84632d742f2729dc32ce8cb5d49733-Paper.pdf"),
    ("21,44", CVF + "CVPR2022/papers/Li_Auditing_Privacy_Defenses_in_Federated_Learning_via_Generative_"
     "Gradient_Leakage_CVPR_2022_paper.paper",
     CVF + "CVPR2022/papers/Li_Auditing_Privacy_Defenses_in_Federated_Learning_via_Generative_"
     "Gradient_Leakage_CVPR_2022_paper.pdf"),
    ("22", CVF + "ICCV2023/papers/Fang_GIFD_A_Generative_Gradient_Inversion_Method_with_Feature_Domain_"
     "Optimization_ICCV_2023_paper.paper",
     CVF + "ICCV2023/papers/Fang_GIFD_A_Generative_Gradient_Inversion_Method_with_Feature_Domain_"
     "Optimization_ICCV_2023_paper.pdf"),
    ("26", CVF + "CVPR2022/papers/Lu_APRIL_Finding_the_Achilles_Heel_on_Privacy_for_Vision_Transformers_"
     "CVPR_2022_paper.paper",
     CVF + "CVPR2022/papers/Lu_APRIL_Finding_the_Achilles_Heel_on_Privacy_for_Vision_Transformers_"
     "CVPR_2022_paper.pdf"),
    ("27", NEURIPS + "2024/file/c13cd7feab4beb1a27981e19e2455916-Paper-Conference.paper",
     NEURIPS + "2024/file/c13cd7feab4beb1a27981e19e2455916-Paper-Conference.pdf"),
    ("28", "https://arxiv.org/paper/2110.13057", "https://arxiv.org/abs/2110.13057"),
    ("29", "https://arxiv.org/paper/2202.00580", "https://arxiv.org/abs/2202.00580"),
    ("32", CVF + "CVPR2023/papers/Zhao_The_Resource_Problem_of_Using_Linear_Layer_Leakage_Attack_in_"
     "CVPR_2023_paper.paper",
     CVF + "CVPR2023/papers/Zhao_The_Resource_Problem_of_Using_Linear_Layer_Leakage_Attack_in_"
     "CVPR_2023_paper.pdf"),
    ("34", CVF + "WACV2024/papers/Wang_Maximum_Knowledge_Orthogonality_Reconstruction_With_Gradients_in_"
     "Federated_Learning_WACV_2024_paper.paper",
     CVF + "WACV2024/papers/Wang_Maximum_Knowledge_Orthogonality_Reconstruction_With_Gradients_in_"
     "Federated_Learning_WACV_2024_paper.pdf"),
    ("35", "https://arxiv.org/paper/2306.03013", "https://arxiv.org/abs/2306.03013"),
    ("36", "https://www.ndss-symposium.org/wp-content/uploads/2025-644-paper.paper",
     "https://www.ndss-symposium.org/wp-content/uploads/2025-644-paper.pdf"),
    ("45", CVF + "CVPR2021/papers/Sun_Soteria_Provable_Defense_Against_Privacy_Leakage_in_Federated_"
     "Learning_From_CVPR_2021_paper.paper",
     CVF + "CVPR2021/papers/Sun_Soteria_Provable_Defense_Against_Privacy_Leakage_in_Federated_"
     "Learning_From_CVPR_2021_paper.pdf"),
    ("48", "https://kaiyuanzhang.com/publications/NDSS25_Censor.paper",
     "https://kaiyuanzhang.com/publications/NDSS25_Censor.pdf"),
    ("51", CVF + "ICCV2023/papers/Wan_Enhancing_Privacy_Preservation_in_Federated_Learning_via_Learning_"
     "Rate_Perturbation_ICCV_2023_paper.paper",
     CVF + "ICCV2023/papers/Wan_Enhancing_Privacy_Preservation_in_Federated_Learning_via_Learning_"
     "Rate_Perturbation_ICCV_2023_paper.pdf"),
    ("53", "https://arxiv.org/paper/2111.04706", "https://arxiv.org/abs/2111.04706"),
]

DOT_PAPER = ".paper → .pdf"
ARXIV = "arxiv.org/paper/ → arxiv.org/abs/"
OPENREVIEW = "openreview.net/paper?id= → openreview.net/forum?id="

#: The severities chosen for each check (docs/assess-and-audit.md says why).
PROFILE = {
    "bypass-vs-rating": "WARN",
    "defense-from-attack-paper": "WARN",
    "defense-name-history": "INFO",
    "defense-name-neighbours": "INFO",
    "duplicate-publication": "WARN",
    "identifier-conflict": "ERROR",
    "monotonicity": "WARN",
    "reference-without-venue": "INFO",
    "stale-evaluation": "INFO",
    "unresolvable-link": "WARN",
    "weakness-cites-non-attack": "INFO",
}


def _kg_with(tmp_path: Path, fixture: Path | None) -> Path:
    """A data folder: the shipped threat models and their reasoned order, plus one fixture file."""
    folder = tmp_path / "kg"
    folder.mkdir()
    for name in ("threat-models.ttl", "inferred.ttl"):
        shutil.copy(DATA / name, folder / name)
    if fixture is not None:
        shutil.copy(fixture, folder / "fixture.ttl")
    return folder


def _rows(folder: Path | None, check: str) -> list[tuple[str, ...]]:
    return [row[1:] for row in audit.audit(folder).text_rows() if row[0] == check]


@pytest.fixture(scope="module")
def shipped() -> list[tuple[str, ...]]:
    return audit.audit().text_rows()


def _shipped(rows: list[tuple[str, ...]], check: str) -> list[tuple[str, ...]]:
    return [row[1:] for row in rows if row[0] == check]


# ---------------------------------------------------------------- unresolvable-link


def test_the_21_suspicious_links_of_the_shipped_release(shipped) -> None:
    assert len(SHIPPED_LINKS) == 21 and len({link for _, link, _ in SHIPPED_LINKS}) == 21
    assert sum(1 for _, link, _ in SHIPPED_LINKS if link.endswith(".paper")) == 16
    rows = _shipped(shipped, "unresolvable-link")
    expected = []
    for ref, link, fix in SHIPPED_LINKS:
        why = ARXIV if "arxiv.org/paper/" in link else OPENREVIEW if "openreview" in link else DOT_PAPER
        expected.append((ref, f"{link} cannot resolve ({why}); likely {fix}"))
    assert [(ref, evidence) for ref, _, evidence in rows] == expected


def test_suspicious_links_are_labelled_with_the_entry_title(shipped) -> None:
    labels = {ref: label for ref, label, _ in _shipped(shipped, "unresolvable-link")}
    assert labels["6"] == "Data Leakage in Federated Averaging"
    assert labels["21,44"] == "Auditing Privacy Defenses in Federated Learning via Generative Gradient Leakage"
    assert labels["53"] == "Bayesian Framework for Gradient Leakage"


def test_code_and_label_recovery_links_and_fragments(tmp_path: Path) -> None:
    rows = _rows(_kg_with(tmp_path, FIXTURES / "unresolvable-link.forms.ttl"), "unresolvable-link")
    assert rows == [
        ("91", "A Fixture Attack", "https://arxiv.org/paper/2202.00580v2 cannot resolve "
         f"({ARXIV}); likely https://arxiv.org/abs/2202.00580v2"),
        ("91", "A Fixture Attack", "https://example.org/code/notebook.paper#cell-2 cannot resolve "
         f"({DOT_PAPER}); likely https://example.org/code/notebook.pdf#cell-2"),
        ("91", "A Fixture Attack", "https://openreview.net/paper?id=Ab_c-1 cannot resolve "
         f"({OPENREVIEW}); likely https://openreview.net/forum?id=Ab_c-1"),
    ]


# ---------------------------------------------------------------- defense names


def test_shipped_defense_name_history(shipped) -> None:
    rows = _shipped(shipped, "defense-name-history")
    expected = [("54", "pefl"), ("55", "giande"), ("56", "dcs-2"), ("57", "spn"), ("58", "precode"),
                ("59", "fedkl")]
    assert [(ref, evidence) for ref, _, evidence in rows] == [
        (ref, f"its IRI defense:{slug} comes from the name the row had when it was first imported; "
              f"this release's Work cell gives only [{ref}]")
        for ref, slug in expected
    ]
    assert rows[4][1] == "PRECODE - A Generic Model Extension To Prevent Deep Gradient Leakage"


def test_names_of_2025_07_15_give_no_history_finding(tmp_path: Path) -> None:
    """The release whose names minted the IRIs: every named row still has its name."""
    out = tmp_path / "old"
    import_sok(OLD_README, out)
    assert _rows(out, "defense-name-history") == []
    # DigestNN [49] sits between [48] and [50] there too
    assert [row[0] for row in _rows(out, "defense-name-neighbours")] == ["49"]


def test_gained_and_changed_names(tmp_path: Path) -> None:
    rows = _rows(_kg_with(tmp_path, FIXTURES / "defense-name-history.changes.ttl"), "defense-name-history")
    assert rows == [
        ("90", "FX-Guard", 'named "FX-Guard" in this release, but its IRI defense:fx-guarding comes '
         "from its work: the row had no name when it was first imported"),
        ("91", "FX-New", 'named "FX-New" in this release, but its IRI defense:fx-old comes from the '
         "name it had when it was first imported"),
    ]


def test_shipped_defense_name_neighbours(shipped) -> None:
    assert _shipped(shipped, "defense-name-neighbours") == [
        ("49", "DigestNN", 'named "DigestNN" while the rows above ([48]) and below ([50]) give only '
         "reference numbers"),
    ]


def test_an_unnamed_row_between_named_ones(tmp_path: Path) -> None:
    folder = _kg_with(tmp_path, FIXTURES / "defense-name-neighbours.unnamed.ttl")
    assert _rows(folder, "defense-name-neighbours") == [
        ("91,92", "Second Fixture Defense", "gives only [91,92] while the rows above (FX-Guard [90]) "
         "and below (FX-Shield [93]) are named"),
    ]


# ---------------------------------------------------------------- venues, identifiers, weaknesses


def test_shipped_references_without_venue(shipped) -> None:
    rows = _shipped(shipped, "reference-without-venue")
    assert [int(ref) for ref, _, _ in rows] == [n for n in range(1, 60) if n not in (1, 20)]
    evidence = {ref: text for ref, _, text in rows}
    named = "gives no venue; its paper link names "
    assert evidence["3"] == f"reference [3] {named}NeurIPS 2020"
    assert evidence["4"] == f"reference [4] {named}CVPR 2021"
    assert evidence["8"] == f"reference [8] {named}PMLR v202"
    assert evidence["11"] == f"reference [11] {named}AAAI"
    assert evidence["14"] == f"reference [14] {named}USENIX Security 2023"
    assert evidence["36"] == f"reference [36] {named}NDSS 2025"
    assert evidence["40"] == f"reference [40] {named}PoPETs 2023"
    assert evidence["58"] == f"reference [58] {named}WACV 2022"
    for ref in ("2", "7", "9", "48", "49"):  # arXiv, IEEE Xplore, ACM, a personal page, ScienceDirect
        assert evidence[ref] == f"reference [{ref}] gives no venue; its links do not name one"


def test_no_identifier_conflict_on_shipped_data(shipped) -> None:
    assert _shipped(shipped, "identifier-conflict") == []


def test_one_work_with_two_dois(tmp_path: Path) -> None:
    folder = _kg_with(tmp_path, FIXTURES / "identifier-conflict.two-dois.ttl")
    assert _rows(folder, "identifier-conflict") == [
        ("92", "A Fixture Paper", "one work with two doi identifiers: doi:10.1145/3510032 and "
         "doi:10.1145/3592800"),
    ]


def test_weakness_citing_another_defense_names_it(tmp_path: Path) -> None:
    folder = _kg_with(tmp_path, FIXTURES / "weakness-cites-non-attack.defense.ttl")
    assert _rows(folder, "weakness-cites-non-attack") == [
        ("90", "Fixture defense", 'weakness cites [92] "Shielding Fixtures", which is not in the attack '
         "table, but is the work of defense FX-Shield"),
    ]


def test_shipped_weaknesses_cite_works_that_are_neither_attack_nor_defense(shipped) -> None:
    # [39] and [53] are no row of either table: the evidence has no defense to name
    rows = _shipped(shipped, "weakness-cites-non-attack")
    assert [(ref, text.endswith("which is not in the attack table")) for ref, _, text in rows] == [
        ("38", True), ("52", True)]


# ---------------------------------------------------------------- profile


def test_profile_lists_every_check_exactly_once() -> None:
    checks = sorted(p.stem for p in AUDIT_DIR.glob("*.rq"))
    lines = (AUDIT_DIR / "profile.tsv").read_text(encoding="utf-8").splitlines()
    names = [line.split("\t")[1] for line in lines]
    assert sorted(names) == checks and len(names) == len(set(names))
    assert all(line.split("\t")[0] in ("ERROR", "WARN", "INFO") for line in lines)
    assert audit.profile() == PROFILE


def _folder_with_profile(tmp_path: Path, text: str) -> Path:
    for name in ("monotonicity", "duplicate-publication"):
        shutil.copy(AUDIT_DIR / f"{name}.rq", tmp_path / f"{name}.rq")
    (tmp_path / "profile.tsv").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("text", "message"), [
    ("WARN\tmonotonicity\nWARN\tduplicate-publication\nINFO\tmonotonicity\n",
     r"profile\.tsv:3: 'monotonicity' is listed twice \(also at line 1\)"),
    ("WARN\tmonotonicity\n", r"profile\.tsv: no severity for duplicate-publication"),
    ("WARN\tmonotonicity\nFATAL\tduplicate-publication\n",
     r"profile\.tsv:2: expected 'SEVERITY<TAB>check-name' with SEVERITY one of ERROR, WARN, INFO"),
    ("WARN monotonicity\n", r"profile\.tsv:1: expected 'SEVERITY<TAB>check-name'"),
    ("WARN\tmonotonicity\nWARN\tduplicate-publication\nINFO\tno-such-check\n",
     r"profile\.tsv:3: 'no-such-check' is not a check of"),
])
def test_bad_profile_is_refused_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        audit.profile(_folder_with_profile(tmp_path, text))


def test_profile_comments_and_blank_lines(tmp_path: Path) -> None:
    text = "# severities\n\nWARN\tmonotonicity\nERROR\tduplicate-publication\n"
    assert audit.profile(_folder_with_profile(tmp_path, text)) == {
        "duplicate-publication": "ERROR", "monotonicity": "WARN"}


def test_missing_profile_is_refused(tmp_path: Path) -> None:
    shutil.copy(AUDIT_DIR / "monotonicity.rq", tmp_path / "monotonicity.rq")
    with pytest.raises(QueryError, match=r"profile\.tsv: missing"):
        audit.profile(tmp_path)


def test_failing_picks_the_severity_and_worse(shipped) -> None:
    table = audit.audit()
    # 27 = 1 + 2 + 1 + 2 + 21 findings of the WARN checks; no ERROR finding
    assert audit.failing(table, "ERROR", PROFILE) == []
    warn = audit.failing(table, "WARN", PROFILE)
    assert len(warn) == 27 and {row[0] for row in warn} == {
        "bypass-vs-rating", "defense-from-attack-paper", "duplicate-publication", "monotonicity",
        "unresolvable-link"}
    assert len(audit.failing(table, "INFO", PROFILE)) == 97
    with pytest.raises(UsageError, match="--fail-on FATAL: expected one of ERROR, WARN, INFO"):
        audit.failing(table, "FATAL", PROFILE)


# ---------------------------------------------------------------- CLI


def test_fail_on_error_passes_on_shipped_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--fail-on", "ERROR"]) == 0
    out = capsys.readouterr().out
    assert "by severity (queries/audit/profile.tsv): ERROR 0, WARN 27, INFO 70" in out


def test_fail_on_warn_fails_on_shipped_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--fail-on", "WARN", "--format", "csv"]) == 1
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert rows[0] == ["finding", "ref", "label", "evidence"]  # the columns do not change
    assert len(rows) == 1 + 97
    assert "gia-kg audit: 27 findings at WARN or worse (queries/audit/profile.tsv)" in captured.err


def test_fail_on_error_fails_on_an_identifier_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _kg_with(tmp_path, FIXTURES / "identifier-conflict.fail.ttl")
    assert main(["audit", "--kg", str(folder)]) == 0  # the default stays exit 0
    assert main(["audit", "--kg", str(folder), "--fail-on", "ERROR"]) == 1
    assert "1 finding at ERROR or worse" in capsys.readouterr().err


def test_fail_on_clean_fixture_is_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _kg_with(tmp_path, FIXTURES / "unresolvable-link.pass.ttl")
    assert main(["audit", "--kg", str(folder), "--fail-on", "WARN"]) == 0
    assert "ERROR 0, WARN 0," in capsys.readouterr().out


def test_fail_on_unknown_severity_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--fail-on", "INFO"]) == 2
    assert "argument --fail-on: invalid choice: 'INFO'" in capsys.readouterr().err
