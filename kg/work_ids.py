"""Work identifiers read from the SoK's paper links: what a URL says about the paper, offline.

The import stores each as ``dcterms:identifier "SCHEME:VALUE"`` on the ``gia:Work`` so that the
graph joins with DBLP, Semantic Scholar, OpenAlex or Wikidata by a key they share, without any
network access: only the text of the link is read, never the page behind it. A link that names
no identifier gives none (a personal page, a PoPETs or NDSS page, an AAAI OJS article view).

Schemes (``SCHEMES``; docs/assess-and-audit.md, "Work identifiers"):

* ``arXiv:2001.02610``: the arXiv identifier without its version (``v2``), from ``/abs/``,
  ``/pdf/`` (with or without ``.pdf``), ``/html/`` and the broken ``/paper/`` links; old-style
  identifiers (``arXiv:cs/0112017``) too.
* ``doi:10.1145/3592800``: a DOI as the link writes it (DOIs compare case-insensitively), from
  ``doi.org``, any ``/doi/[abs|full|pdf|epdf|fullHtml|reader/]10.x/...`` path (ACM, Wiley, T&F)
  and Springer's ``/article|chapter|content/pdf|book/10.x/...`` paths.
* ``ieeexplore:10025466``: the IEEE Xplore document (article) number, from ``/document/N`` and
  ``/abstract/document/N``, and ``arnumber=N`` links. Not a DOI: IEEE DOIs cannot be derived.
* ``openreview:e7A0B99zJf``: the OpenReview forum id, from ``forum?id=``, ``pdf?id=`` and the
  broken ``paper?id=``.
* ``usenix:usenixsecurity23-yue``: the USENIX paper's conference and presentation slugs, joined
  by ``-``: the stem of its file ``/system/files/usenixsecurity23-yue.pdf`` or, from a
  presentation page ``/conference/usenixsecurity23/presentation/yue``, the same string.
* ``cvf:CVPR2021/Yin_See_Through_..._CVPR_2021_paper``: the CVF Open Access conference folder and
  the paper's file stem, from which both its ``html/`` page and its ``papers/`` PDF are rebuilt.
* ``neurips:2020/c4ede56bbd98819ae6112b20ac6bf145``: the NeurIPS proceedings year and paper hash.
* ``pmlr:v202/kariyappa23a``: the PMLR volume and paper key.
* ``pii:S016740482200431X``: Elsevier's Publisher Item Identifier of a ScienceDirect article.

A broken link (``.paper`` for ``.pdf``, ``arxiv.org/paper/``) still names its paper: the audit
check ``unresolvable-link`` reports the link, the identifier is read all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

#: The identifier schemes, as written before the ``:`` of a ``dcterms:identifier``.
SCHEMES = ("arXiv", "doi", "ieeexplore", "openreview", "usenix", "cvf", "neurips", "pmlr", "pii")

_ARXIV_ID = r"(?P<id>[0-9]{4}\.[0-9]{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]+)?"
_ARXIV = re.compile(rf"^/(?:abs|pdf|paper|html|format)/{_ARXIV_ID}(?:\.pdf|\.paper)?/?$")
_DOI = r"(?P<doi>10\.[0-9]{4,9}/\S+)"
_DOI_PATH = re.compile(rf"^/doi/(?:(?:abs|full|pdf|epdf|fullHtml|reader|book)/)?{_DOI}$")
_SPRINGER = re.compile(rf"^/(?:article|chapter|content/pdf|book|referenceworkentry|protocol)/{_DOI}$")
_IEEE = re.compile(r"^/(?:abstract/)?document/(?P<n>[0-9]{1,12})(?:/.*)?$")
_USENIX_FILE = re.compile(r"^/system/files/(?P<stem>[a-z]+[0-9]{2}-[a-z0-9][a-z0-9-]*)\.(?:pdf|paper)$")
_USENIX_PAGE = re.compile(r"^/conference/(?P<conf>[a-z]+[0-9]{2})/presentation/(?P<slug>[a-z0-9][a-z0-9-]*)/?$")
_CVF = re.compile(
    r"^/(?:content/(?P<folder>[A-Za-z]+[0-9]{4}[A-Za-z]?)|content_(?P<old>[A-Za-z]+_[0-9]{4}))"
    r"(?:/[A-Za-z0-9_-]+)?/(?:papers|html)/(?P<stem>[A-Za-z0-9_-]+_paper)\.(?:pdf|html|paper)$"
)
_NEURIPS = re.compile(r"^/paper(?:_files/paper)?/(?P<year>[0-9]{4})/(?:file|hash)/(?P<hash>[0-9a-f]{32})-")
_PMLR = re.compile(r"^/(?P<volume>v[0-9]+)/(?P<key>[a-z][a-z0-9_-]*)(?:\.html|\.pdf|/.*)?$")
_PII = re.compile(r"^/science/article/(?:abs/)?pii/(?P<pii>S[0-9]{7}[0-9X][0-9]{7}[0-9X])/?$")


@dataclass(frozen=True, order=True)
class WorkId:
    """One identifier of a paper: its scheme (one of ``SCHEMES``) and its value in that scheme."""

    scheme: str
    value: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


def parse_identifier(url: str) -> WorkId | None:
    """The identifier a paper link names, or None when the link names none that is known here.

    Only the link's text is read (host, path, query); the scheme and ``www.`` of the host and a
    ``#fragment`` do not matter. Percent-escapes in a DOI are decoded.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path
    query = parse_qs(parts.query)
    for rule in _RULES.get(host, ()) + _ANY_HOST:
        found = rule(path, query)
        if found is not None:
            return found
    return None


