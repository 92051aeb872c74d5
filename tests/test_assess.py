"""`gia-kg assess` on the shipped SoK; every expected answer is read by hand from the SoK tables.

Threat models (capabilities): A {MU}, B {MU,BK}, C {MU,BK,TD}, D {C + SD}, E {D + CDD},
F {C + AM}, G {D + AM}, H {G + CS}. Attack rows by threat model (reference numbers):
A 1 2; B 3 8 12 18 25 26 27; C 6; D 9 13-17 19-24; E 4 5 7 10 11; F 29 34;
G 28 30 32 33 35 36; H 31.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kg import assess
from kg.cli import main
from kg.errors import QueryError

ROOT = Path(__file__).resolve().parent.parent
ORDER_FIXTURE = ROOT / "tests" / "fixtures" / "reasoning" / "sok-table"
ALL = (
    "model-updates,basic-knowledge,training-details,surrogate-data,client-data-distribution,"
    "active-manipulation,client-selection"
)
VALID_LIST = (
    "valid: model-updates, basic-knowledge, training-details, surrogate-data, "
    "client-data-distribution, active-manipulation, client-selection"
)

A_B = [("A", "1"), ("A", "2")] + [("B", r) for r in ("3", "8", "12", "18", "25", "26", "27")]
D_ROWS = ["9", "13", "14", "15", "16", "17", "19", "20", "21", "22", "23", "24"]

#: Each defense's (reference numbers) rating against E and H, from the defense table's colours.
RATINGS_E_H = {
    "37": ("partial", "ineffective"),
    "38": ("partial", "partial"),
    "40": ("effective", "ineffective"),
    "41": ("effective", "effective"),
    "42,43": ("ineffective", "ineffective"),
    "14": ("ineffective", "ineffective"),
    "44": ("ineffective", "ineffective"),
    "45": ("ineffective", "ineffective"),
    **{ref: ("partial", "partial") for ref in (
        "46", "47", "48", "49", "50", "51", "52", "54", "55", "56", "57", "58", "59"
    )},
}

#: Ratings against B: partial for [42,43], [14], [44] and FedKL [59]; effective for the others.
PARTIAL_AT_B = {"42,43", "14", "44", "59"}


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["assess", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [
        # surrogate data alone adds nothing without training details
        ("model-updates,basic-knowledge,surrogate-data", ["B"]),
        (ALL, ["E", "H"]),
        ("model-updates,basic-knowledge,training-details,active-manipulation", ["F"]),
        ("basic-knowledge", []),
        ("model-updates", ["A"]),
        (
            "model-updates,basic-knowledge,training-details,surrogate-data,active-manipulation",
            ["G"],
        ),
        (" Surrogate-Data , model-updates,basic-knowledge,training-details,model-updates", ["D"]),
    ],
)
def test_strongest_threat_models(
    capabilities: str, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _json(capsys, "--capabilities", capabilities)["threat_models"] == expected


def test_json_has_exactly_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--capabilities", "model-updates,basic-knowledge,surrogate-data")
    assert list(doc) == ["threat_models", "attacks", "defenses"]
    assert all(list(a) == ["ref", "label", "threat_model", "technique"] for a in doc["attacks"])
    assert all(list(d) == ["ref", "label", "ratings"] for d in doc["defenses"])


def test_attacks_and_defenses_for_b(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--capabilities", "model-updates,basic-knowledge,surrogate-data")
    assert [(a["threat_model"], a["ref"]) for a in doc["attacks"]] == A_B
    geiping = doc["attacks"][2]
    assert geiping == {
        "ref": "3", "label": "Geiping et al. (2020)", "threat_model": "B",
        "technique": "Basic Optimization",
    }
    ratings = {d["ref"]: d["ratings"] for d in doc["defenses"]}
    assert set(ratings) == set(RATINGS_E_H)
    for ref, rating in ratings.items():
        assert rating == {"B": "partial" if ref in PARTIAL_AT_B else "effective"}, ref


def test_attacks_and_defenses_for_all_capabilities(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--capabilities", ALL)
    assert len(doc["attacks"]) == 36  # every attack of the SoK is at most E or at most H
    assert sorted(int(a["ref"]) for a in doc["attacks"]) == list(range(1, 37))
    ratings = {d["ref"]: d["ratings"] for d in doc["defenses"]}
    assert ratings == {ref: {"E": e, "H": h} for ref, (e, h) in RATINGS_E_H.items()}


def test_attacks_for_f(capsys: pytest.CaptureFixture[str]) -> None:
    caps = "model-updates,basic-knowledge,training-details,active-manipulation"
    doc = _json(capsys, "--capabilities", caps)
    expected = [*A_B, ("C", "6"), ("F", "29"), ("F", "34")]
    assert [(a["threat_model"], a["ref"]) for a in doc["attacks"]] == expected
    wen = next(a for a in doc["attacks"] if a["ref"] == "29")
    assert (wen["label"], wen["technique"]) == ("Wen et al. (2022)", "Gradient Sparsification")


def test_threat_model_letter(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--threat-model", "d")
    assert doc["threat_models"] == ["D"]
    assert [(a["threat_model"], a["ref"]) for a in doc["attacks"]] == [
        *A_B, ("C", "6"), *(("D", r) for r in D_ROWS)
    ]
    ratings = {d["ref"]: d["ratings"]["D"] for d in doc["defenses"]}
    assert ratings["56"] == "effective"  # DCS-2: green at D
    assert ratings["58"] == "partial"  # PRECODE: orange from C to H
    assert ratings["45"] == "ineffective"  # Soteria: red from D to H


def test_no_threat_model_applies_is_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "--capabilities", "basic-knowledge"]) == 0
    out = capsys.readouterr().out
    assert "No SoK threat model applies" in out
    doc = _json(capsys, "--capabilities", "basic-knowledge")
    assert doc == {"threat_models": [], "attacks": [], "defenses": []}


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "--capabilities", "model-updates,basic-knowledge,surrogate-data"]) == 0
    out = capsys.readouterr().out
    assert "Strongest matching threat models: B (Informed Eavesdropper)" in out
    assert "Feasible attacks (9): threat model B or weaker" in out
    assert "against B: 17 effective, 4 partial" in out
    assert "  B   27   Dimitrov et al. (2024)" in out


def test_text_report_names_what_still_protects(capsys: pytest.CaptureFixture[str]) -> None:
    caps = "model-updates,basic-knowledge,training-details,active-manipulation"
    assert main(["assess", "--capabilities", caps]) == 0
    out = capsys.readouterr().out
    # green at F: only [41] (A-H green) and DCS-2 [56]; red at F: [37] [40] [42,43] [14] [44] [45]
    assert "against F: 2 effective, 13 partial, 6 ineffective" in out
    assert (
        "effective against all of them: [41] Practical Secure Aggregation for "
        "Privacy-Preserving Machine Learning; [56] Concealing Sensitive Samples against Gradient "
        "Leakage in Federated Learning"  # DCS-2, unnamed since 2025-09-02
    ) in out


def test_markdown_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "--threat-model", "H", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "- **H** Active Client Manipulator" in out
    assert "| H | 31 | Boenisch et al. (2023) | Gradient Isolation |" in out
    secagg = "Practical Secure Aggregation for Privacy-Preserving Machine Learning"
    assert f"| 41 | {secagg} | effective |" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--capabilities", "model-updates,telepathy"],
            "unknown capability 'telepathy'; " + VALID_LIST,
        ),
        (["--capabilities", "model-updates } ?s ?p ?o {"], "unknown capability"),
        (["--capabilities", " , "], "expected a comma-separated list of model-updates"),
        (["--threat-model", "Z"], "unknown threat model 'Z'; valid: A, B, C, D, E, F, G, H"),
        (["--threat-model", "A", "--capabilities", "model-updates"], "not allowed with argument"),
        ([], "one of the arguments --capabilities --threat-model is required"),
        (["--threat-model", "A", "--format", "dot"],
         "--format dot: expected one of text, json, md, csv, tsv"),
    ],
)
def test_bad_input_is_exit_two(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assess", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("gia-kg: error: ")
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_graph_without_reasoned_order_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ORDER_FIXTURE / "threat-models.ttl", tmp_path / "threat-models.ttl")
    assert main(["assess", "--kg", str(tmp_path), "--threat-model", "B"]) == 2
    assert "inferred.ttl: missing; run `gia-kg reason`" in capsys.readouterr().err
    assert main(["audit", "--kg", str(tmp_path)]) == 2
    assert "run `gia-kg reason`" in capsys.readouterr().err


def test_order_comes_from_the_reasoned_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Strongest means maximal by gia:strongerThan: drop H > G and both G and H are maximal."""
    for name in ("threat-models.ttl", "inferred.ttl"):
        shutil.copy(ORDER_FIXTURE / name, tmp_path / name)
    inferred = tmp_path / "inferred.ttl"
    lines = inferred.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("tm:H gia:strongerThan tm:G")]
    assert len(kept) == len(lines) - 1
    inferred.write_text("\n".join(kept) + "\n", encoding="utf-8")
    doc = _json(capsys, "--kg", str(tmp_path), "--capabilities", ALL)
    assert doc["threat_models"] == ["E", "G", "H"]


def test_fill_values_only_takes_iris() -> None:
    text = "SELECT * WHERE { VALUES ?held { } }"
    filled = assess.fill_values(text, {"held": ["https://w3id.org/gia-kg/id/capability/x"]}, "t")
    assert filled == "SELECT * WHERE { VALUES ?held { <https://w3id.org/gia-kg/id/capability/x> } }"
    with pytest.raises(ValueError):
        assess.fill_values(text, {"held": ["x> } ?s ?p ?o { <y"]}, "t")
    with pytest.raises(QueryError, match="expected an empty 'VALUES \\?other"):
        assess.fill_values(text, {"held": [], "other": []}, "t")
