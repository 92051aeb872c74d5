"""`gia-kg import-sok`: every value is checked before anything is written.

Each bad variant is the real README (tests/fixtures/sok/, 2025-07-15) with one cell or line
edited; the expected line and column are read by hand from that file. A refusal is exit 2, one
stderr line ``FILE:LINE: column 'NAME': ...`` (or ``reference [N]``), and no output folder.
The positive cases (BOM, invisible characters, NBSP, CRLF) must import to the same bytes as the
clean file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.cli import main
from kg.slugs import fold, slugify
from kg.sok_import import FILES
from kg.sok_markdown import clean_cell, clean_line, link_problem

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "tests" / "fixtures" / "sok" / "sok_gias_fl-README-2025-07-15.md"
NAME = "README-2025-07-15.md"

# Lines of the fixture used below (1-based), and what they hold.
TM_A = 26  # threat model A: | A | Eavesdropper | ✔️ | ✗ ... | ★★★ |
ZHU = 44  # attack Zhu et al. (2019) [1]: 64×64, batch 8, [link](https://github.com/mit-han-lab/dlg)
ZHAO = 45  # attack Zhao et al. (2020) [2]
HATA = 48  # attack Hatamizadeh et al. (2022) [5]: label recovery [4]
DIMITROV = 49  # attack Dimitrov et al. (2022) [6]: 10×5, label recovery [link](https://arxiv...)
REF1 = 94  # [1] Deep Leakage from Gradients. NeurIPS. [paper](https://arxiv.org/abs/1906.08935)
SOTERIA = 174  # defense [45]: 2021, [link](https://github.com/jeremy313/Soteria)
PRECODE = 186  # defense PRECODE [58]: 2022, Intuition "Variational block adding randomness"


def edited(tmp_path: Path, line: int, old: str, new: str, name: str = NAME) -> Path:
    """The real README with ``old`` replaced by ``new`` once on one line (1-based)."""
    lines = README.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], (line, old)
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def refused(path: Path, tmp_path: Path, capsys) -> str:
    """Run the import; assert exit 2, one stderr line, no output; return the message after FILE."""
    out = tmp_path / "out"
    assert main(["import-sok", str(path), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"gia-kg: error: {path}:"), err
    assert not out.exists()
    return err.removeprefix(f"gia-kg: error: {path}:").rstrip("\n")


def imported(path: Path, out: Path) -> dict[str, bytes]:
    assert main(["import-sok", str(path), "-o", str(out)]) == 0
    return {name: (out / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of a fresh import of the unedited README (the release before the shipped one)."""
    out = tmp_path_factory.mktemp("clean") / "out"
    return imported(README, out)


# ---------------------------------------------------------------- links

BAD_LINKS = [
    "https://github.com/mit-han-lab/dlg>x",
    'https://github.com/mit-han-lab/"dlg"',
    "https://github.com/{user}/dlg",
    "https://github.com/mit-han-lab/}dlg",
    "https://github.com\\mit-han-lab\\dlg",
    "https://github.com/mit han/dlg",
    "https://github.com/mit-han-lab/`dlg`",
    "https://github.com/a^b",
    "https://github.com/x#a#b",
    "https://github.com/%zz",
    "dlg",
    "./dlg",
    "/mit-han-lab/dlg",
    "//github.com/mit-han-lab/dlg",
    "#dlg",
    "",
    "javascript:alert(1)",
    "ftp://github.com/mit-han-lab/dlg",
    "mailto:someone@example.org",
    "file:///etc/passwd",
    "https:///mit-han-lab/dlg",
    "<https://github.com/mit-han-lab/dlg>",
]


@pytest.mark.parametrize("url", BAD_LINKS)
def test_bad_link_in_open_source_cell(tmp_path: Path, capsys, url: str) -> None:
    path = edited(tmp_path, ZHU, "(https://github.com/mit-han-lab/dlg)", f"({url})")
    message = refused(path, tmp_path, capsys)
    assert message == (f"{ZHU}: column 'Open Source': expected an absolute http(s) link, "
                       f"got '{url}'")


