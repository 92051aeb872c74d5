"""The Hasse diagram of the threat-model order as inline SVG, laid out here (no Graphviz needed).

Layout, deterministic for a given order: each threat model's layer is the length of the longest
chain of covering edges below it (weakest at the bottom); within a layer, nodes go left to right
by the mean x of the nodes they cover (ties by letter), then are pushed apart to a fixed gap and
re-centred on those targets. Equivalent threat models (equal capability sets) have the same
neighbours, so they sit side by side, joined by a dashed line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kg.errors import InputError
from kg.site_html import Html, esc, join, lines, tag

#: Sizes in SVG user units (px): line heights, padding, gaps between boxes and layers.
TITLE_LINE, CAP_LINE, PAD = 18, 15, 8
H_GAP, V_GAP, MARGIN = 36, 54, 12
#: Estimated glyph widths (px) of the title (13px bold) and capability (11.5px) lines.
TITLE_CHAR, CAP_CHAR = 7.6, 6.4


@dataclass(frozen=True)
class Node:
    """One threat model as the diagram shows it; ``new`` are the capabilities no model below has."""

    letter: str
    name: str
    stars: str
    stars_text: str
    capabilities: tuple[str, ...]
    href: str | None = None
    new: frozenset[str] = frozenset()

    @property
    def title(self) -> str:
        """``B · Informed Eavesdropper``."""
        return f"{self.letter} · {self.name}"

    def wrapped(self, width: int) -> list[list[str]]:
        """The capabilities as lines of at most ``width`` characters (``A, B,`` style)."""
        out: list[list[str]] = [[]]
        used = 0
        for i, capability in enumerate(self.capabilities):
            size = len(capability) + (1 if i < len(self.capabilities) - 1 else 0)
            if out[-1] and used + 1 + size > width:
                out.append([])
                used = 0
            used += size + (1 if out[-1] else 0)
            out[-1].append(capability)
        return out if self.capabilities else []

    def height(self, width: int) -> int:
        """Box height: title and stars lines, then the wrapped capability lines."""
        return 2 * PAD + 2 * TITLE_LINE + CAP_LINE * len(self.wrapped(width))


@dataclass(frozen=True)
class Box:
    """A placed node: top-left corner and size."""

    node: Node
    x: int
    y: int
    width: int
    height: int

    @property
    def top(self) -> tuple[int, int]:
        return (self.x + self.width // 2, self.y)

    @property
    def bottom(self) -> tuple[int, int]:
        return (self.x + self.width // 2, self.y + self.height)


def chars_per_line(width: int) -> int:
    """How many capability characters fit in a box ``width`` px wide."""
    return int((width - 2 * PAD) / CAP_CHAR)


def layers(letters: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Letter -> layer: 0 for a model that covers none, else 1 + the highest layer it covers.

    ``edges`` are (stronger, weaker) covering pairs; an unknown letter or a cycle is an InputError
    (the order is materialised by ``gia-kg reason``, so either means stale or hand-edited data).
    """
    known = set(letters)
    below: dict[str, list[str]] = {letter: [] for letter in letters}
    for stronger, weaker in edges:
        for letter in (stronger, weaker):
            if letter not in known:
                raise InputError(f"threat-model order: edge {stronger} > {weaker} names {letter}, "
                                 "which is not a threat model of the graph (re-run gia-kg reason)")
        below[stronger].append(weaker)
    layer: dict[str, int] = {}
    visiting: list[str] = []

    def visit(letter: str) -> int:
        if letter in layer:
            return layer[letter]
        if letter in visiting:
            cycle = " > ".join([*visiting[visiting.index(letter):], letter])
            raise InputError(f"threat-model order: cycle {cycle} (re-run gia-kg reason)")
        visiting.append(letter)
        layer[letter] = 1 + max((visit(w) for w in sorted(below[letter])), default=-1)
        visiting.pop()
        return layer[letter]

    for letter in sorted(letters):
        visit(letter)
    return layer


def _spread(targets: list[float], gap: float) -> list[float]:
    """Positions as close to ``targets`` (ascending) as a minimum distance ``gap`` allows."""
    placed: list[float] = []
    for target in targets:
        placed.append(target if not placed else max(target, placed[-1] + gap))
    shift = sum(t - p for t, p in zip(targets, placed, strict=True)) / len(placed)
    return [p + shift for p in placed]


