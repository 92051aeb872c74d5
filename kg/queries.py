"""The catalog of saved queries (queries/*.rq) and how their parameters are bound.

Each ``.rq`` file holds one SPARQL query with a grlc-style ``#+`` header::

    #+ summary: one line
    #+ description: one line (may continue on following ``#+   `` lines)
    #+ params:
    #+   - covered: threat_model
    #+   - min_level: level; values=effective|partial; default=effective
    #+ example: gia-kg query NAME -p covered=G

Parameters are the variables ``?_name``; they are bound as typed RDF terms (pyoxigraph
``substitutions``), never spliced into the text. Oxigraph only substitutes projected variables,
so a query also SELECTs (and GROUPs BY) its parameters; the engine leaves them out of the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.engine import Dataset, ResultTable, Term, open_dataset, term_text
from kg.errors import InputError, UsageError
from kg.paths import QUERIES_DIR

XSD = "http://www.w3.org/2001/XMLSchema#"

#: Parameter types. Values of the vocabulary types are read from the graph (queries/vocab/<type>.rq:
#: a threat model's letter, a level's label), so a new threat model needs no code change.
VOCABULARY_TYPES = ("threat_model", "level")
PARAM_TYPES = (*VOCABULARY_TYPES, "integer", "string")
VOCAB_DIR = QUERIES_DIR / "vocab"

#: Per vocabulary type: value → RDF term, in the order the vocabulary query gives.
Vocabulary = dict[str, dict[str, Term]]

_HEADER = re.compile(r"^#\+\s?(.*)$")
_KEY = re.compile(r"^([a-z_]+):\s*(.*)$")
_ITEM = re.compile(r"^\s+-\s+([A-Za-z][A-Za-z0-9_]*):\s*(.+)$")
_PARAM_VAR = re.compile(r"[?$]_([A-Za-z][A-Za-z0-9_]*)")
_COMMENT = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|<[^<>"{}|^`\\\s]*>')


@dataclass(frozen=True)
class Param:
    """One declared parameter of a saved query."""

    name: str
    type: str
    allowed: tuple[str, ...] | None = None
    default: str | None = None

    @property
    def required(self) -> bool:
        """A parameter without a default must be given."""
        return self.default is None

    def choices(self, vocab: Vocabulary | None = None) -> tuple[str, ...] | None:
        """The values this parameter accepts (None: any value of its type)."""
        if self.type in VOCABULARY_TYPES and vocab is not None:
            known = tuple(vocab.get(self.type, {}))
            return tuple(v for v in known if v in self.allowed) if self.allowed else known
        return self.allowed

    def describe(self, vocab: Vocabulary | None = None) -> str:
        """``name=<A|B|...>`` with the default, for listings and error messages."""
        choices = self.choices(vocab)
        values = "|".join(choices) if choices else self.type
        text = f"{self.name}=<{values}>"
        return text if self.required else f"[{text}, default {self.default}]"

    def term(self, value: str, where: str, vocab: Vocabulary | None = None) -> Term:
        """The RDF term for a value, after checking it against the type and allowed values."""
        value = value.strip()
        choices = self.choices(vocab)
        if choices is not None:
            by_case = {c.casefold(): c for c in choices}
            if value.casefold() not in by_case:
                raise UsageError(
                    f"{where}: parameter {self.name}={value!r} is not one of " + ", ".join(choices)
                )
            value = by_case[value.casefold()]
        if self.type in VOCABULARY_TYPES:
            if vocab is None or value not in vocab.get(self.type, {}):
                raise UsageError(f"{where}: parameter {self.name}={value!r}: no such {self.type}")
            return vocab[self.type][value]
        if self.type == "integer":
            try:
                return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
            except ValueError:
                raise UsageError(
                    f"{where}: parameter {self.name}={value!r} is not an integer"
                ) from None
        return ox.Literal(value)


@dataclass(frozen=True)
class SavedQuery:
    """One queries/*.rq file: its header and its SPARQL text."""

    name: str
    path: Path
    summary: str
    description: str
    params: tuple[Param, ...]
    example: str
    text: str
    tags: tuple[str, ...] = field(default=())
    #: Every single-line ``#+ key: value`` of the header (e.g. ``title`` and ``columns`` of the
    #: table queries), for the tools that need more than the saved-query fields.
    meta: dict[str, str] = field(default_factory=dict)

    def header_list(self, key: str) -> list[str]:
        """A ``|``-separated header value as a list (e.g. ``#+ columns: A | B``)."""
        return [item.strip() for item in self.meta.get(key, "").split("|") if item.strip()]

    def param(self, name: str) -> Param | None:
        """The declared parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)

    def used_params(self) -> set[str]:
        """Names of the ``?_name`` variables used in the query body (comments/strings ignored)."""
        return set(_PARAM_VAR.findall(_COMMENT.sub(" ", self.text)))

    def bindings(self, values: dict[str, str], vocab: Vocabulary | None = None) -> dict[str, Term]:
        """Validate ``values`` and turn them (plus defaults) into ``{variable: term}``."""
        where = f"query {self.name}"
        unknown = sorted(set(values) - {p.name for p in self.params})
        if unknown:
            valid = ", ".join(p.describe(vocab) for p in self.params) or "none"
            raise UsageError(
                f"{where}: unknown parameter {unknown[0]!r}; valid parameters: {valid}"
            )
        out: dict[str, Term] = {}
        for param in self.params:
            value = values.get(param.name, param.default)
            if value is None:
                raise UsageError(
                    f"{where}: missing parameter {param.name} (-p {param.describe(vocab)})"
                )
            out["_" + param.name] = param.term(value, where, vocab)
        return out


def _parse_param(spec_name: str, spec: str, where: str) -> Param:
    parts = [p.strip() for p in spec.split(";")]
    ptype = parts[0]
    if ptype not in PARAM_TYPES:
        raise InputError(
            f"{where}: parameter {spec_name} has type {ptype!r}; expected one of "
            + ", ".join(PARAM_TYPES)
        )
    allowed = None
    default = None
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key == "values" and value:
            allowed = tuple(v.strip() for v in value.split("|"))
        elif key == "default" and value:
            default = value.strip()
        else:
            raise InputError(f"{where}: parameter {spec_name}: expected 'values=a|b' or "
                             f"'default=x', got {part!r}")
    if default is not None and allowed is not None and default not in allowed:
        raise InputError(
            f"{where}: parameter {spec_name}: default {default!r} not in allowed values"
        )
    return Param(spec_name, ptype, allowed, default)


def parse_query_file(path: Path) -> SavedQuery:
    """Read one .rq file; a malformed header is an InputError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    meta: dict[str, str] = {}
    params: list[Param] = []
    tags: list[str] = []
    current = None
    for lineno, line in enumerate(text.splitlines(), 1):
        match = _HEADER.match(line)
        if not match:
            if line.strip() and not line.startswith("#"):
                break
            continue
        body = match.group(1)
        where = f"{path}:{lineno}"
        key = _KEY.match(body)
        item = _ITEM.match(body)
        if key and not body.startswith(" "):
            current = key.group(1)
            if key.group(2):
                meta[current] = key.group(2).strip()
        elif item and current == "params":
            params.append(_parse_param(item.group(1), item.group(2), where))
        elif current == "tags" and body.strip().startswith("- "):
            tags.append(body.strip()[2:].strip())
        elif current in {"description", "summary"} and body.strip():
            meta[current] = (meta.get(current, "") + " " + body.strip()).strip()
        elif body.strip():
            raise InputError(f"{where}: unexpected header line {body.strip()!r}")
    where = str(path)
    if not meta.get("summary"):
        raise InputError(f"{where}: missing '#+ summary:' header line")
    return SavedQuery(
        name=path.stem,
        path=path,
        summary=meta["summary"],
        description=meta.get("description", ""),
        params=tuple(params),
        example=meta.get("example", ""),
        text=text,
        tags=tuple(tags),
        meta=meta,
    )


def load_catalog(folder: str | Path = QUERIES_DIR) -> dict[str, SavedQuery]:
    """Every saved query of a folder (top level only), by name, sorted."""
    return {p.stem: parse_query_file(p) for p in sorted(Path(folder).glob("*.rq"))}


def get_query(name: str, folder: str | Path = QUERIES_DIR) -> SavedQuery:
    """One saved query; an unknown name is a UsageError listing the valid ones."""
    path = Path(folder) / f"{name}.rq"
    if not path.is_file() or "/" in name or name.startswith("."):
        names = ", ".join(sorted(p.stem for p in Path(folder).glob("*.rq")))
        raise UsageError(f"unknown query {name!r}; valid queries: {names}")
    return parse_query_file(path)


def run_saved(
    name: str,
    params: dict[str, str] | None = None,
    kg_dir: str | Path | None = None,
    dataset: Dataset | None = None,
    *,
    folder: str | Path = QUERIES_DIR,
) -> ResultTable:
    """Run one saved query with validated, typed parameters."""
    query = get_query(name, folder)
    data = dataset if dataset is not None else open_dataset(kg_dir)
    bindings = query.bindings(params or {}, vocabulary(data) if query.params else None)
    return data.select(query.text, bindings)


def vocabulary(dataset: Dataset) -> Vocabulary:
    """Value → term for each vocabulary parameter type, read from the graph."""
    out: Vocabulary = {}
    for kind in VOCABULARY_TYPES:
        table = dataset.select((VOCAB_DIR / f"{kind}.rq").read_text(encoding="utf-8"))
        out[kind] = {term_text(value): term for value, term in table.sorted_rows()}
    return out


def render_catalog(catalog: dict[str, SavedQuery], vocab: Vocabulary | None = None) -> str:
    """The ``gia-kg queries`` listing: name and parameters, summary, example invocation."""
    out: list[str] = []
    for name, query in sorted(catalog.items()):
        params = " ".join(f"-p {p.describe(vocab)}" for p in query.params)
        out.append(f"{name}  {params}".rstrip())
        out.append(f"    {query.summary}")
        if query.example:
            out.append(f"    e.g. {query.example}")
    return "\n".join(out) + "\n"


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``-p covered=G`` flags → ``{"covered": "G"}``; a repeated key is an error."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-p {item!r}: expected key=value")
        if key.strip() in out:
            raise UsageError(f"-p {item!r}: parameter {key.strip()} given twice")
        out[key.strip()] = value.strip()
    return out
