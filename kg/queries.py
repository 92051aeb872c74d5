"""The catalog of saved queries (queries/*.rq) and how their parameters are bound.

Each ``.rq`` file holds one SPARQL query with a grlc-style ``#+`` header::

    #+ summary: one line
    #+ description: one line (may continue on following ``#+   `` lines)
    #+ params:
    #+   - covered: threat_model
    #+   - min_level: level; values=effective|partial; default=effective
    #+ example: gia-kg query NAME -p covered=G

Parameters follow grlc's (and BASIL's) variable convention, so the same file runs on grlc and on
any SPARQL 1.1 engine: parameter ``min_level`` of an IRI type (threat_model, level, attack) is the
variable ``?_minLevel_iri``, an integer ``?_name_integer``, a string ``?_name`` (grlc reads ``_``
as the start of a suffix, hence camelCase). A value is first validated (vocabulary, type), then
its RDF term is serialised (N-Triples syntax: an IRI Oxigraph accepted, or an escaped literal)
and written in place of the variable, outside strings, IRIs and comments, as grlc does. Never the
user's raw text. Parameters appear only in the WHERE clause, never in SELECT or GROUP BY, and
each query has an explicit ORDER BY, so every engine gives the same rows in the same order.

The values of a vocabulary type are read from the graph by queries/vocab/<type>.rq. A vocabulary
query that also projects ``?label`` and ``?kind`` (attack.rq) names things by reference number,
label or a unique part of a label; its rows of another kind (defenses) only explain mistakes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.engine import Dataset, ResultTable, Term, open_dataset, term_text
from kg.errors import InputError, UsageError
from kg.paths import QUERIES_DIR

XSD = "http://www.w3.org/2001/XMLSchema#"

#: Parameter types. Values of the vocabulary types are read from the graph (queries/vocab/<type>.rq:
#: a threat model's letter, a level's label), so a new threat model needs no code change.
VOCABULARY_TYPES = ("threat_model", "level", "attack")
PARAM_TYPES = (*VOCABULARY_TYPES, "integer", "string")
VOCAB_DIR = QUERIES_DIR / "vocab"
#: At most this many candidates are listed in an "ambiguous value" message (it stays one line).
MAX_CANDIDATES = 12
#: Help text width.
HELP_WIDTH = 78


@dataclass(frozen=True)
class Entry:
    """One thing a labelled vocabulary names (an attack), or that a value may be mistaken for."""

    term: Term
    values: tuple[str, ...]
    label: str
    kind: str

    def cite(self) -> str:
        """``[42,43] label``, as the SoK cites it."""
        return f"[{','.join(self.values)}] {self.label}"


class Vocabulary(dict[str, dict[str, Term]]):
    """Per vocabulary type: value → RDF term, in the order the vocabulary query gives.

    Labelled types (attack) also keep their ``entries`` (with the other kinds, e.g. defenses,
    for error messages) and the ``listing`` command that lists their values.
    """

    def __init__(self, values: dict[str, dict[str, Term]] | None = None) -> None:
        super().__init__(values or {})
        self.entries: dict[str, tuple[Entry, ...]] = {}
        self.listing: dict[str, str] = {}


_HEADER = re.compile(r"^#\+\s?(.*)$")
_KEY = re.compile(r"^([a-z_]+):\s*(.*)$")
_ITEM = re.compile(r"^\s+-\s+([A-Za-z][A-Za-z0-9_]*):\s*(.+)$")
_PARAM_VAR = re.compile(r"[?$]_([A-Za-z][A-Za-z0-9_]*)")
_COMMENT = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|<[^<>"{}|^`\\\s]*>')
_NUMBER = re.compile(r"^\[?\s*([0-9]+)\s*\]?$")
_SELECT = re.compile(r"\bSELECT\b", re.IGNORECASE)
_TOKEN = re.compile(r"[(){}*]|[?$][A-Za-z0-9_]+|[A-Za-z_]+")
#: What a value of each parameter type is, for the help when no vocabulary is at hand.
TYPE_TEXT = {
    "threat_model": "a threat model's letter",
    "level": "an effectiveness level",
    "attack": "an attack's reference number or label",
    "integer": "an integer",
    "string": "any text",
}


def compact_numbers(values: Iterable[str], sep: str = ", ") -> str:
    """``1, 2, 3, 5`` → ``1-3, 5``: reference numbers in a message or help line."""
    numbers = sorted({int(v) for v in values if v.isascii() and v.isdigit()})
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return sep.join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _fold(text: str) -> str:
    """Case- and whitespace-insensitive form of a label or value."""
    return " ".join(text.split()).casefold()


def _article(noun: str) -> str:
    """``an attack``, ``a defense``."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _candidates(entries: list[Entry]) -> str:
    listed = ", ".join(e.cite() for e in entries[:MAX_CANDIDATES])
    more = len(entries) - MAX_CANDIDATES
    return listed + (f" and {more} more" if more > 0 else "")


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

    @property
    def variable(self) -> str:
        """The SPARQL variable (without ``?``) in grlc's convention: ``_minLevel_iri``."""
        head, *rest = self.name.split("_")
        camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
        suffix = "_iri" if self.type in VOCABULARY_TYPES else (
            "_integer" if self.type == "integer" else "")
        return f"_{camel}{suffix}"

    def choices(self, vocab: Vocabulary | None = None) -> tuple[str, ...] | None:
        """The values this parameter accepts (None: any value of its type)."""
        if self.type in VOCABULARY_TYPES and vocab is not None:
            known = tuple(vocab.get(self.type, {}))
            return tuple(v for v in known if v in self.allowed) if self.allowed else known
        return self.allowed

    def labelled(self, vocab: Vocabulary | None) -> bool:
        """True when values name things by number or label (attack), not from a short list."""
        return vocab is not None and self.type in getattr(vocab, "entries", {})

    def values_text(self, vocab: Vocabulary | None = None) -> str:
        """The accepted values in brief: ``A|B|...``, or ``1-36|label`` for a labelled type."""
        choices = self.choices(vocab)
        if self.labelled(vocab):
            return f"{compact_numbers(choices or (), ',')}|label"
        return "|".join(choices) if choices else self.type

    def describe(self, vocab: Vocabulary | None = None) -> str:
        """``name=<A|B|...>`` with the default, for listings and error messages."""
        text = f"{self.name}=<{self.values_text(vocab)}>"
        return text if self.required else f"[{text}, default {self.default}]"

    def term(self, value: str, where: str, vocab: Vocabulary | None = None) -> Term:
        """The RDF term for a value, after checking it against the type and allowed values."""
        value = value.strip()
        if vocab is not None and self.labelled(vocab):
            return self._resolve(value, f"{where}: parameter {self.name}={value!r}", vocab)
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

    def _resolve(self, value: str, head: str, vocab: Vocabulary) -> Term:
        """A reference number, a label, or a part of one label → that thing's IRI.

        Every failure says why and what is valid: a number of another kind ("[40] is a defense"),
        nothing matching (the valid numbers, and the command listing them), several candidates.
        """
        kind = self.type
        entries = vocab.entries[kind]
        mine = [e for e in entries if e.kind == kind]
        others = [e for e in entries if e.kind != kind]
        numbers = compact_numbers(vocab.get(kind, {}))
        listing = vocab.listing.get(kind)
        a_kind = _article(kind)
        valid = f"expected {a_kind}'s reference number ({numbers}) or (part of) its label" + (
            f"; list the {kind}s with '{listing}'" if listing else "")
        number = _NUMBER.match(value)
        if number:
            n = str(int(number.group(1)))
            found = [e for e in mine if n in e.values]
            if len(found) == 1:
                return found[0].term
            if found:
                raise UsageError(f"{head}: [{n}] names {len(found)} {kind}s: {_candidates(found)}")
            other = [e for e in others if n in e.values]
            if other:
                raise UsageError(f"{head}: [{n}] is {_article(other[0].kind)} "
                                 f"({other[0].label}), not {a_kind}; {valid}")
            raise UsageError(f"{head}: no {kind} has reference number {n}; {valid}")
        key = _fold(value)
        if not key:
            raise UsageError(f"{head}: empty; {valid}")
        for how, test in (("is the label of", lambda label: label == key),
                          ("matches", lambda label: key in label)):
            found = [e for e in mine if test(_fold(e.label))]
            if len(found) == 1:
                return found[0].term
            if found:
                raise UsageError(f"{head} {how} {len(found)} {kind}s: {_candidates(found)}; "
                                 "give the reference number" + (
                                     " or the whole label" if how == "matches" else ""))
        other = [e for e in others if key == _fold(e.label)] or [
            e for e in others if key in _fold(e.label)]
        if len(other) == 1:
            raise UsageError(f"{head} names {_article(other[0].kind)}, {other[0].cite()}, "
                             f"not {a_kind}; {valid}")
        raise UsageError(f"{head}: no {kind}'s label contains {value!r}; {valid}")


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

    def columns(self) -> list[str] | None:
        """The result columns, read from the outer SELECT clause (parameters left out).

        None for ``SELECT *`` or a query that is not a SELECT.
        """
        code = _COMMENT.sub(" ", self.text)
        select = _SELECT.search(code)
        if select is None:
            return None
        hidden = {p.variable for p in self.params}
        names: list[str] = []
        depth, previous, pending = 0, "", ""
        for token in _TOKEN.findall(code, select.end()):
            if token == "(":
                depth += 1
            elif token == ")":
                depth -= 1
                if depth == 0 and pending:
                    names.append(pending)
                    pending = ""
            elif depth == 0 and token == "*":
                return None
            elif depth == 0 and (token == "{" or token.upper() in {"WHERE", "FROM"}):
                break
            elif token[0] in "?$" and (depth == 0 or previous.upper() == "AS"):
                if depth == 0:
                    names.append(token[1:])
                else:
                    pending = token[1:]
            previous = token
        return [n for n in names if n not in hidden]

    def used_params(self) -> set[str]:
        """Parameters whose variable the body uses (declared names; an undeclared ``?_x`` as is)."""
        by_variable = {p.variable: p.name for p in self.params}
        found = {"_" + v for v in _PARAM_VAR.findall(_COMMENT.sub(" ", self.text))}
        return {by_variable.get(v, v) for v in found}

    def bind(self, values: dict[str, str], vocab: Vocabulary | None = None) -> str:
        """The query text with every parameter written in as its validated, serialised term."""
        return bind_text(self.text, self.bindings(values, vocab))

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
            out[param.variable] = param.term(value, where, vocab)
        return out