def layout(nodes: Sequence[Node], edges: Sequence[tuple[str, str]]) -> tuple[list[Box], int, int]:
    """The placed boxes (by letter) and the drawing's width and height."""
    by_letter = {n.letter: n for n in nodes}
    layer = layers(list(by_letter), edges)
    below: dict[str, list[str]] = {letter: [] for letter in by_letter}
    for stronger, weaker in edges:
        below[stronger].append(weaker)
    longest = max([len(n.title) * TITLE_CHAR for n in nodes]
                  + [(len(c) + 1) * CAP_CHAR for n in nodes for c in n.capabilities] + [120])
    width = int(longest) + 2 * PAD
    chars = chars_per_line(width)
    centre: dict[str, float] = {}
    rows: list[list[str]] = []
    for level in range(max(layer.values(), default=-1) + 1):
        members = [letter for letter in sorted(by_letter) if layer[letter] == level]

        def target(letter: str) -> float:
            xs = [centre[w] for w in below[letter]]
            return sum(xs) / len(xs) if xs else 0.0

        members.sort(key=lambda letter: (target(letter), letter))
        targets = [target(letter) for letter in members]
        for letter, x in zip(members, _spread(targets, width + H_GAP), strict=True):
            centre[letter] = x
        rows.append(members)
    left = min(centre.values(), default=0.0) - width / 2
    right = max(centre.values(), default=0.0) + width / 2
    heights = [max(by_letter[letter].height(chars) for letter in row) for row in rows]
    total_height = sum(heights) + V_GAP * max(len(rows) - 1, 0) + 2 * MARGIN
    boxes = []
    y = MARGIN
    for row, row_height in reversed(list(zip(rows, heights, strict=True))):  # strongest on top
        for letter in row:
            node = by_letter[letter]
            x = round(centre[letter] - width / 2 - left) + MARGIN
            height = node.height(chars)
            boxes.append(Box(node, x, y + (row_height - height) // 2, width, height))
        y += row_height + V_GAP
    boxes.sort(key=lambda b: b.node.letter)
    return boxes, round(right - left) + 2 * MARGIN, total_height


def svg(
    nodes: Sequence[Node],
    edges: Sequence[tuple[str, str]],
    equivalent: Sequence[tuple[str, str]] = (),
    *,
    describe: Callable[[str, str], str] | None = None,
) -> Html:
    """The diagram: one ``<line data-edge="B>A">`` per covering edge, one linked box per model.

    ``describe(stronger, weaker)`` gives an edge's tooltip; equivalent pairs get a dashed
    ``<line data-equivalent="F=G">``.
    """
    boxes, width, height = layout(nodes, edges)
    at = {b.node.letter: b for b in boxes}
    parts: list[Html] = [tag("title", "Hasse diagram of the SoK's threat models"),
                         tag("desc", "Higher boxes are stronger threat models; a line joins a "
                             "model to each model it is directly stronger than.")]
    for stronger, weaker in sorted(edges):
        (x1, y1), (x2, y2) = at[stronger].bottom, at[weaker].top
        text = describe(stronger, weaker) if describe else f"{stronger} > {weaker}"
        parts.append(tag("line", tag("title", text), class_="edge", data_edge=f"{stronger}>{weaker}",
                         x1=x1, y1=y1, x2=x2, y2=y2))
    for first, second in sorted(equivalent):
        a, b = sorted((at[first], at[second]), key=lambda box: box.x)
        y = a.y + a.height // 2
        parts.append(tag("line", tag("title", f"{first} ≡ {second}: the same capabilities"),
                         class_="equivalent", data_equivalent=f"{first}={second}",
                         x1=a.x + a.width, y1=y, x2=b.x, y2=y))
    for box in boxes:
        parts.append(_node(box))
    return tag("svg", Html("\n"), lines(parts), Html("\n"), xmlns="http://www.w3.org/2000/svg",
               viewBox=f"0 0 {width} {height}", width=width, height=height, role="img",
               aria_label="Hasse diagram of the threat-model order")


def _node(box: Box) -> Html:
    node = box.node
    x = box.x + PAD
    y = box.y + PAD
    texts = [tag("text", node.title, class_="title", x=x, y=y + TITLE_LINE - 4),
             tag("text", node.stars, tag("title", node.stars_text), class_="stars", x=x,
                 y=y + 2 * TITLE_LINE - 4)]
    wrapped = node.wrapped(chars_per_line(box.width))
    for i, line in enumerate(wrapped):
        spans = []
        for j, capability in enumerate(line):
            last = i == len(wrapped) - 1 and j == len(line) - 1
            text = capability + ("" if last else ",") + (" " if j < len(line) - 1 else "")
            spans.append(tag("tspan", text, class_="new") if capability in node.new else esc(text))
        texts.append(tag("text", join(spans), class_="cap", x=x,
                         y=y + 2 * TITLE_LINE + CAP_LINE * (i + 1) - 3))
    added = [c for c in node.capabilities if c in node.new]
    tooltip = (f"{node.title}: {', '.join(node.capabilities)}; {node.stars} {node.stars_text}"
               + (f"; new here: {', '.join(added)}" if added else ""))
    group = tag("g", tag("title", tooltip),
                tag("rect", x=box.x, y=box.y, width=box.width, height=box.height, rx=6),
                join(texts), class_="node", data_threat_model=node.letter)
    return tag("a", group, href=node.href) if node.href else group


__all__ = ["Box", "Node", "layers", "layout", "svg"]