@pytest.mark.parametrize("url", ["https://arxiv.org/abs/2110 09074", "arxiv.org/abs/2110.09074",
                                 "https://arxiv.org/abs/<2110>", "ftp://arxiv.org/x"])
def test_bad_link_in_label_recovery_cell(tmp_path: Path, capsys, url: str) -> None:
    path = edited(tmp_path, DIMITROV, "(https://arxiv.org/abs/2110.09074)", f"({url})")
    assert refused(path, tmp_path, capsys) == (
        f"{DIMITROV}: column 'Label Recovery': expected an absolute http(s) link, got '{url}'")


@pytest.mark.parametrize("url", ['https://github.com/jeremy313/"Soteria"', "Soteria",
                                 "javascript:void(0)"])
def test_bad_link_in_defense_cell(tmp_path: Path, capsys, url: str) -> None:
    path = edited(tmp_path, SOTERIA, "(https://github.com/jeremy313/Soteria)", f"({url})")
    assert refused(path, tmp_path, capsys) == (
        f"{SOTERIA}: column 'Open Source': expected an absolute http(s) link, got '{url}'")


@pytest.mark.parametrize("url", ["https://arxiv.org/abs/1906 08935", "https://arxiv.org/{1906}",
                                 "abs/1906.08935", "javascript:alert(1)",
                                 'https://arxiv.org/"x"', "https://arxiv.org/a\\b"])
def test_bad_link_in_reference_entry(tmp_path: Path, capsys, url: str) -> None:
    path = edited(tmp_path, REF1, "(https://arxiv.org/abs/1906.08935)", f"({url})")
    assert refused(path, tmp_path, capsys) == (
        f"{REF1}: reference [1]: expected an absolute http(s) link, got '{url}'")


def test_link_into_this_graph_is_refused(tmp_path: Path, capsys) -> None:
    url = "https://w3id.org/gia-kg/id/attack/zhu-2019-deep-leakage"
    path = edited(tmp_path, ZHU, "(https://github.com/mit-han-lab/dlg)", f"({url})")
    assert refused(path, tmp_path, capsys) == (
        f"{ZHU}: column 'Open Source': expected a link to an outside page, not an IRI of this "
        f"graph, got '{url}'")


def test_link_rules() -> None:
    assert link_problem("https://github.com/mit-han-lab/dlg") is None
    assert link_problem("http://example.org/a?b=c#d") is None
    assert link_problem("https://例え.jp/ü") is None  # an IRI may hold non-ASCII letters
    assert link_problem("https://petsymposium.org/x.php#:~:text=popets%2D2023") is None
    assert link_problem("HTTPS://github.com/x") is not None
    assert link_problem("https://github.com/a b") is not None


