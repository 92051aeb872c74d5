"""OWL 2 DL profile check with the OWL API (Debian's libowlapi-java), over ontology + all data."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kg.loading import load_graph
from tests.conftest import ROOT

JARS = Path("/usr/share/java")
CHECKER = ROOT / "tests" / "owlapi" / "OwlProfileCheck.java"


def _classpath() -> str | None:
    if shutil.which("java") is None or not (JARS / "owlapi-distribution.jar").exists():
        return None
    return ":".join(str(p) for p in sorted(JARS.glob("*.jar")))


@pytest.mark.skipif(_classpath() is None, reason="needs Java and libowlapi-java (.ci/run installs it)")
def test_ontology_and_data_are_owl2_dl(tmp_path: Path) -> None:
    merged = tmp_path / "merged.ttl"
    load_graph().serialize(merged, format="turtle")
    result = subprocess.run(
        ["java", "-cp", _classpath(), str(CHECKER), str(merged)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "violations=0" in result.stdout
