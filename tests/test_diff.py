"""`gia-kg diff OLD NEW`: what changed between two SoK releases (kg/diff.py).

Expectations are written by hand: from the hand-made folders of tests/fixtures/diff/, and from
reading the two SoK releases in tests/fixtures/sok/ side by side.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from kg import diff
from kg.cli import main
from kg.loading import new_graph

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD_DIR = FIXTURES / "diff" / "old"
NEW_DIR = FIXTURES / "diff" / "new"
README_0715 = FIXTURES / "sok" / "sok_gias_fl-README-2025-07-15.md"
README_0902 = FIXTURES / "sok" / "sok_gias_fl-README-2025-09-02.md"

ID = "https://w3id.org/gia-kg/id/"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["diff", *argv])
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- hand-made folders

FOLDERS_JSON = {
    "old": "2025-01-01",
    "new": "2025-02-01",
    "added": [
        {"kind": "attack", "iri": ID + "attack/beta-2024-gradients", "ref": "4",
         "label": "Beta et al. (2024)"},
        {"kind": "work", "iri": ID + "work/beta-2024-gradients", "ref": "4",
         "label": "Gradients Tell Everything"},
        {"kind": "reference", "iri": ID + "reference/beta-2024-gradients-ref4", "ref": "4",
         "label": "Gradients Tell Everything"},
    ],
    "removed": [
        {"kind": "defense", "iri": ID + "defense/guard", "ref": "3", "label": "Guard"},
    ],
    "changed": [
        {"kind": "attack", "iri": ID + "attack/alpha-2020-leakage", "ref": "1",
         "field": "sharedModel", "old": "model:a, model:b", "new": "model:a, model:c"},
        {"kind": "defense", "iri": ID + "defense/shield", "ref": "2", "field": "level",
         "threat_model": "G", "old": "gia:Partial", "new": "gia:Effective"},
        {"kind": "work", "iri": ID + "work/alpha-2020-leakage", "ref": "1", "field": "title",
         "old": "Leakage from Gradients", "new": "Deep Leakage from Gradients"},
    ],
}

FOLDERS_TEXT = """\
SoK 2025-02-01 (changes since 2025-01-01)

Added
- Attack [4] Beta et al. (2024) (attack:beta-2024-gradients)
- Work [4] Gradients Tell Everything (work:beta-2024-gradients)
- Reference [4] Gradients Tell Everything (ref:beta-2024-gradients-ref4)

Removed
- Defense [3] Guard (defense:guard)

Changed
- Attack [1] Alpha et al. (2020): sharedModel 'model:a, model:b' → 'model:a, model:c'
- Defense [2] Shield: level at G 'gia:Partial' → 'gia:Effective'
- Work [1] Leakage from Gradients: title 'Leakage from Gradients' → 'Deep Leakage from Gradients'
"""

FOLDERS_MD = """\
## SoK 2025-02-01 (changes since 2025-01-01)

### Added

- Attack [4] Beta et al. (2024) (`attack:beta-2024-gradients`)
- Work [4] Gradients Tell Everything (`work:beta-2024-gradients`)
- Reference [4] Gradients Tell Everything (`ref:beta-2024-gradients-ref4`)

### Removed

- Defense [3] Guard (`defense:guard`)

### Changed