# ---------------------------------------------------------------- digits and numbers


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        # Unicode digits that \d and int() would accept
        (ZHU, "| 8             |", "| ８             |",
         "column 'Batch Size': expected an integer or E×B, got '８'"),
        (ZHU, "| 8             |", "| ٨             |",
         "column 'Batch Size': expected an integer or E×B, got '٨'"),
        (ZHU, "| 8             |", "| ²             |",
         "column 'Batch Size': expected an integer or E×B, got '²'"),
        (DIMITROV, "10×5", "１０×5", "column 'Batch Size': expected an integer or E×B"),
        (ZHU, "64×64", "６４×６４", "column 'Image Resolution': expected WIDTH×HEIGHT"),
        (ZHU, "64×64", "64×٦٤", "column 'Image Resolution': expected WIDTH×HEIGHT"),
        (PRECODE, "| 2022     |", "| ２０２２     |",
         "column 'Year': expected a year (YYYY) or N/A, got '２０２２'"),
        (ZHU, "(2019)", "(２０１９)", "column 'Work': expected 'Author et al. (YEAR) [N]'"),
        (ZHU, "[1]", "[１]", "column 'Work': expected 'Author et al. (YEAR) [N]'"),
        (HATA, "| [4]                |", "| [４]               |",
         "column 'Label Recovery': expected one of"),
        # zero, negative, leading zeros and absurdly long numbers
        (ZHU, "| 8             |", "| 0             |",
         "column 'Batch Size': expected a positive batch size (whole numbers from 1 to "
         "999999999), got '0'"),
        (ZHU, "| 8             |", "| -8            |",
         "column 'Batch Size': expected a positive batch size"),
        (ZHU, "| 8             |", "| +8            |",
         "column 'Batch Size': expected a positive batch size"),
        (ZHU, "| 8             |", "| 08            |",
         "column 'Batch Size': expected a positive batch size"),
        (ZHU, "| 8             |", "| " + "9" * 5000 + " |",
         "column 'Batch Size': expected a positive batch size"),
        (DIMITROV, "10×5", "0×5",
         "column 'Batch Size': expected E×B of positive integers (whole numbers from 1 to "
         "999999999), got '0×5'"),
        (DIMITROV, "10×5", "10×0", "column 'Batch Size': expected E×B of positive integers"),
        (DIMITROV, "10×5", "-1×5", "column 'Batch Size': expected E×B of positive integers"),
        (ZHU, "64×64", "0×64", "column 'Image Resolution': expected WIDTH×HEIGHT of positive "
         "integers (whole numbers from 1 to 999999999), got '0×64'"),
        (ZHU, "64×64", "64×-64",
         "column 'Image Resolution': expected WIDTH×HEIGHT of positive integers"),
        (ZHU, "64×64", "64×000", "column 'Image Resolution': expected WIDTH×HEIGHT of positive"),
        # years out of shape:Year's range (1990-2100)
        (PRECODE, "| 2022     |", "| 1899     |",
         "column 'Year': expected a year from 1990 to 2100 or N/A, got '1899'"),
        (PRECODE, "| 2022     |", "| 2101     |",
         "column 'Year': expected a year from 1990 to 2100 or N/A, got '2101'"),
        (PRECODE, "| 2022     |", "| 0000     |", "column 'Year': expected a year from 1990"),
        (ZHU, "(2019)", "(1066)", "column 'Work': expected a year from 1990 to 2100, got '1066'"),
        (ZHU, "(2019)", "(9999)", "column 'Work': expected a year from 1990 to 2100, got '9999'"),
        # stars 1 to 3 (shape:ThreatModelApplicability)
        (TM_A, "★★★", "★★★★", "column 'Real-World Applicability': expected 1 to 3 stars"),
        (TM_A, "★★★", "☆☆☆", "column 'Real-World Applicability': expected 1 to 3 stars"),
        (TM_A, "★★★", "★★★☆", "column 'Real-World Applicability': expected 1 to 3 stars"),
        (TM_A, "★★★", "３", "column 'Real-World Applicability': expected 1 to 3 stars"),
    ],
)
def test_number_cells(tmp_path: Path, capsys, line: int, old: str, new: str, message: str) -> None:
    path = edited(tmp_path, line, old, new)
    assert refused(path, tmp_path, capsys).startswith(f"{line}: {message}")


@pytest.mark.parametrize("marker", ["[１]", "[١]", "[¹]"])
def test_unicode_digit_reference_line_is_not_a_reference(tmp_path: Path, capsys,
                                                         marker: str) -> None:
    """``[１] Deep Leakage ...`` is not entry [1]: Zhu's row then cites a missing reference."""
    path = edited(tmp_path, REF1, "[1] Deep", f"{marker} Deep")
    assert refused(path, tmp_path, capsys).startswith(
        f"{ZHU}: column 'Work': cites reference [1], which the reference lists do not contain")


@pytest.mark.parametrize("number", ["0", "01", "0001", "1" * 5000])
def test_reference_numbers_must_be_positive(tmp_path: Path, capsys, number: str) -> None:
    path = edited(tmp_path, REF1, "[1] Deep", f"[{number}] Deep")
    assert refused(path, tmp_path, capsys) == (
        f"{REF1}: reference [{number}]: expected a reference number from 1 (ASCII digits, no "
        f"leading zero), got '{number}'")


def test_long_citation_in_a_cell_is_a_cell_error(tmp_path: Path, capsys) -> None:
    path = edited(tmp_path, HATA, "| [4]                |", "| [" + "4" * 5000 + "] |")
    assert refused(path, tmp_path, capsys).startswith(f"{HATA}: column 'Label Recovery': ")


