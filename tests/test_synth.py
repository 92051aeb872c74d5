"""The synthetic benchmark corpus (benchmarks/synth.py), at small scales so the test stays fast.

Expected counts are read off the SoK README's tables by hand: 36 attack rows, 21 defense rows
(DP-based 2, Cryptography-Based 2, Gradient Perturbation 7, Learning Algorithm Modification 7,
Model Modification 3), each defense rated against the 8 threat models, and every defense row
rated green against threat model A.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import synth
from kg import store
from kg.cli import main
from kg.engine import Dataset, dataset_files
from kg.paths import DATA_DIR

SOK_ATTACKS = 36
SOK_DEFENSES = 21
PREFIXES = (
    "PREFIX gia: <https://w3id.org/gia-kg/ontology#>\n"
    "PREFIX tm: <https://w3id.org/gia-kg/id/threat-model/>\n"
)


def dataset(folder: Path) -> Dataset:
    files = dataset_files(folder)
    return Dataset(store.memory_store(files), files)


def count(data: Dataset, where: str) -> int:
    rows = data.select(f"{PREFIXES}SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}").rows
    return int(rows[0][0].value)


@pytest.fixture(scope="module")
def scale3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "scale-3"
    synth.generate(out, 3)
    return out


def test_scale_1_is_the_sok(tmp_path: Path) -> None:
    synth.generate(tmp_path / "s1", 1)
    data = dataset(tmp_path / "s1")
    assert count(data, "?x a gia:Attack") == SOK_ATTACKS
    assert count(data, "?x a gia:Defense") == SOK_DEFENSES
    assert count(data, "?x a gia:Assessment") == 8 * SOK_DEFENSES
    assert len(data) == len(dataset(DATA_DIR))
    copied = [n for n in ("threat-models.ttl", "inferred.ttl") if (DATA_DIR / n).exists()]
    assert "threat-models.ttl" in copied
    for name in copied:
        assert (tmp_path / "s1" / name).read_bytes() == (DATA_DIR / name).read_bytes()


def test_scale_3_counts_and_distinct_iris(scale3: Path) -> None:
    data = dataset(scale3)
    assert count(data, "?x a gia:Attack") == 3 * SOK_ATTACKS
    assert count(data, "?x a gia:Defense") == 3 * SOK_DEFENSES
    assert count(data, "?x a gia:Assessment") == 3 * 8 * SOK_DEFENSES
    assert count(data, "?d gia:hasAssessment ?x") == 3 * 8 * SOK_DEFENSES
    # Re-drawn coverage vectors are whole rows of the SoK: every defense is green against A.
    green_a = "?d gia:hasAssessment ?x . ?x gia:threatModel tm:A ; gia:level gia:Effective"
    assert count(data, green_a) == 3 * SOK_DEFENSES
    duplicates = data.select(
        f"{PREFIXES}SELECT ?n WHERE {{ ?a gia:referenceNumber ?n . ?b gia:referenceNumber ?n . "
        "FILTER (?a != ?b) }"
    )
    assert duplicates.rows == []
    assert "precode-s2" in (scale3 / "defenses.ttl").read_text(encoding="utf-8")


def test_deterministic(scale3: Path, tmp_path: Path) -> None:
    synth.generate(tmp_path / "again", 3)
    for path in sorted(scale3.glob("*.ttl")):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name
    synth.generate(tmp_path / "other", 3, seed=1)
    other = (tmp_path / "other" / "attacks.ttl").read_bytes()
    assert other != (scale3 / "attacks.ttl").read_bytes()


def test_scale_2_passes_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth.generate(tmp_path / "s2", 2)
    assert main(["--kg", str(tmp_path / "s2"), "validate"]) == 0, capsys.readouterr().out


def test_bad_scale(tmp_path: Path) -> None:
    assert synth.main(["--scale", "0", str(tmp_path / "x")]) == 2