def _arxiv(path: str, query: dict) -> WorkId | None:
    match = _ARXIV.match(path)
    return WorkId("arXiv", match.group("id")) if match else None


def _doi_org(path: str, query: dict) -> WorkId | None:
    match = re.match(rf"^/{_DOI}$", unquote(path))
    return WorkId("doi", match.group("doi").rstrip("/")) if match else None


def _doi_path(path: str, query: dict) -> WorkId | None:
    match = _DOI_PATH.match(unquote(path))
    return WorkId("doi", match.group("doi").rstrip("/")) if match else None


def _springer(path: str, query: dict) -> WorkId | None:
    match = _SPRINGER.match(unquote(path))
    return WorkId("doi", match.group("doi").rstrip("/").removesuffix(".pdf")) if match else None


def _ieee(path: str, query: dict) -> WorkId | None:
    match = _IEEE.match(path)
    if match:
        return WorkId("ieeexplore", match.group("n"))
    numbers = query.get("arnumber", [])
    if len(numbers) == 1 and re.fullmatch(r"[0-9]{1,12}", numbers[0]):
        return WorkId("ieeexplore", numbers[0])
    return None


def _openreview(path: str, query: dict) -> WorkId | None:
    ids = query.get("id", [])
    if path.rstrip("/") in ("/forum", "/pdf", "/paper") and len(ids) == 1 \
            and re.fullmatch(r"[A-Za-z0-9_-]+", ids[0]):
        return WorkId("openreview", ids[0])
    return None


def _usenix(path: str, query: dict) -> WorkId | None:
    match = _USENIX_FILE.match(path)
    if match:
        return WorkId("usenix", match.group("stem"))
    match = _USENIX_PAGE.match(path)
    return WorkId("usenix", f"{match.group('conf')}-{match.group('slug')}") if match else None


def _cvf(path: str, query: dict) -> WorkId | None:
    match = _CVF.match(path)
    if match is None:
        return None
    folder = match.group("folder") or match.group("old").replace("_", "").upper()
    return WorkId("cvf", f"{folder}/{match.group('stem')}")


def _neurips(path: str, query: dict) -> WorkId | None:
    match = _NEURIPS.match(path)
    return WorkId("neurips", f"{match.group('year')}/{match.group('hash')}") if match else None


def _pmlr(path: str, query: dict) -> WorkId | None:
    match = _PMLR.match(path)
    return WorkId("pmlr", f"{match.group('volume')}/{match.group('key')}") if match else None


def _pii(path: str, query: dict) -> WorkId | None:
    match = _PII.match(path)
    return WorkId("pii", match.group("pii")) if match else None


#: Rules by host (without ``www.``), tried in order; then the rules for any host.
_RULES = {
    "arxiv.org": (_arxiv,),
    "export.arxiv.org": (_arxiv,),
    "doi.org": (_doi_org,),
    "dx.doi.org": (_doi_org,),
    "link.springer.com": (_springer,),
    "ieeexplore.ieee.org": (_ieee,),
    "openreview.net": (_openreview,),
    "usenix.org": (_usenix,),
    "openaccess.thecvf.com": (_cvf,),
    "proceedings.neurips.cc": (_neurips,),
    "papers.nips.cc": (_neurips,),
    "papers.neurips.cc": (_neurips,),
    "proceedings.mlr.press": (_pmlr,),
    "sciencedirect.com": (_pii,),
}
_ANY_HOST = (_doi_path,)
