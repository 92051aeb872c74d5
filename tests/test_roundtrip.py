"""`gia-kg tables`: the SoK's three tables survive README -> graph -> Markdown cell for cell.

Both sides are read with the same table parser (kg.sok_markdown) and compared row by row, in
the source's order, every cell as written up to whitespace: blank Category/Technique cells stay
blank, multi-valued cells (models, tasks, references, links) keep the source's order and
phrasing ("Object and Face Classification"), coverage cells keep their ``<br>``. Both shared
releases are checked (copies in tests/fixtures/sok/).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from kg.cli import main
from kg.sok_markdown import SokDocument, Table, parse_document

ROOT = Path(__file__).resolve().parent.parent
SOK = ROOT / "tests" / "fixtures" / "sok"
README = SOK / "sok_gias_fl-README-2025-07-15.md"
RELEASES = [README, SOK / "sok_gias_fl-README-2025-09-02.md"]
LETTERS = "ABCDEFGH"
TABLES = ("threat-models", "attacks", "defenses")


def norm(text: str) -> str:
    return " ".join(text.split())


def cells(table: Table) -> list[list[tuple[str, str]]]:
    """Every row as ``(column, text)`` pairs in column order, text whitespace-normalised."""
    return [[(key, norm(cell.text)) for key, cell in row.cells.items()] for row in table.rows]


def headers(table: Table) -> list[str]:
    return [norm(header) for header in table.columns.values()]


def _render(readme: Path, out: Path) -> tuple[SokDocument, SokDocument]:
    assert main(["import-sok", str(readme), "-o", str(out)]) == 0
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["tables", "--kg", str(out)]) == 0
    original = parse_document(str(readme), readme.read_text(encoding="utf-8"))
    again = parse_document("rendered.md", stdout.getvalue())
    return original, again


@pytest.fixture(scope="module", params=RELEASES, ids=lambda p: p.stem.rsplit("-README-", 1)[1])
def release(request, tmp_path_factory: pytest.TempPathFactory):
    """A release's README and the tables rendered from a fresh import of it."""
    return _render(request.param, tmp_path_factory.mktemp("kg") / "data")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory):
    """The 2025-07-15 README and its rendered tables (for the hand-read spot checks)."""
    return _render(README, tmp_path_factory.mktemp("kg") / "data")


@pytest.mark.parametrize("kind", TABLES)
def test_table_round_trips_cell_for_cell_in_order(release, kind: str) -> None:
    original, again = release
    before, after = original.tables[kind], again.tables[kind]
    assert headers(after) == headers(before)
    expected, got = cells(before), cells(after)
    assert len(got) == len(expected)
    for number, (want, have) in enumerate(zip(expected, got, strict=True), 1):
        assert have == want, f"{kind} row {number}"


def test_the_releases_have_the_expected_rows(release) -> None:
    original, again = release
    sizes = {kind: len(again.tables[kind].rows) for kind in TABLES}
    assert sizes == {"threat-models": 8, "attacks": 36, "defenses": 21}
    assert [norm(r["id"].text) for r in original.tables["threat-models"].rows] == list(LETTERS)


def test_multi_valued_cells_keep_the_source_order(both) -> None:
    """The cases the issue names: model order, shared-noun tasks, defense row order."""
    _, again = both
    attacks = {norm(r["work"].text): r for r in again.tables["attacks"].rows}
    assert attacks["Usynin et al. (2023) [9]"]["model"].text == "VGG, ResNet"
    assert attacks["Zhu et al. (2019) [1]"]["task"].text == "Object and Face Classification"
    works = [norm(r["work"].text) for r in again.tables["defenses"].rows]
    assert works.index("[42,43]") + 1 == works.index("[14]")


def test_reference_list_round_trip(both) -> None:
    original, again = both
    assert sorted(again.references) == list(range(1, 60))
    for number, entry in original.references.items():
        copy = again.references[number]
        assert (copy.title, copy.venue, copy.citation_text) == (
            entry.title, entry.venue, entry.citation_text), number
        assert sorted(copy.links) == sorted(entry.links), number


def test_spot_cells_of_the_rendered_tables(both) -> None:
    """A few cells as printed, read by hand from the README."""
    _, again = both
    attacks = {norm(r["work"].text): r for r in again.tables["attacks"].rows}
    assert attacks["Yue et al. (2023) [14]"]["batch"].text == "5×16"
    assert attacks["Fowl et al. (2022) [28]"]["model"].text == "Model Agnostic²"
    assert attacks["Fowl et al. (2022) [28]"]["algorithm"].text == "Both"
    assert attacks["Liu et al. (2025) [16]"]["resolution"].text == "N/A"
    assert attacks["Hatamizadeh et al. (2022) [5]"]["labels"].text == "[4]"
    defenses = {norm(r["work"].text): r for r in again.tables["defenses"].rows}
    assert defenses["[42,43]"]["coverage"].text == (
        "A (green) B (orange) - C (orange) D (red) - H (red)")
    assert defenses["[37]"]["year"].text == "N/A"
    assert defenses["PRECODE [58]"]["code"].text == "[link](https://github.com/dAI-SY-Group/PRECODE)"


def test_tables_command_reads_the_graph_not_a_cache(data_copy: Path, capsys) -> None:
    path = data_copy / "defenses.ttl"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '"Variational block adding randomness"', '"Edited in the graph"'), encoding="utf-8")
    assert main(["tables", "--kg", str(data_copy), "--no-references"]) == 0
    out = capsys.readouterr().out
    assert "[58] | 2022 | Client | A (green) - B (green) C (orange) - H (orange) | " \
           "Edited in the graph |" in out  # kg/data's release may or may not name PRECODE
    assert "Variational block" not in out
    assert "## References" not in out


def test_tables_on_a_missing_folder_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["tables", "--kg", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
