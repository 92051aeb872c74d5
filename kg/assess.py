"""`gia-kg assess`: what an adversary with given capabilities can attack, and what still protects.

The reasoning is in SPARQL (queries/assess/*.rq) over the reasoned order ``gia:strongerThan``;
Python only validates the user's slugs or letter against the graph, fills the queries' empty
``VALUES ?var { }`` blocks with the resulting IRIs (never with user text) and formats the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kg.engine import Dataset, ResultTable, open_dataset
from kg.errors import QueryError, UsageError
from kg.namespaces import resource_iri
from kg.paths import QUERIES_DIR
from kg.results import aligned, markdown_table

if TYPE_CHECKING:
    from kg.api import Result
    from kg.terminal import Terminal

ASSESS_QUERIES = QUERIES_DIR / "assess"
THREAT_MODELS_QUERY = QUERIES_DIR / "order" / "threat-models.rq"
FORMATS = ("text", "json", "md", "csv", "tsv")
#: Columns of the csv/tsv form: one row per feasible attack, then one per defense rating.
FLAT_COLUMNS = ("section", "ref", "label", "threat_model", "technique", "level")
#: The keys of one attack in the JSON contract, and the columns of ``Assessment.attacks``.
ATTACK_COLUMNS = ("ref", "label", "threat_model", "technique")

_EMPTY_VALUES = re.compile(r"VALUES\s+\?([A-Za-z_][A-Za-z0-9_]*)\s*\{\s*\}")


@dataclass
class Assessment:
    """The answer for one adversary: its strongest threat models, attacks and defense ratings."""

    #: How the adversary was given: capability slugs, or one threat-model letter.
    capabilities: list[str]
    threat_model_given: str | None
    #: (letter, name) of the strongest threat models the adversary matches, by letter.
    threat_models: list[tuple[str, str]]
    #: One dict per feasible attack: ref, label, threat_model, technique (and category).
    attack_rows: list[dict[str, str]] = field(default_factory=list)
    #: One dict per defense: ref, label, ratings {letter: level}.
    defenses: list[dict] = field(default_factory=list)
    #: Level label → gia:rank, to list levels from effective down (not part of the JSON).
    level_ranks: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The issue's JSON contract: exactly threat_models, attacks and defenses."""
        return {
            "threat_models": [letter for letter, _ in self.threat_models],
            "attacks": [
                {k: a[k] for k in ATTACK_COLUMNS}
                for a in self.attack_rows
            ],
            "defenses": [
                {"ref": d["ref"], "label": d["label"], "ratings": dict(d["ratings"])}
                for d in self.defenses
            ],
        }

    # The tables below are for notebooks (kg.api); the CLI renders with ``render``.

    @property
    def letters(self) -> list[str]:
        """Letters of the strongest matching threat models: the rating columns."""
        return [letter for letter, _ in self.threat_models]

    @property
    def attacks(self) -> Result:
        """The feasible attacks as a table: ref, label, threat_model, technique."""
        from kg.api import Result

        return Result.from_values(
            list(ATTACK_COLUMNS), [[a[k] or None for k in ATTACK_COLUMNS] for a in self.attack_rows]
        )

    @property
    def ratings(self) -> Result:
        """The defense ratings as a table: ref, label, then one level column per letter."""
        from kg.api import Result

        letters = self.letters
        rows = [[d["ref"] or None, d["label"], *(d["ratings"].get(x) for x in letters)]
                for d in self.defenses]
        return Result.from_values(["ref", "label", *letters], rows)

    @property
    def columns(self) -> list[str]:
        """Columns of the defense ratings table (``ratings``)."""
        return ["ref", "label", *self.letters]

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        """Rows of the defense ratings table (``ratings``)."""
        return self.ratings.rows

    def to_dicts(self) -> list[dict[str, Any]]:
        """The defense ratings as ``{column: value}`` dicts."""
        return self.ratings.to_dicts()

    def to_pandas(self) -> Any:
        """The defense ratings as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        return self.ratings.to_pandas()

    def format(self, fmt: str = "text") -> str:
        """The report ``gia-kg assess --format FMT`` prints."""
        return render(self, fmt)

    def _repr_html_(self) -> str:
        """Jupyter: who the adversary is, then the attacks and the defense ratings."""
        from html import escape

        head = escape(_adversary_line(self))
        if not self.threat_models:
            return f"<p>{head}</p><p>{escape(_none_message())}</p>"
        names = ", ".join(f"{letter} ({name})" for letter, name in self.threat_models)
        return (f"<p>{head}<br>Strongest matching threat models: {escape(names)}</p>"
                f"<p>Feasible attacks ({len(self.attack_rows)})</p>{self.attacks._repr_html_()}"
                f"<p>Defenses ({len(self.defenses)})</p>{self.ratings._repr_html_()}")


def fill_values(text: str, values: dict[str, list[str]], where: str) -> str:
    """Fill every empty ``VALUES ?name { }`` block with IRIs (validated by ``ox.NamedNode``)."""
    seen: set[str] = set()

    def block(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise QueryError(f"{where}: no values given for 'VALUES ?{name} {{ }}'")
        seen.add(name)
        terms = " ".join(str(ox.NamedNode(iri)) for iri in values[name])
        return f"VALUES ?{name} {{ {terms} }}"

    filled = _EMPTY_VALUES.sub(block, text)
    missing = sorted(set(values) - seen)
    if missing:
        raise QueryError(f"{where}: expected an empty 'VALUES ?{missing[0]} {{ }}' block")
    return filled


def _run(dataset: Dataset, name: str, values: dict[str, list[str]] | None = None) -> ResultTable:
    path = ASSESS_QUERIES / f"{name}.rq"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QueryError(f"{path}: cannot read: {exc}") from None
    return dataset.select(fill_values(text, values or {}, str(path)))


def capability_slugs(dataset: Dataset) -> dict[str, str]:
    """Valid capability slugs → capability IRIs, in the SoK's column order."""
    table = _run(dataset, "capabilities")
    return dict(zip(table.column("slug"), table.column("capability"), strict=True))


