"""Render the reasoned threat-model order (read from inferred.ttl; no Java needed).

Equivalent threat models (gia:equivalentThreatModel, equal capability sets) are shown in text and
dot; the CSV stays exactly ``stronger,weaker`` plus the strict edges (a contract).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from kg.paths import QUERIES_DIR

ORDER_QUERIES = QUERIES_DIR / "order"
STARS = {1: "★☆☆", 2: "★★☆", 3: "★★★"}
#: What the stars mean, in the words of the SoK README's "Legend for Applicability" under its
#: threat-model table (whose column is "Real-World Applicability").
APPLICABILITY = {
    3: "highly applicable and less detectable",
    2: "potentially applicable (depends on specific configuration)",
    1: "less applicable and more detectable",
}
#: The legend the text form prints under the threat models, best first.
STARS_LEGEND = (
    "Stars: the SoK's Real-World Applicability rating of the threat model",
    *(f"  {STARS[n]} = {meaning}" for n, meaning in APPLICABILITY.items()),
)


def _select(kg_dir: str | Path | None, name: str) -> list[tuple[str, ...]]:
    from kg.engine import open_dataset

    table = open_dataset(kg_dir).select((ORDER_QUERIES / f"{name}.rq").read_text(encoding="utf-8"))
    return [tuple("" if t is None else t.value for t in row) for row in table.rows]


def edges(kg_dir: str | Path | None = None, *, full: bool = False) -> list[tuple[str, str]]:
    """(stronger, weaker) letter pairs: Hasse edges, or the full strict order with ``full``."""
    rows = _select(kg_dir, "strict-order" if full else "hasse-edges")
    return [(a, b) for a, b in rows]


def equivalent(kg_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """Equivalent (first, second) letter pairs, each once with first < second."""
    return [(a, b) for a, b in _select(kg_dir, "equivalent")]


def classes(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Group equivalent pairs into classes (sorted letters), so F ≡ G ≡ X prints as one line."""
    groups: list[set[str]] = []
    for a, b in pairs:
        joined = [g for g in groups if a in g or b in g]
        merged = {a, b}.union(*joined)
        groups = [g for g in groups if g not in joined] + [merged]
    return sorted(sorted(g) for g in groups)


def render(kg_dir: str | Path | None = None, *, fmt: str = "text", full: bool = False) -> str:
    """The order as text, CSV (``stronger,weaker``) or Graphviz dot."""
    pairs = edges(kg_dir, full=full)
    if fmt == "csv":
        return "stronger,weaker\n" + "".join(f"{a},{b}\n" for a, b in pairs)
    models = _select(kg_dir, "threat-models")
    same = classes(equivalent(kg_dir))
    if fmt == "dot":
        return _dot(models, pairs, same)
    return _text(models, pairs, _select(kg_dir, "incomparable"), full, same)


def _dot(
    models: list[tuple[str, ...]], pairs: list[tuple[str, str]], same: Sequence[Sequence[str]] = ()
) -> str:
    lines = [
        "// Threat-model order of the SoK, derived by HermiT (gia-kg order --format dot)",
        "digraph threat_models {",
        "  rankdir=BT;",
        '  node [shape=box, fontname="Helvetica"];',
    ]
    for letter, name, stars in models:
        label = f"{letter}: {name}\\n{STARS.get(int(stars), stars)}"
        lines.append(f'  {letter} [label="{label}"];')
    lines += [f"  {weaker} -> {stronger};" for stronger, weaker in pairs]
    for group in same:  # equivalent: same rank, joined by undirected dashed edges
        lines.append(f"  {{ rank=same; {'; '.join(group)}; }}")
        lines += [
            f'  {a} -> {b} [dir=none, style=dashed, label="="];'
            for a, b in itertools.pairwise(group)
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _text(
    models: list[tuple[str, ...]],
    pairs: list[tuple[str, str]],
    incomparable: list[tuple[str, ...]],
    full: bool,
    same: Sequence[Sequence[str]] = (),
) -> str:
    width = max(len(name) for _, name, _ in models)
    out = ["Threat models (X > Y: an X adversary can do everything a Y adversary can, and more)"]
    out += [f"  {letter}  {name:<{width}}  {STARS.get(int(s), s)}" for letter, name, s in models]
    out += STARS_LEGEND
    out.append("Strict order (derived by HermiT):" if full else "Hasse diagram (derived by HermiT):")
    out += [f"  {a} > {b}" for a, b in pairs]
    if same:  # only when there are any: the text for an order without equivalents is unchanged
        out.append("Equivalent (same capabilities, each at least as strong as the other):")
        out += ["  " + " = ".join(group) for group in same]
    out.append("Incomparable:")
    out += [f"  {a} || {b}" for a, b in incomparable] or ["  (none)"]
    return "\n".join(out) + "\n"