#: What is not SPARQL code (strings, IRIs, comments), then a variable.
_CODE_OR_VAR = re.compile(r'(?P<skip>"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
                          r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>|#[^\n]*)"
                          r"|[?$](?P<var>[A-Za-z0-9_]+)")


def bind_text(text: str, bindings: dict[str, Term]) -> str:
    """``text`` with each ``?var`` of ``bindings`` replaced by its term in N-Triples syntax.

    Terms are pyoxigraph objects (an IRI Oxigraph validated, a literal it escapes), so the text
    written is always one term; strings, IRIs and comments of the query are left untouched.
    """
    def replace(match: re.Match[str]) -> str:
        var = match.group("var")
        if var is None or var not in bindings:
            return match.group(0)
        return str(bindings[var])

    return _CODE_OR_VAR.sub(replace, text)


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


#: Parsed .rq files by (path, size, mtime): a long-lived process (serve, a notebook) reads each once.
_PARSED: dict[tuple[str, int, int], SavedQuery] = {}


def parse_query_file(path: Path) -> SavedQuery:
    """Read one .rq file (parsed once while it is unchanged); a bad header is an InputError."""
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    key = (str(path), info.st_size, info.st_mtime_ns)
    if key not in _PARSED:
        _PARSED[key] = _parse_query_file(path)
    return _PARSED[key]


