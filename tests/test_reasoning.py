"""The threat-model order is derived by HermiT; expected edges are written by hand from the SoK table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg import reasoning
from kg.cli import main
from kg.errors import ReasonerError
from kg.namespaces import PREFIXES
from tests.conftest import FIXTURES, ROOT

TM = PREFIXES["tm"]

# Hasse edges read off the SoK's Threat Models table (capability-set inclusion), by hand.
EXPECTED_HASSE = {
    ("B", "A"), ("C", "B"), ("D", "C"), ("F", "C"), ("E", "D"), ("G", "D"), ("G", "F"), ("H", "G"),
}
# Every strict pair, also by hand: X > Y when X's ✔️ columns include Y's.
EXPECTED_STRICT = {
    ("B", "A"),
    ("C", "A"), ("C", "B"),
    ("D", "A"), ("D", "B"), ("D", "C"),
    ("E", "A"), ("E", "B"), ("E", "C"), ("E", "D"),
    ("F", "A"), ("F", "B"), ("F", "C"),
    ("G", "A"), ("G", "B"), ("G", "C"), ("G", "D"), ("G", "F"),
    ("H", "A"), ("H", "B"), ("H", "C"), ("H", "D"), ("H", "F"), ("H", "G"),
}


def _letters(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(a[len(TM):], b[len(TM):]) for a, b in pairs}


@pytest.fixture(scope="module")
def strict_from_hermit() -> set[tuple[str, str]]:
    graph = reasoning._threat_model_graph(FIXTURES / "reasoning" / "sok-table")
    return _letters(reasoning.classify(graph, reasoning._adversary_classes(graph)))


def test_hermit_derives_the_strict_order(strict_from_hermit: set[tuple[str, str]]) -> None:
    assert strict_from_hermit == EXPECTED_STRICT


def test_e_is_incomparable_with_f_g_h(strict_from_hermit: set[tuple[str, str]]) -> None:
    for other in "FGH":
        assert ("E", other) not in strict_from_hermit
        assert (other, "E") not in strict_from_hermit


def test_covering_relation_is_the_hasse_diagram() -> None:
    strict = {(TM + a, TM + b) for a, b in EXPECTED_STRICT}
    assert _letters(reasoning.covering(strict)) == EXPECTED_HASSE


def test_order_follows_the_capabilities_not_a_hand_written_order(tmp_path: Path) -> None:
    # Drop surrogate data from G's class: G then has exactly F's capabilities, so HermiT makes the
    # two classes equivalent (not strictly ordered) and G no longer dominates D; H stays above G.
    folder = tmp_path / "tm"
    folder.mkdir()
    text = (FIXTURES / "reasoning" / "sok-table" / "threat-models.ttl").read_text()
    g_block = text[text.index("adv:G a owl:Class"):text.index("tm:H a")]
    edited = text.replace(
        g_block, g_block.replace(
            "    [ a owl:Restriction ; owl:onProperty gia:hasCapability ; owl:hasValue cap:surrogate-data ]\n", ""
        )
    )
    assert edited != text
    (folder / "threat-models.ttl").write_text(edited)
    graph = reasoning._threat_model_graph(folder)
    strict, equivalent = reasoning.classify_order(graph, reasoning._adversary_classes(graph))
    strict = _letters(strict)
    assert ("G", "D") not in strict
    assert ("G", "F") not in strict and ("F", "G") not in strict
    assert ("H", "G") in strict and ("G", "C") in strict
    # the equivalence is kept (not dropped), and G inherits F's place: H > F, G > C, nothing more
    assert _letters(equivalent) == {("F", "G"), ("G", "F")}
    assert {b for a, b in strict if a == "G"} == {"A", "B", "C"}
    assert {(TM + "G", TM + "C"), (TM + "F", TM + "C")} <= reasoning.covering(
        {(TM + a, TM + b) for a, b in strict}
    )


def test_committed_inferred_file_is_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reason", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_committed_inferred_file_has_the_hand_written_edges() -> None:
    text = (ROOT / "kg" / "data" / "inferred.ttl").read_text()
    direct = {tuple(line.replace("tm:", "").split()[::2][:2])
              for line in text.splitlines() if "gia:directlyStrongerThan" in line}
    assert direct == EXPECTED_HASSE


def test_check_fails_on_a_tampered_file(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inferred = data_copy / "inferred.ttl"
    inferred.write_text(inferred.read_text().replace("tm:H gia:directlyStrongerThan tm:G .\n", ""))
    assert main(["--kg", str(data_copy), "reason", "--check"]) == 1
    err = capsys.readouterr().err
    assert "stale" in err and "missing: tm:H gia:directlyStrongerThan tm:G" in err


def test_check_fails_when_an_edge_is_added(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inferred = data_copy / "inferred.ttl"
    inferred.write_text(inferred.read_text() + "tm:E gia:strongerThan tm:F .\n")
    assert main(["--kg", str(data_copy), "reason", "--check"]) == 1
    assert "unexpected: tm:E gia:strongerThan tm:F" in capsys.readouterr().err


def test_reason_rewrites_a_stale_file(data_copy: Path) -> None:
    inferred = data_copy / "inferred.ttl"
    original = inferred.read_text()
    inferred.write_text("# stale\n")
    assert main(["--kg", str(data_copy), "reason"]) == 0
    assert inferred.read_text() == original


def test_missing_java_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ReasonerError):
        reasoning.render_inferred(data_copy)
    assert main(["--kg", str(data_copy), "reason"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gia-kg: error: Java not found") and "\n" not in err


def test_missing_threat_models_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other.ttl").write_text("")
    assert main(["--kg", str(tmp_path), "reason"]) == 2
    assert "threat-models.ttl: missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["order"],
        ["query", "attacks-feasible", "-p", "threat_model=D"],
        ["export", "--inferred"],
        ["sparql", "ASK { ?a gia:strongerThan ?b }"],
    ],
)
def test_commands_refuse_a_folder_without_the_order(
    argv: list[str], data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_copy / "inferred.ttl").unlink()
    assert main(["--kg", str(data_copy), *argv]) == 2
    err = capsys.readouterr().err
    assert "inferred.ttl: missing; run `gia-kg reason`" in err and err.count("\n") == 1


def test_commands_refuse_an_order_derived_from_other_capabilities(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Give D's adversary class active manipulation too, without re-reasoning: D then has exactly
    # G's capabilities, so after `reason` G is no longer strictly stronger than D.
    source = data_copy / "threat-models.ttl"
    text = source.read_text()
    start = text.index("adv:D a owl:Class")
    end = text.index(") ] .", start)
    extra = "[ a owl:Restriction ; owl:hasValue cap:active-manipulation ; owl:onProperty gia:hasCapability ] "
    source.write_text(text[:end] + extra + text[end:])
    assert main(["--kg", str(data_copy), "order", "--format", "csv"]) == 2
    assert "inferred.ttl: stale" in capsys.readouterr().err
    assert main(["--kg", str(data_copy), "reason", "--check"]) == 1
    capsys.readouterr()
    assert main(["--kg", str(data_copy), "reason"]) == 0
    capsys.readouterr()
    assert main(["--kg", str(data_copy), "order", "--format", "csv", "--all"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert "G,D" not in rows and "D,G" not in rows and "H,D" in rows


def test_export_without_inferred_needs_no_order(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_copy / "inferred.ttl").unlink()
    assert main(["--kg", str(data_copy), "export", "--format", "nt"]) == 0
    assert "> <https://w3id.org/gia-kg/ontology#strongerThan> <" not in capsys.readouterr().out


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/evil.owl", "file:///etc/passwd"])
def test_owl_imports_are_not_followed(data_copy: Path, target: str) -> None:
    """The review's attack: an import that says A ⊑ H became the order. Now nothing is fetched."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    with (data_copy / "threat-models.ttl").open("a", encoding="utf-8") as handle:
        handle.write(f"\n<https://w3id.org/gia-kg/ontology> <http://www.w3.org/2002/07/owl#imports> "
                     f"<{target.format(port=port)}> .\n")
    try:
        assert main(["--kg", str(data_copy), "reason"]) == 0
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    graph = reasoning._threat_model_graph(data_copy)
    assert _letters(reasoning.classify(graph, reasoning._adversary_classes(graph))) == EXPECTED_STRICT
    text = (data_copy / "inferred.ttl").read_text(encoding="utf-8")
    assert "tm:A gia:strongerThan" not in text
