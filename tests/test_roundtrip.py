"""`gia-kg tables`: every cell of the SoK's three tables survives README -> graph -> Markdown.

Both sides are read with the same table parser (kg.sok_markdown). Cells are compared
whitespace-normalised; blank Category/Technique cells are carried down on both sides;
multi-valued cells (models, tasks, links) as sorted items; coverage cells as 8 levels.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from kg.cli import main
from kg.coverage import parse_coverage
from kg.sok_markdown import Table, parse_document

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "tests" / "fixtures" / "sok" / "sok_gias_fl-README-2025-07-15.md"
LETTERS = "ABCDEFGH"


def norm(text: str) -> str:
    return " ".join(text.split())


def items(text: str) -> list[str]:
    return sorted(norm(i) for i in text.split(",") if i.strip())


def tasks(text: str) -> list[str]:
    """'Object and Face Classification' names two tasks (written here, not imported)."""
    out = []
    for item in items(text):
        match = re.fullmatch(r"(.+?) and (.+) (\S+)", item)
        out += [f"{match[1]} {match[3]}", f"{match[2]} {match[3]}"] if match else [item]
    return sorted(out)


def coverage(text: str) -> dict[str, str]:
    return parse_coverage(text, LETTERS, ["green", "orange", "red"])


def rows(table: Table, key: str, carried: tuple[str, ...] = ()) -> dict[str, dict[str, object]]:
    """Rows keyed by one column, cells normalised by column kind, blanks carried down."""
    result: dict[str, dict[str, object]] = {}
    above: dict[str, str] = {}
    for row in table.rows:
        cells: dict[str, object] = {}
        for name, cell in row.cells.items():
            text = norm(cell.text)
            if name in carried:
                text = text or above.get(name, "")
                above[name] = text
            if name == "model":
                cells[name] = items(text)
            elif name == "task":
                cells[name] = tasks(text)
            elif name == "coverage":
                cells[name] = coverage(text)
            elif name == "code":
                cells[name] = sorted(text.split())
            else:
                cells[name] = text
        result[norm(row[key].text)] = cells
    return result


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory):
    """The README's tables and the tables rendered from a fresh import of it."""
    out = tmp_path_factory.mktemp("kg") / "data"
    assert main(["import-sok", str(README), "-o", str(out)]) == 0
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["tables", "--kg", str(out)]) == 0
    original = parse_document(str(README), README.read_text(encoding="utf-8"))
    again = parse_document("rendered.md", stdout.getvalue())
    return original, again


def test_threat_model_table_round_trip(both) -> None:
    original, again = both
    before = rows(original.tables["threat-models"], "id")
    after = rows(again.tables["threat-models"], "id")
    assert list(before) == list(LETTERS)
    assert after == before


def test_attack_table_round_trip(both) -> None:
    original, again = both
    carried = ("category", "technique")
    before = rows(original.tables["attacks"], "work", carried)
    after = rows(again.tables["attacks"], "work", carried)
    assert len(before) == 36
    assert list(after) == list(before)  # same rows, same order
    for work, cells in before.items():
        assert after[work] == cells, work


def test_defense_table_round_trip(both) -> None:
    original, again = both
    carried = ("category", "technique")
    before = rows(original.tables["defenses"], "work", carried)
    after = rows(again.tables["defenses"], "work", carried)
    assert len(before) == 21
    assert sorted(after) == sorted(before)
    for work, cells in before.items():
        assert after[work] == cells, work
    assert sum(len(cells["coverage"]) for cells in after.values()) == 168


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
    assert "| PRECODE [58] | 2022 | Client | A (green) - B (green) C (orange) - H (orange) | " \
           "Edited in the graph |" in out
    assert "Variational block" not in out
    assert "## References" not in out


def test_tables_on_a_missing_folder_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["tables", "--kg", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
