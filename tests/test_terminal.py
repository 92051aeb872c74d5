"""Terminal output (issue 13): fit the width, colour the levels, IRIs unlike strings, star legend.

Expected values are written by hand from the SoK README's defense table (tests/fixtures/sok,
2025-09-02): 21 defense rows x 8 threat models = 168 cells, 55 green (effective), 87 orange
(partial), 26 red (ineffective); row [56] is the one that alternates: A-B green, C orange, D green,
E orange, F green, G-H orange. SGR colours: 32 green, 33 yellow/orange, 31 red.
"""

from __future__ import annotations

import io
import re
import sys
from collections import Counter

import pyoxigraph as ox
import pytest

from kg import audit, queries
from kg.cli import main
from kg.errors import UsageError
from kg.results import aligned, compact, format_table
from kg.terminal import Terminal, detect, shorten, visible_width, wrap

REFS = ["14", "37", "38", "40", "41", "42,43", "44", "45", "46", "47", "48", "49", "50", "51", "52",
        "54", "55", "56", "57", "58", "59"]
LEVEL_COUNTS = {"effective": 55, "partial": 87, "ineffective": 26}
ROW_56 = ["effective", "effective", "partial", "effective", "partial", "effective", "partial",
          "partial"]
GREEN, ORANGE, RED, RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[0m"
#: Any SGR sequence, written here independently of kg.terminal.
SGR = re.compile(r"\x1b\[[0-9;]*m")


class FakeTty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def matrix() -> object:
    return queries.run_saved("coverage-matrix", {})


@pytest.fixture(autouse=True)
def _no_terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "COLUMNS", "TERM"):
        monkeypatch.delenv(name, raising=False)


def tokens(text: str) -> Counter[str]:
    return Counter(SGR.sub("", text).split())


# ---------------------------------------------------------------- fitting


def test_matrix_at_width_100_fits_and_keeps_every_ref_and_level(matrix: object) -> None:
    out = format_table(matrix, "text", terminal=Terminal(100, False))
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    seen = tokens(out)
    for ref in REFS:
        assert seen[ref] >= 1, ref
    assert {level: seen[level] for level in LEVEL_COUNTS} == LEVEL_COUNTS
    # Too narrow for the matrix (ref + 8 level columns alone need 103): one block per defense.
    block = out.split("\n\n")[REFS.index("56")].splitlines()
    assert block[0].split() == ["ref", "56"]
    assert [line.split() for line in block[2:10]] == [[tm, lv] for tm, lv in zip("ABCDEFGH", ROW_56, strict=True)]
    assert block[1] == "label    Concealing Sensitive Samples against Gradient Leakage in Federated Learning"
    assert block[-1].startswith("defense  defense:")
    assert lines[-1] == "(21 rows)"


def test_matrix_at_width_160_shortens_labels_and_keeps_levels_whole(matrix: object) -> None:
    out = format_table(matrix, "text", terminal=Terminal(160, False))
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 160
    assert len(lines) == 2 + 21 + 1  # one line per defense: still a matrix
    assert lines[0].split()[:10] == ["ref", "label", *"ABCDEFGH"]
    row = next(line for line in lines if line.startswith("56 "))
    assert row.split()[-9:-1] == ROW_56  # the 8 levels, then the shortened defense IRI
    assert "…" in row and "Concealing Sensitive Samples against Gradient Leakage" not in row
    assert {level: tokens(out)[level] for level in LEVEL_COUNTS} == LEVEL_COUNTS


def test_wide_enough_or_no_width_is_the_plain_text(matrix: object) -> None:
    plain = format_table(matrix, "text")
    assert max(len(line) for line in plain.splitlines()) == 252  # the 252 columns
    assert format_table(matrix, "text", terminal=Terminal(None, False)) == plain
    assert format_table(matrix, "text", terminal=Terminal(252, False)) == plain
    assert format_table(matrix, "csv", terminal=Terminal(80, True)) == format_table(matrix, "csv")