def parse_capabilities(given: str | Sequence[str], valid: dict[str, str]) -> list[str]:
    """Capability slugs (a sequence, or the CLI's ``a,b`` text) → slugs of ``valid`` (slug → IRI).

    Slugs are matched case-insensitively, repeats dropped; an unknown one is a UsageError.
    """
    if isinstance(given, str):
        items: list[object] = list(given.split(","))
    elif isinstance(given, Sequence):
        items = list(given)
    else:
        raise UsageError(
            f"--capabilities: expected a list of capability slugs, got {type(given).__name__}"
        )
    slugs = []
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"--capabilities: {item!r} is not a capability slug (a string); "
                             f"valid: {', '.join(valid)}")
        if item.strip():
            slugs.append(item.strip().lower())
    if not slugs:
        raise UsageError(f"--capabilities: expected a comma-separated list of {', '.join(valid)}")
    for slug in slugs:
        if slug not in valid:
            raise UsageError(
                f"--capabilities: unknown capability {slug!r}; valid: {', '.join(valid)}"
            )
    return list(dict.fromkeys(slugs))


def _threat_models(dataset: Dataset) -> dict[str, str]:
    """Letter → name of every threat model in the graph."""
    table = dataset.select(THREAT_MODELS_QUERY.read_text(encoding="utf-8"))
    return dict(zip(table.column("letter"), table.column("name"), strict=True))