- Attack [1] Alpha et al. (2020): sharedModel `model:a, model:b` → `model:a, model:c`
- Defense [2] Shield: level at G `gia:Partial` → `gia:Effective`
- Work [1] Leakage from Gradients: title `Leakage from Gradients` → `Deep Leakage from Gradients`
"""


def test_folders_json_is_exact() -> None:
    """One added attack (with its work and reference), one removed defense, a rating at G, a
    title, a multi-valued property; position, blank nodes, provenance, renamed assessments and
    new/inferred.ttl are not changes."""
    code, out, err = run(str(OLD_DIR), str(NEW_DIR), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out) == FOLDERS_JSON
    assert list(json.loads(out)["changed"][1]) == [
        "kind", "iri", "ref", "field", "threat_model", "old", "new"]


def test_folders_text_is_exact() -> None:
    assert run(str(OLD_DIR), str(NEW_DIR)) == (0, FOLDERS_TEXT, "")
    assert run(str(OLD_DIR), str(NEW_DIR), "--format", "text") == (0, FOLDERS_TEXT, "")


def test_folders_md_is_exact() -> None:
    assert run(str(OLD_DIR), str(NEW_DIR), "--format", "md") == (0, FOLDERS_MD, "")


def test_reversed_folders_swap_added_and_removed() -> None:
    result = diff.diff(NEW_DIR, OLD_DIR)
    assert (result.old, result.new) == ("2025-02-01", "2025-01-01")
    assert result.added == FOLDERS_JSON["removed"]
    assert result.removed == FOLDERS_JSON["added"]
    assert [(c["field"], c["old"], c["new"]) for c in result.changed] == [
        (c["field"], c["new"], c["old"]) for c in FOLDERS_JSON["changed"]]


@pytest.mark.parametrize("fmt", ["text", "json", "md"])
def test_identical_inputs_have_no_differences(fmt: str) -> None:
    code, out, err = run(str(OLD_DIR), str(OLD_DIR), "--format", fmt)
    assert (code, err) == (0, "")
    if fmt == "json":
        assert json.loads(out) == {"old": "2025-01-01", "new": "2025-01-01", "added": [],
                                   "removed": [], "changed": []}
    elif fmt == "text":
        assert out == "SoK 2025-01-01 (changes since 2025-01-01)\n\nNo changes.\n"
    else:
        assert out == "## SoK 2025-01-01 (changes since 2025-01-01)\n\nNo changes.\n"


# ---------------------------------------------------------------- in-memory graphs

TTL = """
@prefix gia: <https://w3id.org/gia-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix tm: <https://w3id.org/gia-kg/id/threat-model/> .
@prefix defense: <https://w3id.org/gia-kg/id/defense/> .
@prefix ref: <https://w3id.org/gia-kg/id/reference/> .
@prefix ex: <http://example.org/> .
"""


def side(body: str) -> diff.Side:
    graph = new_graph()
    graph.parse(data=TTL + body, format="turtle")
    return diff.snapshot(graph)


def test_threat_model_name_removed_value_and_colliding_local_names() -> None:
    old = side("""
        tm:G a gia:ThreatModel ; rdfs:label "Manipulator" ; gia:letter "G" ; ex:label "x" .
        defense:d a gia:Defense ; rdfs:label "D*" ; gia:name "D*" ;
            gia:reference ref:r-ref12, ref:r-ref9 ; gia:intuition "uses `ticks`" .
        ref:r-ref12 gia:referenceNumber 12 . ref:r-ref9 gia:referenceNumber 9 .
    """)
    new = side("""
        tm:G a gia:ThreatModel ; rdfs:label "Data-Enhanced Manipulator" ; gia:letter "G" .
        defense:d a gia:Defense ; rdfs:label "Some title" ;
            gia:reference ref:r-ref12, ref:r-ref9 ; gia:intuition "uses `ticks`" .
        ref:r-ref12 gia:referenceNumber 12 . ref:r-ref9 gia:referenceNumber 9 .
    """)
    result = diff.compare(old, new)
    assert (result.old, result.new, result.added, result.removed) == (None, None, [], [])
    assert result.changed == [
        {"kind": "threat-model", "iri": ID + "threat-model/G", "ref": "", "field":
         "http://example.org/label", "old": "x", "new": None},
        {"kind": "threat-model", "iri": ID + "threat-model/G", "ref": "", "field": "rdfs:label",
         "old": "Manipulator", "new": "Data-Enhanced Manipulator"},
        {"kind": "defense", "iri": ID + "defense/d", "ref": "9,12", "field": "name",
         "old": "D*", "new": None},
        {"kind": "defense", "iri": ID + "defense/d", "ref": "9,12", "field": "rdfs:label",
         "old": "D*", "new": "Some title"},
    ]
    assert diff.render(result) == (
        "SoK (unknown) (changes since (unknown))\n\nChanged\n"
        "- Threat model G Manipulator: http://example.org/label 'x' → (none)\n"
        "- Threat model G Manipulator: rdfs:label 'Manipulator' → 'Data-Enhanced Manipulator'\n"
        "- Defense [9,12] D*: name 'D*' → (none)\n"
        "- Defense [9,12] D*: rdfs:label 'D*' → 'Some title'\n"
    )
    assert r"- Defense [9,12] D\*: name `D*` → (none)" in diff.render(result, "md")


def test_markdown_code_spans_hold_backticks() -> None:
    old = side('defense:d a gia:Defense ; rdfs:label "D" ; gia:intuition "a `b` c" .')
    new = side('defense:d a gia:Defense ; rdfs:label "D" ; gia:intuition "`b`" .')
    assert diff.render(diff.compare(old, new), "md").endswith(
        "- Defense d D: intuition ``a `b` c`` → `` `b` ``\n")


# ---------------------------------------------------------------- the two SoK releases


@pytest.fixture(scope="module")
def releases() -> dict:
    """``gia-kg diff`` of the shared releases 2025-07-15 -> 2025-09-02, as JSON."""
    code, out, err = run(str(README_0715), str(README_0902), "--format", "json")
    assert (code, err) == (0, "")
    return json.loads(out)


#: The Work cells of the defense table that 2025-09-02 left without a name (see its lines
#: 205-210 against lines 182-187 of 2025-07-15), and the title of each first work.
DROPPED_NAMES = {
    "54": ("PEFL", "Privacy-Encoded Federated Learning Against Gradient-Based Data "
           "Reconstruction Attacks"),
    "55": ("GIAnDe", "Gradient Inversion Attacks: Impact Factors Analyses and Privacy "
           "Enhancement"),
    "56": ("DCS-2", "Concealing Sensitive Samples against Gradient Leakage in Federated "
           "Learning"),
    "57": ("SPN", "Rethinking Privacy Preserving Deep Learning: How to Evaluate and Thwart "
           "Privacy Attacks"),
    "58": ("PRECODE", "PRECODE - A Generic Model Extension To Prevent Deep Gradient Leakage"),
    "59": ("FedKL", "Gradient Leakage Defense with Key-Lock Module for Federated Learning"),
}

#: References whose venue 2025-07-15 gives and 2025-09-02 dropped, counted by hand: [1] and
#: [20] keep "NeurIPS"; [37], [39], [40], [44]-[47] and [49]-[59] never had one.
VENUES_DROPPED = {
    2: "ECCV", 3: "NeurIPS", 4: "CVPR", 5: "CVPR", 6: "TMLR", 7: "IEEE TMI", 8: "ICML",
    9: "ACM TOPS", 10: "IEEE JBHI", 11: "AAAI", 12: "IEEE TDSC", 13: "IEEE TIFS",
    14: "USENIX Security", 15: "ICASSP", 16: "AAAI", 17: "IEEE INFOCOM", 18: "ACM TIST",
    19: "IEEE INFOCOM", 21: "CVPR", 22: "ICCV", 23: "IEEE TDSC", 24: "ACM WEB Conference",
    25: "ICLR", 26: "CVPR", 27: "NeurIPS", 28: "ICLR", 29: "ICML", 30: "EuroS&P",
    31: "EuroS&P", 32: "CVPR", 33: "IEEE S&P", 34: "WACV", 35: "ICLR", 36: "NDSS",
    38: "IEEE ICDCS", 41: "CCS", 42: "AAAI", 43: "CoSe", 48: "NDSS 2025",
}


def test_releases_versions(releases: dict) -> None:
    assert (releases["old"], releases["new"]) == ("2025-07-15", "2025-09-02")


def test_releases_list_exactly_the_dropped_defense_names(releases: dict) -> None:
    """The issue's "Done means". Needs stable defense IRIs across releases (the registry)."""
    names = [c for c in releases["changed"] if c["field"] == "name"]
    assert {c["ref"]: (c["kind"], c["old"], c["new"]) for c in names} == {
        ref: ("defense", name, None) for ref, (name, _) in DROPPED_NAMES.items()}
    assert len(names) == 6
    assert [c for c in releases["changed"] if c["field"] == "level"] == []
    moved = {c["iri"] for c in names}
    assert not moved & {e["iri"] for e in releases["added"] + releases["removed"]}
    assert [e for e in releases["added"] + releases["removed"] if e["kind"] == "defense"] == []


