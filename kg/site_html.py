"""HTML for the static site (kg.site): markup that is escaped by construction, templates, links.

Every value that reaches a page goes through ``esc``: text from the graph (labels, literals, IRIs)
is escaped, and only ``Html`` fragments built here pass as they are. Page shells and prose live in
``kg/templates/`` and are filled with ``string.Template``, each value escaped the same way.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
import string
from collections.abc import Iterable

from kg.paths import PACKAGE_DIR

TEMPLATES_DIR = PACKAGE_DIR / "templates"
#: Element names that have no end tag.
VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: Attribute names: SVG has camelCase ones (viewBox).
_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


class Html(str):
    """A fragment of markup that is already safe; any other value is escaped where it meets one."""

    __slots__ = ()


def esc(value: object) -> Html:
    """``value`` as markup: an ``Html`` fragment as it is, anything else as escaped text."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    """Fragments and texts joined (each escaped unless it is ``Html``); ``sep`` is text."""
    return Html(esc(sep).join(esc(p) for p in parts))


def _attributes(attrs: dict[str, object]) -> str:
    out = []
    for key, value in attrs.items():
        name = key.rstrip("_").replace("_", "-")  # class_ -> class, data_ref -> data-ref
        if not _ATTRIBUTE.match(name):
            raise ValueError(f"not an attribute name: {name!r}")
        if value is None or value is False:
            continue
        out.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(out)


def tag(name: str, *content: object, **attrs: object) -> Html:
    """``<name attrs>content</name>``; attribute values and text content are escaped."""
    if not _NAME.match(name):
        raise ValueError(f"not an element name: {name!r}")
    if name in VOID:
        if content:
            raise ValueError(f"<{name}> has no content")
        return Html(f"<{name}{_attributes(attrs)}>")
    return Html(f"<{name}{_attributes(attrs)}>{join(content)}</{name}>")


def lines(parts: Iterable[object]) -> Html:
    """Fragments one per line (readable page source)."""
    return join(parts, "\n")


@functools.cache
def template_text(name: str) -> str:
    """A file of kg/templates/ (UTF-8)."""
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def fill(name: str, **values: object) -> Html:
    """Template ``name`` with every ``$key`` replaced by its escaped value (a missing one is a bug)."""
    return Html(string.Template(template_text(name)).substitute({k: esc(v) for k, v in values.items()}))


def rel(page: str, target: str) -> str:
    """The relative URL from site path ``page`` to site path ``target`` (``path#fragment``)."""
    path, _, fragment = target.partition("#")
    url = posixpath.relpath(path, posixpath.dirname(page) or ".") if path else posixpath.basename(page)
    return f"{url}#{fragment}" if fragment else url


def link(page: str, target: str, text: object, **attrs: object) -> Html:
    """An ``<a>`` from ``page`` to the site path ``target``."""
    return tag("a", text, href=rel(page, target), **attrs)


def table(headers: Iterable[object], rows: Iterable[Iterable[object]], **attrs: object) -> Html:
    """A plain table: one header row, then one ``<td>`` per cell (cells may be ``Html``)."""
    head = tag("thead", tag("tr", *(tag("th", h, scope="col") for h in headers)))
    body = tag("tbody", lines(tag("tr", *(tag("td", c) for c in row)) for row in rows))
    return tag("table", Html("\n"), head, Html("\n"), body, Html("\n"), **attrs)


def anchor(text: str) -> str:
    """An element id for ``text`` (``gia:Attack`` -> ``gia-Attack``): letters, digits, ``-``, ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text).strip("-") or "_"
