"""The README stays in step with the code: commands, saved queries, benchmark table."""

from __future__ import annotations

from kg.cli import build_parser
from kg.queries import load_catalog
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README[README.index("```sh"):README.index("```", README.index("```sh") + 3)]
    assert "make demo" in first_block and "make test" in first_block


def test_every_command_is_in_the_cli_table() -> None:
    commands: dict = {}
    build_parser(commands)
    for name in commands:
        assert f"`gia-kg {name}" in README, name


def test_every_saved_query_is_documented() -> None:
    for name in load_catalog():
        assert f"`{name}`" in README, name


def test_benchmark_table_is_the_generated_one() -> None:
    results = (ROOT / "benchmarks" / "results.md").read_text(encoding="utf-8")
    body = results.split("\n", 1)[1].strip("\n")
    start = README.index("<!-- benchmarks:start -->") + len("<!-- benchmarks:start -->")
    assert README[start:README.index("<!-- benchmarks:end -->")].strip("\n") == body