# ---------------------------------------------------------------- other values the shapes check


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        (PRECODE, "| Variational block adding randomness |", "|  |",
         "column 'Intuition': expected a non-empty text, got ''"),
        (PRECODE, "| Proven ineffective against advanced GIAs [14] |", "| |",
         "column 'Main Weakness': expected a non-empty text, got ''"),
        (TM_A, "| Eavesdropper                 |", "|    |",
         "column 'Threat Model': expected a threat model name, got ''"),
        (TM_A, "✔️", "✗", "threat model A: expected at least one capability marked ✔️, got none"),
        (ZHU, "Zhu et al. (2019) [1]", "Zhu et al. (2019) [1, 2]",
         "column 'Work': expected one reference: 'Author et al. (YEAR) [N]'"),
        (ZHU, "Zhu et al. (2019) [1]", "Ωμέγα et al. (2019) [1]",
         "column 'Work': expected 'Author et al. (YEAR) [N]'"),
        (PRECODE, "PRECODE [58]", "—— [58]",
         "column 'Work': expected a defense name with letters or digits before [N]"),
        (REF1, "Deep Leakage from Gradients.", "— — —.",
         "reference [1]: expected a title with letters or digits, got '— — —'"),
        (PRECODE, "| Variational block", "| Variational\x1b[2J block",
         "column 'Intuition': expected text without control characters, got U+001B"),
        (PRECODE, "| Variational block", "| Variational\x00 block",
         "column 'Intuition': expected text without control characters, got U+0000"),
        (REF1, "Deep Leakage", "Deep\x07 Leakage",
         "reference [1]: expected text without control characters, got U+0007"),
    ],
)
def test_other_values(tmp_path: Path, capsys, line: int, old: str, new: str, message: str) -> None:
    path = edited(tmp_path, line, old, new)
    assert refused(path, tmp_path, capsys).startswith(f"{line}: {message}")


def test_visually_identical_names_with_other_characters_are_one_entity(tmp_path: Path,
                                                                        capsys) -> None:
    """A non-breaking hyphen (U+2011) is not removed, but slugs alike: an error, not a new model."""
    path = edited(tmp_path, 55, "ResNet-18", "ResNet\u201118")  # Li et al. (2025) [12]
    assert refused(path, tmp_path, capsys) == (
        "55: column 'Shared Model': expected the model spelt as 'ResNet-18' (line 50), "
        "got 'ResNet\u201118'")


# ---------------------------------------------------------------- unreadable files


def test_bad_utf8_names_line_and_column(tmp_path: Path, capsys) -> None:
    data = README.read_bytes().split(b"\n")
    data[ZHU - 1] = data[ZHU - 1].replace(b"Zhu", b"Zh\xff", 1)
    path = tmp_path / NAME
    path.write_bytes(b"\n".join(data))
    column = data[ZHU - 1].index(b"\xff") + 1
    assert refused(path, tmp_path, capsys) == (
        f"{ZHU}:{column}: byte 0xff is not UTF-8; expected a UTF-8 text file")


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_not_a_regular_file(tmp_path: Path, capsys, kind: str) -> None:
    import os

    path = tmp_path / NAME
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    out = tmp_path / "out"
    assert main(["import-sok", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gia-kg: error: {path}: is a ") and err.count("\n") == 1, err
    assert not out.exists()


def test_device_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["import-sok", "/dev/zero", "-o", str(out), "--source-version", "x"]) == 2
    assert capsys.readouterr().err == (
        "gia-kg: error: /dev/zero: is a device; expected a regular file\n")
    assert not out.exists()


def test_over_size_file_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GIA_KG_MAX_INPUT_MB", "1")
    path = tmp_path / NAME
    path.write_bytes(README.read_bytes() + b" " * (1 << 20))
    assert "over the input limit" in refused(path, tmp_path, capsys)


# ---------------------------------------------------------------- normalised text: same data


def test_bom_keeps_the_title(tmp_path: Path, clean: dict[str, bytes]) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"\xef\xbb\xbf" + README.read_bytes())
    files = imported(path, tmp_path / "out")
    assert b'dcterms:title "SoK: Gradient Inversion Attacks in Federated Learning"' in (
        files["sok.ttl"])
    assert files == clean