def test_audit_wraps_evidence_under_its_column() -> None:
    out = format_table(audit.audit(None), "text", terminal=Terminal(100, False))
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    column = lines[0].index("evidence")
    start = next(i for i, line in enumerate(lines) if line.startswith("bypass-vs-rating "))
    first = lines[start]
    assert first.split()[:2] == ["bypass-vs-rating", "58"]  # finding and ref whole
    following = []
    for line in lines[start + 1:]:
        if line[:column].strip():
            break
        following.append(line[column:])
    assert following, "the evidence continues on lines indented under its column"
    text = " ".join([first[column:], *following])
    assert text == ('weakness "Proven ineffective against advanced GIAs [14]" cites Yue et al. (2023) '
                    "[14] (threat model D), but rated partial against D")
    assert "PRECODE - A Generic" in first and "…" in first  # the label is shortened


def test_small_widths_fit_every_line() -> None:
    rows = [["1", "a label that is far too long for this terminal", "effective"]]
    for width in (20, 30, 45):
        lines = aligned(["ref", "label", "level"], rows, terminal=Terminal(width, False))
        assert max(visible_width(line) for line in lines) <= width, lines


def test_text_helpers() -> None:
    assert shorten("abcdef", 4) == "abc…"
    assert shorten("abcd", 4) == "abcd"
    assert wrap("aa bb cc", 5) == ["aa bb", "cc"]
    assert wrap("abcdefgh", 3) == ["abc", "def", "gh"]
    assert visible_width("漢字") == 4 and visible_width(f"{GREEN}ok{RESET}") == 2


def test_control_characters_do_not_reach_the_terminal() -> None:
    lines = aligned(["x"], [["a\x1b[2Jb\nc"]], terminal=Terminal(80, False))
    assert lines[2] == "a\ufffd[2Jb c"


# ---------------------------------------------------------------- colour


def test_colour_marks_levels_and_keeps_the_visible_text(matrix: object) -> None:
    for width in (None, 160, 100):
        plain = format_table(matrix, "text", terminal=Terminal(width, False)) if width else \
            format_table(matrix, "text")
        coloured = format_table(matrix, "text", terminal=Terminal(width, True))
        assert SGR.sub("", coloured) == plain
        assert coloured.count(f"{GREEN}effective{RESET}") == 55
        assert coloured.count(f"{ORANGE}partial{RESET}") == 87
        assert coloured.count(f"{RED}ineffective{RESET}") == 26
    line = next(x for x in coloured.splitlines() if "ref" in x)
    assert "\x1b" not in line  # headers are not coloured


def test_colour_pads_on_the_visible_width() -> None:
    lines = aligned(["a", "b"], [["effective", "x"], ["partial", "y"]], terminal=Terminal(None, True))
    assert lines[2] == f"{GREEN}effective{RESET}  x"
    assert lines[3] == f"{ORANGE}partial{RESET}    y"


@pytest.mark.parametrize(
    ("tty", "choice", "no_color", "expected"),
    [
        (True, "auto", None, True),
        (True, "auto", "1", False),
        (True, "auto", "", True),  # only a non-empty NO_COLOR disables
        (True, "always", "1", True),  # always wins over NO_COLOR
        (True, "never", None, False),
        (False, "auto", None, False),
        (False, "always", None, True),
        (False, "never", "1", False),
    ],
)
def test_color_choice_and_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, choice: str, no_color: str | None, expected: bool
) -> None:
    if no_color is not None:
        monkeypatch.setenv("NO_COLOR", no_color)
    stream = FakeTty() if tty else io.StringIO()
    assert detect(stream, choice).color is expected


def test_dumb_terminal_gets_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert detect(FakeTty(), "auto").color is False
    assert detect(FakeTty(), "always").color is True


def test_width_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert detect(FakeTty()) == Terminal(100, True)
    assert detect(io.StringIO()) == Terminal(None, False)  # a pipe: today's full text
    assert detect(io.StringIO(), "never", width=90) == Terminal(90, False)
    monkeypatch.setenv("COLUMNS", "wide")  # not a number: ignored, not an error
    assert detect(io.StringIO()).width is None


