"""Slug rules of docs/data-model.md: the readable, row-order-independent part of instance IRIs."""

from __future__ import annotations

import re
import unicodedata

#: English stop words skipped when picking "significant" title words (docs/data-model.md).
STOP_WORDS = frozenset(
    {"a", "an", "the", "of", "in", "on", "for", "from", "to", "with", "via", "and", "do", "we",
     "is", "it", "by", "at", "as"}
)


#: Latin letters that NFKD does not decompose into ASCII, spelt as English text spells them.
_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o",
                        "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th",
                        "Þ": "Th", "ı": "i"})


def fold(text: str) -> str:
    """ASCII-fold ``text`` so slugs stay plain ASCII: always ASCII, whatever the input.

    ``Mjölnir`` -> ``Mjolnir`` (NFKD, then accents and other combining marks dropped);
    fullwidth ``ＲｅｓＮｅｔ`` -> ``ResNet`` (NFKD); invisible format characters (U+200B, U+00AD)
    are dropped. Any other non-ASCII character becomes a space, i.e. a word separator: a
    non-breaking hyphen in ``ResNet‑18`` or an em dash then separates words like ``-`` does,
    instead of gluing them (``resnet18``) into a slug that differs from ``ResNet-18``'s.
    """
    out = []
    for ch in unicodedata.normalize("NFKD", text.translate(_LATIN)):
        if ch.isascii():
            out.append(ch)
        elif unicodedata.category(ch)[0] != "M" and unicodedata.category(ch) != "Cf":
            out.append(" ")
    return "".join(out)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by ``-`` (every run of other characters is one separator)."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text).lower(), flags=re.ASCII).strip("-")


def significant_words(title: str, count: int) -> list[str]:
    """The first ``count`` whitespace-separated title words that are not stop words, slugified.

    A word keeps its inner hyphens (``R-GAP`` -> ``r-gap``); words that slugify to nothing
    (a lone ``-`` or ``—``) are skipped.
    """
    words = []
    for raw in title.split():
        word = slugify(raw)
        if word and word not in STOP_WORDS:
            words.append(word)
        if len(words) == count:
            break
    return words


def work_slug(title: str, first_author: str | None = None, year: int | None = None) -> str:
    """``<author>-<year>-<two title words>`` when both are known, else ``<three title words>``."""
    if first_author and year is not None:
        return "-".join([slugify(first_author), str(year), *significant_words(title, 2)])
    return "-".join(significant_words(title, 3))
