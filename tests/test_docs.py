"""The README and docs/ stay in step with the code: commands, saved queries, examples, links, tables."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from kg.cli import build_parser, main
from kg.queries import load_catalog
from tests.conftest import ROOT

README_PATH = ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
#: The README is the newcomer's page; the rest lives in docs/ (issue 13).
README_MAX_BYTES = 12_000
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of ``text``, up to the next level-2 heading."""
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = text.find("\n## ", start)
    return text[start:] if end < 0 else text[start:end]


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans, where links are not links."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, code marks and punctuation dropped, spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (a repeated heading gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README[README.index("```sh"):README.index("```", README.index("```sh") + 3)]
    assert "make demo" in first_block and "make test" in first_block


def test_the_path_line_follows_the_two_commands() -> None:
    after = README.index("```", README.index("```sh") + 3) + 3
    text = README[after:README.index("\n## ", after)]
    assert "`.venv/bin/gia-kg`" in text and "`source .venv/bin/activate`" in text


def test_readme_stays_short() -> None:
    size = len(README.encode("utf-8"))
    assert size < README_MAX_BYTES, f"README.md is {size} bytes: move details into docs/"


def test_every_command_has_one_row_in_the_cli_table() -> None:
    commands: dict = {}
    build_parser(commands)
    rows = [line for line in section(README, "## The CLI at a glance").splitlines()
            if line.startswith("| `gia-kg ")]
    for name in commands:
        mine = [row for row in rows if re.match(rf"\| `gia-kg {re.escape(name)}[ `]", row)]
        assert len(mine) == 1, (name, mine)
    assert len(rows) == len(commands)


def test_every_saved_query_is_documented() -> None:
    for name in load_catalog():
        assert f"`{name}`" in README, name


def test_benchmark_table_is_the_generated_one() -> None:
    results = (ROOT / "benchmarks" / "results.md").read_text(encoding="utf-8")
    body = results.split("\n", 1)[1].strip("\n")
    doc = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    start = doc.index("<!-- benchmarks:start -->") + len("<!-- benchmarks:start -->")
    assert doc[start:doc.index("<!-- benchmarks:end -->")].strip("\n") == body


def test_the_readme_links_every_docs_file() -> None:
    targets = {target.split("#")[0] for target in LINK.findall(prose(README))}
    for path in DOCS:
        assert f"docs/{path.name}" in targets, path.name


@pytest.mark.parametrize("page", [README_PATH, *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link names a file of the repository (a clone has nothing beside it) and anchor."""
    broken = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, broken


def test_slug_follows_github() -> None:
    """Hand-written anchors as GitHub renders them."""
    assert slug("Saved queries (`queries/*.rq`)") == "saved-queries-queriesrq"
    assert slug("`gia-kg audit`: where is the SoK itself inconsistent?") == \
        "gia-kg-audit-where-is-the-sok-itself-inconsistent"
    assert slug("Source, license and citation") == "source-license-and-citation"


def test_the_python_api_example_is_the_documented_one() -> None:
    blocks = re.findall(r"```python\n(.*?)```", section(README, "## Python API"), re.S)
    assert blocks == ['from kg import KnowledgeGraph\ng = KnowledgeGraph()\n'
                      'r = g.query("defenses-cover-but-not", covered="E", uncovered="F")\n'
                      "print(r.columns); print(r.to_dicts()[:2])\n"]


def test_the_python_api_example_runs(capsys) -> None:
    """The README's example gives the CLI's answer: one defense, secure aggregation [40] (SoK table)."""
    code = re.findall(r"```python\n(.*?)```", section(README, "## Python API"), re.S)[0]
    namespace: dict = {}
    exec(compile(code, "README.md#python-api", "exec"), namespace)
    result = namespace["r"]
    assert list(result.columns)[:4] == ["ref", "label", "covered_level", "uncovered_level"]
    rows = result.to_dicts()
    assert len(rows) == 1
    assert str(rows[0]["ref"]) == "40"
    assert str(rows[0]["label"]) == "Sok: Secure aggregation based on cryptographic schemes for federated learning"
    assert "covered_level" in capsys.readouterr().out


def console_examples() -> list[tuple[str, str, list[str]]]:
    """``(page, command, expected lines)`` of every ``$ gia-kg`` line in a ```console block."""
    out = []
    for page in [README_PATH, *DOCS]:
        for block in re.findall(r"^```console\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S):
            for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
                command, *expected = chunk.rstrip("\n").split("\n")
                out.append((page.relative_to(ROOT).as_posix(), command, expected))
    return out


def matches(expected: list[str], actual: str) -> bool:
    """A line ``...`` stands for any lines, a line ending in ``…`` for any line starting so."""
    pattern = ""
    for line in expected:
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        elif line.endswith("…"):
            pattern += re.escape(line[:-1]) + r"[^\n]*\n"
        else:
            pattern += re.escape(line) + r"\n"
    return re.fullmatch(pattern, actual) is not None


def test_matches_elisions() -> None:
    assert matches(["a", "...", "d"], "a\nb\nc\nd\n")
    assert matches(["a", "...", "b"], "a\nb\n")
    assert matches(["ab…"], "abcdef\n")
    assert not matches(["a", "d"], "a\nb\nd\n")
    assert not matches(["ab…"], "xabc\n")


@pytest.mark.parametrize(("page", "command", "expected"), console_examples(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_console_examples_are_the_real_output(page: str, command: str, expected: list[str], capsys) -> None:
    argv = shlex.split(command, comments=True)
    assert argv[0] == "gia-kg", (page, command)
    assert main(argv[1:]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert matches(expected, out), f"{page}: `{command}` now prints:\n{out}"