def _parse_query_file(path: Path) -> SavedQuery:
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
    data = dataset if dataset is not None else open_dataset(kg_dir)
    return data.select(prepare(name, params or {}, data, folder=folder))


def prepare(
    name: str, values: dict[str, str], dataset: Dataset, *, folder: str | Path = QUERIES_DIR
) -> str:
    """The SPARQL text of a saved query with its parameters validated and written in.

    ``dataset`` (local or remote) gives the values of the vocabulary types; an unknown query,
    parameter or value is a UsageError with the CLI's message. The text runs as is on any
    SPARQL 1.1 engine.
    """
    query = get_query(name, folder)
    kinds = [p.type for p in query.params if p.type in VOCABULARY_TYPES]
    return query.bind(values, vocabulary(dataset, kinds) if kinds else None)


def vocabulary(dataset: Dataset, kinds: Iterable[str] = VOCABULARY_TYPES) -> Vocabulary:
    """Value → term for each vocabulary parameter type (default: all), read from the graph.

    A vocabulary query projecting ``?label`` and ``?kind`` gives one row per (thing, number); its
    rows are grouped into ``entries``, and only the rows of its own kind become values. Read once
    per dataset (its ``memo``, when it has one): warm saved queries then cost only their own text.
    """
    memo = getattr(dataset, "memo", None)
    key = ("vocabulary", tuple(dict.fromkeys(kinds)))
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[return-value]
    out = _read_vocabulary(dataset, key[1])
    if memo is not None:
        memo[key] = out
    return out


def _read_vocabulary(dataset: Dataset, kinds: Iterable[str]) -> Vocabulary:
    out = Vocabulary()
    for kind in kinds:
        source = parse_query_file(VOCAB_DIR / f"{kind}.rq")
        table = dataset.select(source.text)
        if source.meta.get("listing"):
            out.listing[kind] = source.meta["listing"]
        if "label" not in table.columns:
            out[kind] = {term_text(row[0]): row[1] for row in table.sorted_rows()}
            continue
        grouped: dict[str, dict] = {}
        for value, term, label, what in table.sorted_rows():
            entry = grouped.setdefault(str(term), {"term": term, "values": [],
                                                   "label": " ".join(term_text(label).split()),
                                                   "kind": term_text(what)})
            entry["values"].append(term_text(value))
        entries = tuple(Entry(e["term"], tuple(e["values"]), e["label"], e["kind"])
                        for e in grouped.values())
        out.entries[kind] = entries
        out[kind] = {v: e.term for e in entries if e.kind == kind for v in e.values}
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


