"""Render the reasoned threat-model order (read from inferred.ttl; no Java needed)."""

from __future__ import annotations

from pathlib import Path

from kg.paths import QUERIES_DIR

ORDER_QUERIES = QUERIES_DIR / "order"
STARS = {1: "★☆☆", 2: "★★☆", 3: "★★★"}


def _select(kg_dir: str | Path | None, name: str) -> list[tuple[str, ...]]:
    from kg.engine import open_dataset

    table = open_dataset(kg_dir).select((ORDER_QUERIES / f"{name}.rq").read_text(encoding="utf-8"))
    return [tuple("" if t is None else t.value for t in row) for row in table.rows]


def edges(kg_dir: str | Path | None = None, *, full: bool = False) -> list[tuple[str, str]]:
    """(stronger, weaker) letter pairs: Hasse edges, or the full strict order with ``full``."""
    rows = _select(kg_dir, "strict-order" if full else "hasse-edges")
    return [(a, b) for a, b in rows]


def render(kg_dir: str | Path | None = None, *, fmt: str = "text", full: bool = False) -> str:
    """The order as text, CSV (``stronger,weaker``) or Graphviz dot."""
    pairs = edges(kg_dir, full=full)
    if fmt == "csv":
        return "stronger,weaker\n" + "".join(f"{a},{b}\n" for a, b in pairs)
    models = _select(kg_dir, "threat-models")
    if fmt == "dot":
        return _dot(models, pairs)
    return _text(models, pairs, _select(kg_dir, "incomparable"), full)


def _dot(models: list[tuple[str, ...]], pairs: list[tuple[str, str]]) -> str:
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
    lines.append("}")
    return "\n".join(lines) + "\n"


def _text(
    models: list[tuple[str, ...]],
    pairs: list[tuple[str, str]],
    incomparable: list[tuple[str, ...]],
    full: bool,
) -> str:
    width = max(len(name) for _, name, _ in models)
    out = ["Threat models (X > Y: an X adversary can do everything a Y adversary can, and more)"]
    out += [f"  {letter}  {name:<{width}}  {STARS.get(int(s), s)}" for letter, name, s in models]
    out.append("Strict order (derived by HermiT):" if full else "Hasse diagram (derived by HermiT):")
    out += [f"  {a} > {b}" for a, b in pairs]
    out.append("Incomparable:")
    out += [f"  {a} || {b}" for a, b in incomparable] or ["  (none)"]
    return "\n".join(out) + "\n"