def test_releases_defense_labels_fall_back_to_the_work_title(releases: dict) -> None:
    labels = [c for c in releases["changed"] if c["kind"] == "defense" and c["field"] == "label"]
    assert {c["ref"]: (c["old"], c["new"]) for c in labels} == DROPPED_NAMES


def test_releases_reference_venues(releases: dict) -> None:
    venues = [c for c in releases["changed"] if c["kind"] == "reference" and c["field"] == "venue"]
    assert len(VENUES_DROPPED) == 39
    assert {int(c["ref"]): (c["old"], c["new"]) for c in venues} == {
        n: (v, None) for n, v in VENUES_DROPPED.items()}


def test_releases_change_nothing_else(releases: dict) -> None:
    """No row was added or removed; besides the names, only venues (and so citation texts)."""
    assert (releases["added"], releases["removed"]) == ([], [])
    assert collections.Counter((c["kind"], c["field"]) for c in releases["changed"]) == {
        ("defense", "name"): 6, ("defense", "label"): 6, ("work", "venue"): 39,
        ("reference", "venue"): 39, ("reference", "citationText"): 39}


def test_releases_order_is_kind_then_reference_number() -> None:
    text = diff.render(diff.diff(README_0715, README_0902))
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    kinds = [line.split(" [")[0][2:] for line in lines]
    assert kinds == sorted(kinds, key=["Defense", "Work", "Reference"].index)
    refs = [int(line.split("[")[1].split("]")[0].split(",")[0]) for line in lines
            if line.startswith("- Reference")]
    assert refs == sorted(refs)
    assert "- Reference [2] iDLG: Improved Deep Leakage from Gradients: venue 'ECCV' → (none)" in lines