INVISIBLE = [
    (ZHU, "Basic Optimization", "Basic Opti\u200bmization"),  # zero-width space
    (ZHU, "Basic Optimization", "\u200dBasic Optimization\u200c"),  # ZWJ, ZWNJ
    (ZHU, "Basic Optimization", "Basic\u00a0Optimization"),  # non-breaking space
    (ZHU, "Basic Optimization", "Basic \u2060 Optimization"),  # word joiner
    (ZHU, "Basic Optimization", "Basic  Optimi\u00adzation"),  # two spaces, soft hyphen
    (ZHU, "Optimization-based", "\ufeffOptimization-based"),  # BOM inside the file
    (ZHU, "| LeNet ", "| Le\u202eNet\u202c "),  # bidi override (Trojan-source style)
    (ZHAO, "| LeNet ", "| Le\u200bNet "),
    (ZHAO, "|   ", "\u200b|   "),  # before the row's first bar: the row is still read
    (REF1, "Deep Leakage", "Deep Lea\u200bkage"),  # reference title (work slug, dcterms:title)
    (PRECODE, "Variational block adding", "Variational block\u2028adding"),  # line separator
    (PRECODE, "Variational block adding", "Variational\u3000block\tadding"),
    (PRECODE, "PRECODE [58]", "PRE\u200bCODE [58]"),  # defense name (its IRI)
]


@pytest.mark.parametrize(("line", "old", "new"), INVISIBLE)
def test_invisible_characters_give_the_same_data(tmp_path: Path, clean: dict[str, bytes],
                                                 line: int, old: str, new: str) -> None:
    path = edited(tmp_path, line, old, new)
    assert imported(path, tmp_path / "out") == clean


def test_decomposed_accents_give_the_same_data(tmp_path: Path, clean: dict[str, bytes]) -> None:
    path = edited(tmp_path, 123, "Mjölnir", "Mjo\u0308lnir")  # NFD: o + combining diaeresis
    assert imported(path, tmp_path / "out") == clean


def test_crlf_gives_the_same_data(tmp_path: Path, clean: dict[str, bytes]) -> None:
    path = tmp_path / NAME
    path.write_bytes(README.read_bytes().replace(b"\n", b"\r\n"))
    assert imported(path, tmp_path / "out") == clean


def test_line_numbers_count_newlines_only(tmp_path: Path, capsys) -> None:
    """A U+2028 or form feed earlier in the file does not shift the line of a later error."""
    lines = README.read_text(encoding="utf-8").split("\n")
    lines[ZHU - 1] = lines[ZHU - 1].replace("Basic Optimization", "Basic\u2028Optimization")
    lines[20] = "prose\x0cwith a form feed\x1cand a separator"
    lines[PRECODE - 1] = lines[PRECODE - 1].replace("| 2022     |", "| 20x2     |")
    path = tmp_path / NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    assert refused(path, tmp_path, capsys).startswith(f"{PRECODE}: column 'Year': ")


# ---------------------------------------------------------------- the text and slug rules


def test_clean_text_rules() -> None:
    assert clean_line("a\u200bb\ufeff\u00adc\u2060") == "abc"
    assert clean_line("| a |") == "| a |"
    assert clean_cell("  Basic\u00a0\u00a0Optimization \t") == "Basic Optimization"
    assert clean_cell("Mjo\u0308lnir") == "Mjölnir"
    assert clean_cell("✔️") == "✔️"  # U+FE0F is a variation selector (Mn), not Cf: kept


@pytest.mark.parametrize(
    ("text", "slug"),
    [("Mjölnir", "mjolnir"), ("ResNet\u201118", "resnet-18"), ("Network—A", "network-a"),
     ("ＲｅｓＮｅｔ", "resnet"), ("Straße", "strasse"), ("Opti\u200bmization", "optimization"),
     ("Ωμέγα", ""), ("٨", ""), ("Łódź", "lodz")],
)
def test_slugs_are_ascii(text: str, slug: str) -> None:
    assert slugify(text) == slug
    assert fold(text).isascii()