def catalog_json(catalog: dict[str, SavedQuery], vocab: Vocabulary | None = None) -> str:
    """``gia-kg queries --format json``: each query's summary, parameters and columns, for programs.

    Keys: name, summary, description, example, columns, params (name, type, required, default,
    values: the accepted values, from the graph for vocabulary types; null for free text).
    """
    import json

    def values(param: Param) -> list[str] | None:
        choices = param.choices(vocab)
        return list(choices) if choices is not None else None

    doc = [
        {
            "name": name,
            "summary": query.summary,
            "description": query.description,
            "example": query.example,
            "columns": query.columns(),
            "params": [
                {"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                 "values": values(p)}
                for p in query.params
            ],
        }
        for name, query in sorted(catalog.items())
    ]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def empty_meaning(query: SavedQuery, values: dict[str, str]) -> str | None:
    """What an empty answer means, from the query's ``#+ empty:`` header, with its parameters.

    ``{name}`` stands for the parameter's value as given (or its default); an unknown name is
    left as written, so a header can never make the command fail.
    """
    template = query.meta.get("empty")
    if not template:
        return None
    given = {}
    for param in query.params:
        value = values.get(param.name, param.default or "").strip()
        known = {c.casefold(): c for c in param.allowed or ()}
        given[param.name] = known.get(value.casefold(), value.upper() if len(value) == 1 else value)
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}",
                  lambda m: given.get(m.group(1), m.group(0)), template)


def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    """Help text wrapped to HELP_WIDTH, never breaking a word or an option."""
    return textwrap.wrap(text, HELP_WIDTH, initial_indent=indent if first is None else first,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def _usage(query: SavedQuery, vocab: Vocabulary | None) -> list[str]:
    """``usage: gia-kg query NAME -p key=<values> [-p key=<values>]``, wrapped at options."""
    words = [f"-p {p.name}=<{p.values_text(vocab)}>" if p.required
             else f"[-p {p.name}=<{p.values_text(vocab)}>]" for p in query.params]
    lines = [f"usage: gia-kg query {query.name}"]
    for word in words:
        if len(lines[-1]) + 1 + len(word) > HELP_WIDTH:
            lines.append(" " * len("usage: ") + word)
        else:
            lines[-1] += " " + word
    return lines


def _param_values(param: Param, vocab: Vocabulary | None) -> str:
    """What a parameter accepts, in words, with the values the graph has (or the type's text)."""
    choices = param.choices(vocab)
    if vocab is not None and param.labelled(vocab):
        kind = param.type
        named = [e for e in vocab.entries[kind] if e.kind == kind]
        example = f" (e.g. {named[0].label!r})" if named else ""
        text = (f"{_article(kind)}'s reference number ({compact_numbers(choices or ())}), its "
                f"label, case-insensitive{example}, or a part of a label that names one {kind}")
    elif choices:
        text = "one of " + ", ".join(choices)
    else:
        text = TYPE_TEXT.get(param.type, param.type)
    listing = vocab.listing.get(param.type) if isinstance(vocab, Vocabulary) else None
    return text + (f"; list them with '{listing}'" if listing else "")


def render_help(query: SavedQuery, vocab: Vocabulary | None) -> str:
    """``gia-kg query NAME --help``: usage, summary, description, parameters, columns, example.

    ``vocab`` (``vocabulary(dataset)``) supplies the values the graph has; without it, each
    parameter is described by its type.
    """
    out = [*_usage(query, vocab), "", *_wrap(query.summary)]
    if query.description:
        out += ["", *_wrap(query.description)]
    if query.params:
        out += ["", "parameters:"]
        width = max(len(p.name) for p in query.params) + 4
        for param in query.params:
            status = "required" if param.required else f"default {param.default}"
            text = f"{param.type}, {status}: {_param_values(param, vocab)}"
            out += _wrap(text, " " * width, f"  {param.name}".ljust(width))
    columns = query.columns()
    out += ["", "columns:", *_wrap(", ".join(columns) if columns is not None
                                   else "every variable of the query", "  ")]
    if query.example:
        out += ["", "example:", f"  {query.example}"]
    out += ["", *_wrap("Output options (--format, -o FILE, ...): 'gia-kg query --help'; every "
                       "saved query: 'gia-kg queries'.")]
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