def test_readme_against_the_folder_it_imports_to(tmp_path: Path) -> None:
    from kg import sok_import

    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in sok_import.build(README_0715).files.items():
        (folder / name).write_text(text, encoding="utf-8")
    same = diff.diff(README_0715, folder)
    assert (same.old, same.new, same.added, same.removed, same.changed) == (
        "2025-07-15", "2025-07-15", [], [], [])
    mixed = diff.diff(folder, README_0902)
    assert mixed.as_json() == diff.diff(README_0715, README_0902).as_json()


# ---------------------------------------------------------------- bad inputs


def one_line_error(argv: list[str], expected: str) -> None:
    code, out, err = run(*argv)
    assert code == 2, err
    assert out == ""
    assert err.startswith("gia-kg: error: ") and err.count("\n") == 1, err
    assert expected in err, err
    assert "Traceback" not in err


def test_missing_old_is_an_input_error() -> None:
    one_line_error(["/nonexistent/old", str(NEW_DIR)], "diff OLD /nonexistent/old: no such file")


def test_missing_new_is_an_input_error() -> None:
    one_line_error([str(OLD_DIR), "/nonexistent/new"], "diff NEW /nonexistent/new: no such file")


def test_neither_file_nor_folder(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_line_error([str(fifo), str(NEW_DIR)], "neither a regular file nor a folder")


def test_folder_without_turtle(tmp_path: Path) -> None:
    one_line_error([str(OLD_DIR), str(tmp_path)], "a folder without *.ttl files")


def test_turtle_file_instead_of_folder() -> None:
    one_line_error([str(OLD_DIR / "attacks.ttl"), str(NEW_DIR)], "give the folder")


def test_bad_turtle_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "attacks.ttl").write_text("this is not turtle .\n", encoding="utf-8")
    one_line_error([str(tmp_path), str(NEW_DIR)], "attacks.ttl")


def test_file_that_is_not_a_readme(tmp_path: Path) -> None:
    readme = tmp_path / "notes-2025-01-01.md"
    readme.write_text("# Just notes\n\nNo tables here.\n", encoding="utf-8")
    one_line_error([str(readme), str(NEW_DIR)], "notes-2025-01-01.md")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "the following arguments are required: OLD, NEW"),
        (["x"], "the following arguments are required: NEW"),
        (["a", "b", "--format", "csv"], "--format csv: expected one of text, json, md"),
    ],
)
def test_usage_errors(argv: list[str], expected: str) -> None:
    one_line_error(argv, expected)
