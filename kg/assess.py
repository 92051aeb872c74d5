"""`gia-kg assess`: what an adversary with given capabilities can attack, and what still protects.

The reasoning is in SPARQL (queries/assess/*.rq) over the reasoned order ``gia:strongerThan``;
Python only validates the user's slugs or letter against the graph, fills the queries' empty
``VALUES ?var { }`` blocks with the resulting IRIs (never with user text) and formats the answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.engine import Dataset, ResultTable, open_dataset
from kg.errors import QueryError, UsageError
from kg.namespaces import resource_iri
from kg.paths import QUERIES_DIR
from kg.results import aligned, markdown_table

ASSESS_QUERIES = QUERIES_DIR / "assess"
THREAT_MODELS_QUERY = QUERIES_DIR / "order" / "threat-models.rq"
FORMATS = ("text", "json", "md")

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
    attacks: list[dict[str, str]] = field(default_factory=list)
    #: One dict per defense: ref, label, ratings {letter: level}.
    defenses: list[dict] = field(default_factory=list)
    #: Level label → gia:rank, to list levels from effective down (not part of the JSON).
    level_ranks: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The issue's JSON contract: exactly threat_models, attacks and defenses."""
        return {
            "threat_models": [letter for letter, _ in self.threat_models],
            "attacks": [
                {k: a[k] for k in ("ref", "label", "threat_model", "technique")}
                for a in self.attacks
            ],
            "defenses": [
                {"ref": d["ref"], "label": d["label"], "ratings": dict(d["ratings"])}
                for d in self.defenses
            ],
        }


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


def parse_capabilities(text: str, valid: dict[str, str]) -> list[str]:
    """``--capabilities a,b`` → slugs of ``valid`` (slug → IRI); unknown ones are a UsageError."""
    slugs = [s.strip().lower() for s in text.split(",") if s.strip()]
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
    capabilities: str | None = None,
    threat_model: str | None = None,
    dataset: Dataset | None = None,
) -> Assessment:
    """Assess an adversary given capability slugs (comma-separated) or a threat-model letter."""
    if (capabilities is None) == (threat_model is None):
        raise UsageError("assess: give exactly one of --capabilities or --threat-model")
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
        slugs = parse_capabilities(capabilities or "", valid)
        table = _run(data, "strongest-threat-models", {"held": [valid[s] for s in slugs]})
        strongest = list(zip(table.column("letter"), table.column("name"), strict=True))
        adversary = table.column("threat_model")
    result = Assessment(slugs, threat_model, strongest)
    if not strongest:
        return result
    attacks = _run(data, "feasible-attacks", {"adversary": adversary})
    result.attacks = [
        {k: row.get(k, "") for k in ("ref", "label", "threat_model", "technique", "category")}
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


def render(result: Assessment, fmt: str = "text") -> str:
    """The assessment as a readable report (text), JSON, or Markdown."""
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(result)
    if fmt == "text":
        return _text(result)
    raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")


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


def _columns(headers: list[str], rows: list[list[str]]) -> list[str]:
    return [("  " + line).rstrip() for line in aligned(headers, rows, rule=False)]


def _text(result: Assessment) -> str:
    out = [_adversary_line(result)]
    if not result.threat_models:
        return "\n".join([*out, _none_message()]) + "\n"
    names = ", ".join(f"{letter} ({name})" for letter, name in result.threat_models)
    letters = _letters(result)
    out.append(f"Strongest matching threat models: {names}")
    out.append("")
    out.append(
        f"Feasible attacks ({len(result.attacks)}): threat model "
        + " or ".join(letters)
        + " or weaker"
    )
    out += _columns(
        ["TM", "Ref", "Attack", "Technique"],
        [[a["threat_model"], a["ref"], a["label"], a["technique"]] for a in result.attacks],
    )
    out.append("")
    out.append(f"Defenses ({len(result.defenses)}) rated against " + ", ".join(letters))
    out += [f"  {line}" for line in _level_counts(result)]
    out += _columns(
        ["Ref", "Defense", *letters],
        [
            [d["ref"], d["label"], *(d["ratings"].get(x, "") for x in letters)]
            for d in result.defenses
        ],
    )
    return "\n".join(out) + "\n"


def _level_counts(result: Assessment) -> list[str]:
    """One line per threat model: how many defenses still hold (effective, partial) or not."""
    lines = []
    for letter in _letters(result):
        counts: dict[str, int] = {}
        for defense in result.defenses:
            level = defense["ratings"].get(letter, "")
            counts[level] = counts.get(level, 0) + 1
        order = sorted(counts, key=lambda level: -result.level_ranks.get(level, 0))
        parts = ", ".join(f"{counts[level]} {level}" for level in order)
        lines.append(f"against {letter}: {parts}")
    best = max(result.level_ranks.values(), default=0)
    holding = [
        f"[{d['ref']}] {d['label']}"
        for d in result.defenses
        if all(result.level_ranks.get(level) == best for level in d["ratings"].values())
    ]
    top = next((level for level, rank in result.level_ranks.items() if rank == best), "")
    if holding and top:
        lines.append(f"{top} against all of them: " + "; ".join(holding))
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
    out += ["", f"## Feasible attacks ({len(result.attacks)})", ""]
    out += _md_table(
        ["Threat model", "Ref", "Attack", "Technique"],
        [[a["threat_model"], a["ref"], a["label"], a["technique"]] for a in result.attacks],
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