def test_bad_choice_or_width_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--color sometimes: expected one of auto, always, never"):
        detect(io.StringIO(), "sometimes")
    with pytest.raises(UsageError, match="terminal width 0: expected a positive number"):
        Terminal(0, False)


def test_cli_on_a_terminal_fits_and_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    screen = FakeTty()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["query", "coverage-matrix"]) == 0
    out = screen.getvalue()
    assert max(len(SGR.sub("", line)) for line in out.splitlines()) <= 100
    assert out.count(f"{GREEN}effective{RESET}") == 55

    monkeypatch.setenv("NO_COLOR", "1")
    screen = FakeTty()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["query", "coverage-matrix"]) == 0
    assert "\x1b" not in screen.getvalue() and "effective" in screen.getvalue()


def test_cli_in_a_pipe_is_plain_unless_always(
    matrix: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["query", "coverage-matrix"]) == 0
    assert capsys.readouterr().out == format_table(matrix, "text")
    assert main(["--color", "always", "query", "coverage-matrix"]) == 0
    out = capsys.readouterr().out
    assert out.count(f"{RED}ineffective{RESET}") == 26
    assert SGR.sub("", out) == format_table(matrix, "text")  # coloured, but not fitted


# ---------------------------------------------------------------- IRIs and literals


def test_iris_and_literals_never_look_the_same() -> None:
    assert compact(ox.NamedNode("https://w3id.org/gia-kg/id/threat-model/G")) == "tm:G"
    assert compact(ox.NamedNode("http://example.org/x")) == "<http://example.org/x>"
    assert compact(ox.NamedNode("https://w3id.org/gia-kg/id/defense/a/b")) == \
        "<https://w3id.org/gia-kg/id/defense/a/b>"  # no valid local name: the full IRI
    assert compact(ox.Literal("http://example.org/x")) == "http://example.org/x"
    assert compact(ox.Literal("Eavesdropper")) == "Eavesdropper"
    assert compact(ox.Literal("a:b")) == "a:b"  # not a project prefix: cannot be read as one
    assert compact(ox.Literal("tm:G")) == '"tm:G"'
    assert compact(ox.Literal("<http://example.org/x>")) == '"<http://example.org/x>"'
    assert compact(ox.BlankNode("b1")) == "_:b1"
    assert compact(ox.Literal("_:b1")) == '"_:b1"'


def test_sparql_table_shows_a_foreign_iri_in_angle_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    query = ('SELECT ?iri ?text WHERE { BIND(<http://example.org/x> AS ?iri) '
             'BIND("http://example.org/x" AS ?text) }')
    assert main(["sparql", query]) == 0
    assert capsys.readouterr().out.splitlines()[2].split() == ["<http://example.org/x>",
                                                               "http://example.org/x"]
    assert main(["sparql", query, "--format", "csv"]) == 0  # the exchange formats are unchanged
    assert capsys.readouterr().out == "iri,text\r\nhttp://example.org/x,http://example.org/x\r\n"


# ---------------------------------------------------------------- order legend


def test_order_text_explains_the_stars(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order"]) == 0
    lines = capsys.readouterr().out.splitlines()
    legend = lines.index("Stars: the SoK's Real-World Applicability rating of the threat model")
    assert lines[legend - 1].split() == ["H", "Active", "Client", "Manipulator", "★☆☆"]
    assert lines[legend + 1:legend + 4] == [
        "  ★★★ = highly applicable and less detectable",
        "  ★★☆ = potentially applicable (depends on specific configuration)",
        "  ★☆☆ = less applicable and more detectable",
    ]
    assert lines[legend + 4] == "Hasse diagram (derived by HermiT):"


def test_order_csv_and_dot_have_no_legend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stronger,weaker\n") and "Stars" not in out and len(out.splitlines()) == 9
    assert main(["order", "--format", "dot"]) == 0
    assert "Applicability" not in capsys.readouterr().out
