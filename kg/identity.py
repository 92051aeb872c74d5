"""Stable identifiers: the registry that keeps an SoK entity's IRI the same in every release.

The SoK is a living README: names, titles, author lists, venues and even reference numbers change
between releases. An IRI published once must keep naming the same thing, so the importer does not
derive IRIs from the text alone; it asks the registry first and mints (and records) only what it
has never seen. See docs/identifiers.md for the rules; in short:

- a **work** (a paper) is recognised by any of its normalized link URLs, else by its normalized
  title (only when that title names one work), else, when both changed, by its reference number
  in the release the registry last saw *and* the same first author and year from the attack
  table: the last resort, for a placeholder title replaced together with its link. A number alone
  never decides (a paper replaced by another under the same number must get a new IRI), and a
  renumbered bibliography is matched by links and titles before numbers are looked at;
- a **reference entry** by its work and its rank among that work's entries (the SoK lists one
  paper twice: [21] and [44]);
- an **attack row** by its work; a **defense row** by any of the works it cites;
- threat models (letter) and assessments (defense + letter) need no entry: their IRIs follow.

The registry is a sorted TSV (``registry.tsv``, columns ``iri``, ``kind``, ``key``) kept beside the
Turtle files of a data folder and committed with the shipped data. Rows are only ever added: an
IRI once minted is never given to another entity (minting appends ``-2``, ``-3`` ... to a slug
already taken). ``number:N`` rows are the exception: they record the latest release's numbering
and are rewritten on each import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError
from kg.namespaces import resource_iri

REGISTRY_NAME = "registry.tsv"
HEADER = "iri\tkind\tkey"
KINDS = ("work", "reference", "attack", "defense")


def normalize_url(url: str) -> str:
    """``https://www.Example.org/a/`` and ``http://example.org/a`` are one link."""
    text = url.strip()
    text = re.sub(r"^https?://", "", text, flags=re.IGNORECASE)
    host, slash, rest = text.partition("/")
    host = host.lower().removeprefix("www.")
    return (host + slash + rest).rstrip("/")


def normalize_title(title: str) -> str:
    """Case, accents, punctuation and spacing do not make another title."""
    text = unicodedata.normalize("NFKD", title).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", text))


@dataclass
class Registry:
    """Keys (``kind`` + ``key``) to IRIs; what the importer consulted and added."""

    rows: set[tuple[str, str, str]] = field(default_factory=set)
    source: Path | None = None

    # ------------------------------------------------------------ reading and writing

    @classmethod
    def read(cls, path: Path) -> Registry:
        """The registry in ``path``; a missing file is an empty registry."""
        from kg.inputs import read_text

        registry = cls(source=path)
        if not path.exists():
            return registry
        lines = read_text(path).splitlines()
        if not lines or lines[0] != HEADER:
            raise InputError(f"{path}:1: expected the header {HEADER!r}")
        for number, line in enumerate(lines[1:], start=2):
            parts = line.split("\t")
            if len(parts) != 3 or parts[1] not in (*KINDS, "number") or not all(parts):
                raise InputError(f"{path}:{number}: expected IRI<TAB>KIND<TAB>KEY with KIND one of "
                                 f"{', '.join((*KINDS, 'number'))}, got {line!r}")
            registry.rows.add((parts[0], parts[1], parts[2]))
        return registry

    def text(self) -> str:
        """Sorted TSV, one key a line (stable diffs)."""
        body = sorted(f"{iri}\t{kind}\t{key}" for iri, kind, key in self.rows)
        return HEADER + "\n" + "".join(line + "\n" for line in body)

    def copy(self) -> Registry:
        return Registry(set(self.rows), self.source)

    # ------------------------------------------------------------ lookups

    def iris(self, kind: str, key: str) -> set[str]:
        """The IRIs recorded for one key."""
        return {iri for iri, k, kk in self.rows if k == kind and kk == key}

    def minted(self) -> set[str]:
        """Every IRI the registry has ever given out."""
        return {iri for iri, kind, _ in self.rows if kind != "number"}

    def record(self, iri: str, kind: str, keys: Iterable[str]) -> None:
        for key in keys:
            self.rows.add((iri, kind, key))

    def mint(self, kind: str, slug: str, taken: set[str]) -> str:
        """A new IRI of ``kind`` from ``slug``, never one the registry or this release already has."""
        used = self.minted() | taken
        iri, n = resource_iri(_PREFIX[kind], slug), 2
        while iri in used:
            iri, n = resource_iri(_PREFIX[kind], f"{slug}-{n}"), n + 1
        return iri

    def numbering(self) -> dict[int, str]:
        """Reference number -> work IRI, as the last imported release numbered them."""
        return {int(key): iri for iri, kind, key in self.rows if kind == "number"}

    def renumber(self, numbers: dict[int, str]) -> None:
        """Replace the recorded numbering with this release's."""
        self.rows = {row for row in self.rows if row[1] != "number"}
        self.rows |= {(iri, "number", str(n)) for n, iri in numbers.items()}


_PREFIX = {"work": "work", "reference": "ref", "attack": "attack", "defense": "defense"}


def author_key(author: str | None, year: int | None) -> str | None:
    """``author:zhu-2019``: the attack table's first author and year of a work, if it gives them."""
    from kg.slugs import slugify

    if author is None or year is None or not slugify(author):
        return None
    return f"author:{slugify(author)}-{year}"


def work_keys(title: str, urls: Iterable[str], author: str | None = None,
              year: int | None = None) -> list[str]:
    """The identity keys of a work: its links, its title, and its first author and year."""
    keys = sorted({f"url:{normalize_url(u)}" for u in urls if u.strip()})
    title_key = normalize_title(title)
    if title_key:
        keys.append(f"title:{title_key}")
    who = author_key(author, year)
    if who:
        keys.append(who)
    return keys


@dataclass(frozen=True)
class Candidate:
    """A work as one release shows it: title, link URLs, reference numbers, author key."""

    title: str
    urls: tuple[str, ...]
    numbers: tuple[int, ...]
    author: str | None = None


def match_works(registry: Registry, candidates: list[Candidate]) -> dict[int, str]:
    """For each candidate work, the registered IRI it is, if any: ``{candidate index: IRI}``.

    Each IRI is given to one candidate at most. Links first, then a title that names one work
    only, then the last release's reference number when the first author and year agree.
    """
    found: dict[int, str] = {}
    claimed: set[str] = set()

    def claim(index: int, iris: set[str]) -> None:
        free = iris - claimed
        if len(free) == 1:
            found[index] = free.pop()
            claimed.add(found[index])

    for index, work in enumerate(candidates):  # 1. any link
        iris: set[str] = set()
        for url in work.urls:
            iris |= registry.iris("work", f"url:{normalize_url(url)}")
        if iris:
            claim(index, iris)
    for index, work in enumerate(candidates):  # 2. a title that names one work
        if index not in found:
            claim(index, registry.iris("work", f"title:{normalize_title(work.title)}"))
    numbering = registry.numbering()
    for index, work in enumerate(candidates):  # 3. the slot it occupied, by the same authors
        if index not in found and work.author:
            same_slot = {numbering[n] for n in work.numbers if n in numbering}
            claim(index, same_slot & registry.iris("work", work.author))
    return found
