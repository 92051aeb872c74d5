"""CLI conventions: help on every command, --version, exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kg
from kg.cli import build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gia-kg {kg.__version__}"


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands: dict = {}
    build_parser(commands)
    assert {"reason", "order"} <= set(commands)
    for name in commands:
        assert main([name, "--help"]) == 0, name
        assert "usage: gia-kg" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["order", "--format", "svg"], "--format svg: expected one of text, csv, dot"),
        (["--kg", "/nonexistent/folder", "order"], "--kg /nonexistent/folder: not a folder"),
        (["order", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("gia-kg: error: ") and err.count("\n") == 1
    assert expected in err
    assert "Traceback" not in err + captured.out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: gia-kg" in capsys.readouterr().out


def test_console_entry_point_has_no_traceback_on_bad_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kg", "--kg", "/nonexistent", "order"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_order_csv_is_exactly_the_hasse_edges(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "stronger,weaker"
    # by hand from the SoK's Threat Models table
    assert sorted(lines[1:]) == ["B,A", "C,B", "D,C", "E,D", "F,C", "G,D", "G,F", "H,G"]


def test_order_csv_all_is_the_strict_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order", "--format", "csv", "--all"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 24
    assert "H,A" in rows and "E,F" not in rows and "F,E" not in rows


def test_order_text_names_incomparable_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order"]) == 0
    out = capsys.readouterr().out
    for pair in ("E || F", "E || G", "E || H"):
        assert pair in out
    assert "D || F" in out  # D has surrogate data, F active manipulation: neither includes the other
    assert "H > G" in out and "G > H" not in out


def test_order_dot_is_graphviz_with_stars(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order", "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("digraph")
    assert 'A [label="A: Eavesdropper\\n★★★"];' in out
    assert 'H [label="H: Active Client Manipulator\\n★☆☆"];' in out
    assert "  G -> H;" in out and out.count(" -> ") == 8