def assess(
    kg_dir: str | Path | None = None,
    *,
    capabilities: Sequence[str] | None = None,
    threat_model: str | None = None,
    dataset: Dataset | None = None,
) -> Assessment:
    """Assess an adversary given capability slugs or a threat-model letter (exactly one).

    ``capabilities`` is a sequence of slugs; a str is split on commas (the CLI's spelling).
    """
    if (capabilities is None) == (threat_model is None):
        raise UsageError("assess: give exactly one of --capabilities or --threat-model")
    if threat_model is not None and not isinstance(threat_model, str):
        raise UsageError(f"--threat-model {threat_model!r}: expected a threat-model letter (a string)")
    data = dataset if dataset is not None else open_dataset(kg_dir)
    if threat_model is not None:
        letters = _threat_models(data)
        letter = threat_model.strip().upper()
        if letter not in letters:
            raise UsageError(
                f"--threat-model: unknown threat model {threat_model!r}; valid: "
                + ", ".join(letters)
            )
        # the given model and its equivalents: an F adversary is a G adversary when F ≡ G
        table = _run(data, "equivalent-threat-models", {"given": [resource_iri("tm", letter)]})
        strongest = list(zip(table.column("letter"), table.column("name"), strict=True))
        adversary = table.column("threat_model")
        slugs: list[str] = []
    else:
        valid = capability_slugs(data)
        slugs = parse_capabilities(capabilities or [], valid)
        table = _run(data, "strongest-threat-models", {"held": [valid[s] for s in slugs]})
        strongest = list(zip(table.column("letter"), table.column("name"), strict=True))
        adversary = table.column("threat_model")
    result = Assessment(slugs, threat_model, strongest)
    if not strongest:
        return result
    attacks = _run(data, "feasible-attacks", {"adversary": adversary})
    result.attack_rows = [
        {k: row.get(k, "") for k in (*ATTACK_COLUMNS, "category")}
        for row in attacks.dicts()
    ]
    ratings = _run(data, "defense-ratings", {"adversary": adversary})
    by_defense: dict[str, dict] = {}
    for row in ratings.dicts():
        entry = by_defense.setdefault(
            row["defense"], {"ref": row.get("ref", ""), "label": row["label"], "ratings": {}}
        )
        entry["ratings"][row["threat_model"]] = row["level"]
        result.level_ranks[row["level"]] = int(row["rank"])
    result.defenses = list(by_defense.values())
    return result


# ---------------------------------------------------------------- rendering


def render(result: Assessment, fmt: str = "text", *, terminal: Terminal | None = None) -> str:
    """The assessment as a readable report (text), JSON, Markdown, or a flat CSV/TSV table."""
    from kg.formats import canonical

    fmt = canonical(fmt) or fmt
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(result)
    if fmt == "text":
        return _text(result, terminal)
    if fmt in ("csv", "tsv"):
        return _flat(result, fmt)
    raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")


def flat_rows(result: Assessment) -> list[tuple[str, ...]]:
    """One row per feasible attack (its threat model and technique), then one per defense rating.

    A tidy table (FLAT_COLUMNS) that spreadsheets and pandas read as is: ``section`` is
    ``attack`` or ``defense``; an attack row has no level, a defense row no technique.
    """
    rows = [("attack", a["ref"], a["label"], a["threat_model"], a["technique"], "")
            for a in result.attack_rows]
    rows += [("defense", d["ref"], d["label"], letter, "", d["ratings"].get(letter, ""))
             for d in result.defenses for letter in _letters(result)]
    return rows


def _flat(result: Assessment, fmt: str) -> str:
    import csv
    import io

    buf = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180, as the SPARQL CSV results
        writer.writerow(FLAT_COLUMNS)
        writer.writerows(flat_rows(result))
        return buf.getvalue()
    lines = ["\t".join(FLAT_COLUMNS)]
    lines += ["\t".join(" ".join(v.split()) for v in row) for row in flat_rows(result)]
    return "\n".join(lines) + "\n"


def _adversary_line(result: Assessment) -> str:
    if result.threat_model_given is not None:
        given = result.threat_model_given.strip().upper()
        same = [letter for letter, _ in result.threat_models if letter != given]
        return f"Adversary: threat model {given}" + (
            f" (equivalent: {', '.join(same)})" if same else ""
        )
    return "Adversary capabilities: " + ", ".join(result.capabilities)


def _none_message() -> str:
    return (
        "No SoK threat model applies: no threat model's capability set is included in these "
        "capabilities, so no attack of the SoK is within reach (see 'gia-kg order' for the "
        "threat models)."
    )


def _letters(result: Assessment) -> list[str]:
    return [letter for letter, _ in result.threat_models]


def _columns(headers: list[str], rows: list[list[str]], terminal: Terminal | None = None
             ) -> list[str]:
    inner = None if terminal is None else terminal.narrower(2)  # each line is indented by two
    return [("  " + line).rstrip() for line in aligned(headers, rows, rule=False, terminal=inner)]


def _text(result: Assessment, terminal: Terminal | None = None) -> str:
    out = [_adversary_line(result)]
    if not result.threat_models:
        return "\n".join([*out, _none_message()]) + "\n"
    names = ", ".join(f"{letter} ({name})" for letter, name in result.threat_models)
    letters = _letters(result)
    out.append(f"Strongest matching threat models: {names}")
    out.append("")
    out.append(
        f"Feasible attacks ({len(result.attack_rows)}): threat model "
        + " or ".join(letters)
        + " or weaker"
    )
    out += _columns(
        ["TM", "Ref", "Attack", "Technique"],
        [[a["threat_model"], a["ref"], a["label"], a["technique"]] for a in result.attack_rows],
        terminal,
    )
    out.append("")
    out.append(f"Defenses ({len(result.defenses)}) rated against " + ", ".join(letters))
    for line in _level_counts(result, terminal):
        if terminal is not None and terminal.width:
            from kg.terminal import wrap

            out += ["  " + part for part in wrap(line, terminal.width - 2)]
        else:
            out.append(f"  {line}")
    out += _columns(
        ["Ref", "Defense", *letters],
        [
            [d["ref"], d["label"], *(d["ratings"].get(x, "") for x in letters)]
            for d in result.defenses
        ],
        terminal,
    )
    return "\n".join(out) + "\n"


def _level_counts(result: Assessment, terminal: Terminal | None = None) -> list[str]:
    """One line per threat model: how many defenses still hold (effective, partial) or not."""
    paint = terminal.paint if terminal is not None else (lambda text: text)
    lines = []
    for letter in _letters(result):
        counts: dict[str, int] = {}
        for defense in result.defenses:
            level = defense["ratings"].get(letter, "")
            counts[level] = counts.get(level, 0) + 1
        order = sorted(counts, key=lambda level: -result.level_ranks.get(level, 0))
        parts = ", ".join(f"{counts[level]} {paint(level)}" for level in order)
        lines.append(f"against {letter}: {parts}")
    best = max(result.level_ranks.values(), default=0)
    holding = [
        f"[{d['ref']}] {d['label']}"
        for d in result.defenses
        if all(result.level_ranks.get(level) == best for level in d["ratings"].values())
    ]
    top = next((level for level, rank in result.level_ranks.items() if rank == best), "")
    if holding and top:
        lines.append(f"{paint(top)} against all of them: " + "; ".join(holding))
    return lines


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return markdown_table(headers, rows).splitlines()


def _markdown(result: Assessment) -> str:
    out = ["# Threat assessment", "", _adversary_line(result), ""]
    if not result.threat_models:
        return "\n".join([*out, _none_message()]) + "\n"
    letters = _letters(result)
    out += ["## Strongest matching threat models", ""]
    out += [f"- **{letter}** {name}" for letter, name in result.threat_models]
    out += ["", f"## Feasible attacks ({len(result.attack_rows)})", ""]
    out += _md_table(
        ["Threat model", "Ref", "Attack", "Technique"],
        [[a["threat_model"], a["ref"], a["label"], a["technique"]] for a in result.attack_rows],
    )
    out += ["", f"## Defenses ({len(result.defenses)})", ""]
    out += _md_table(
        ["Ref", "Defense", *letters],
        [
            [d["ref"], d["label"], *(d["ratings"].get(x, "") for x in letters)]
            for d in result.defenses
        ],
    )
    return "\n".join(out) + "\n"


__all__ = ["Assessment", "assess", "capability_slugs", "fill_values", "render"]
