"""The ``gia-kg`` command line: parses arguments, calls the library, maps errors to exit codes.

Library modules are imported inside each handler so that a command loads only what it uses
(the query path must not pay for owlready2, pySHACL or Java).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kg import __version__
from kg.errors import GiaKgError, UsageError

Handler = Callable[[argparse.Namespace], int]
KG_HELP = "folder of instance data (*.ttl); default: the data shipped in the package"
OUTPUT_HELP = ("write to FILE (atomically: nothing half-written) instead of standard output; "
               "without --format, FILE's extension picks the format")

#: --format choices and default of each command that prints results (kg.formats names).
FORMAT_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "order": (("text", "csv", "dot"), "text"),
    "validate": (("text", "ttl", "json"), "text"),
    "assess": (("text", "json", "md", "csv", "tsv"), "text"),
    "audit": (("text", "csv", "tsv", "json", "xml", "md"), "text"),
    "queries": (("text", "json"), "text"),
    "query": (("text", "csv", "tsv", "json", "xml", "md"), "text"),
    "export": (("ttl", "nt", "jsonld", "xml", "trig", "nq"), "ttl"),
    "diff": (("text", "json", "md"), "text"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _write(text: str, output: str | None = None) -> None:
    """Write to stdout, or atomically to a file (nothing half-written on error)."""
    if output is None:
        if sys.stdout is None or sys.stdout.closed:
            raise UsageError("standard output is closed; give -o FILE or redirect it")
        sys.stdout.write(text)
        sys.stdout.flush()  # a broken pipe surfaces here, inside main's handler
        return
    from kg.fileio import write_atomic

    write_atomic(Path(output), text)


def _format(args: argparse.Namespace, kind: str = "table") -> str:
    """The command's output format: --format (name or alias), else -o's extension, else default."""
    from kg import formats

    choices, default = FORMAT_CHOICES[args.command]
    return formats.resolve(args.format, getattr(args, "output", None), choices, default, kind)


def _terminal(args: argparse.Namespace) -> object | None:
    """How to fit and colour human output for stdout's terminal; None when writing a file."""
    if getattr(args, "output", None) is not None:
        return None
    from kg import terminal

    return terminal.detect(sys.stdout, args.color)


# ---------------------------------------------------------------- foundation: reason, order


def _cmd_reason(args: argparse.Namespace) -> int:
    from kg import reasoning
    from kg.progress import step

    if args.check:
        with step("running HermiT (Java) to compare with inferred.ttl"):
            diff = reasoning.check(args.kg)
        if diff:
            sys.stderr.write(diff)
            return 1
        print(f"{reasoning.inferred_path(args.kg)}: up to date")
        return 0
    with step("running HermiT (Java) over the threat-model classes"):
        path = reasoning.materialize(args.kg)
    print(f"wrote {path}")
    return 0


def _cmd_order(args: argparse.Namespace) -> int:
    from kg import order

    _write(order.render(args.kg, fmt=_format(args), full=args.all), args.output)
    return 0


# ---------------------------------------------------------------- issue 5: validate


def _cmd_validate(args: argparse.Namespace) -> int:
    from kg.api import KnowledgeGraph
    from kg.progress import step

    fmt = _format(args)
    with step("validating with pySHACL"):
        result = KnowledgeGraph(args.kg).validate(args.data)
    _write(result.format(fmt), args.output)
    return 0 if result.conforms else 1


# ---------------------------------------------------------------- issue 7: assess, audit


def _cmd_assess(args: argparse.Namespace) -> int:
    from kg import assess
    from kg.api import KnowledgeGraph

    fmt = _format(args)
    capabilities = None if args.capabilities is None else args.capabilities.split(",")
    result = KnowledgeGraph(args.kg).assess(capabilities=capabilities,
                                            threat_model=args.threat_model)
    terminal = _terminal(args) if fmt == "text" else None
    _write(assess.render(result, fmt, terminal=terminal), args.output)
    return 0  # "no SoK threat model applies" is a valid answer, not an error


def _cmd_audit(args: argparse.Namespace) -> int:
    from kg import audit
    from kg.api import KnowledgeGraph

    fmt = _format(args)
    findings = KnowledgeGraph(args.kg).audit()
    severities = audit.profile() if args.fail_on or fmt == "text" else None  # severities by check
    _write(audit.render(findings.table, fmt, terminal=_terminal(args), severities=severities),
           args.output)
    if args.fail_on is None:
        return 0  # findings are information for maintainers
    failing = audit.failing(findings.table, args.fail_on, severities or {})
    if failing:
        sys.stderr.write(f"gia-kg audit: {len(failing)} finding{'s' if len(failing) != 1 else ''} "
                         f"at {args.fail_on} or worse (queries/audit/profile.tsv)\n")
    return 1 if failing else 0


# ------------------------------------------------ issue 6: queries, query, sparql, export


def _cmd_queries(args: argparse.Namespace) -> int:
    from kg import queries
    from kg.engine import open_dataset

    fmt = _format(args)
    vocab = queries.vocabulary(open_dataset(args.kg))  # letters and levels as the graph has them
    catalog = queries.load_catalog()
    if fmt == "json":
        _write(queries.catalog_json(catalog, vocab), args.output)
    else:
        _write(queries.render_catalog(catalog, vocab), args.output)
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from kg import queries, results
    from kg.api import KnowledgeGraph

    if args.help or args.name is None:
        return _query_help(args)
    fmt = _format(args)
    values = queries.parse_assignments(args.param)
    table = KnowledgeGraph(args.kg).query(args.name, **values).table
    term = _terminal(args) if fmt == "text" else None
    text = (results.format_table(table, fmt, terminal=term) if term is not None
            else results.format_table(table, fmt))
    if fmt == "text" and not table.rows:
        note = queries.empty_meaning(queries.get_query(args.name), values)
        text += f"{note}\n" if note else ""
    _write(text, args.output)
    return 0


def _query_help(args: argparse.Namespace) -> int:
    """``gia-kg query NAME --help``: that saved query's own help; without NAME, the command's."""
    from kg import queries
    from kg.engine import open_dataset

    if args.name is None:
        if not args.help:
            raise UsageError("query: give the NAME of a saved query (see 'gia-kg queries')")
        _write(_PARSERS["query"].format_help())
        return 0
    saved = queries.get_query(args.name)
    vocab = queries.vocabulary(open_dataset(args.kg)) if saved.params else None
    _write(queries.render_help(saved, vocab))
    return 0


def _read_stdin(what: str) -> str:
    """Standard input as UTF-8 text (size-capped); a closed stdin is a usage error, not a traceback."""
    from kg.inputs import decode_utf8, max_input_bytes

    if sys.stdin is None or sys.stdin.closed:
        raise UsageError(f"{what}: standard input is closed")
    stream = getattr(sys.stdin, "buffer", sys.stdin)  # a text stream in tests and notebooks
    cap = max_input_bytes()
    try:
        data = stream.read(cap + 1)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{what}: cannot read standard input: {exc}") from None
    if len(data) > cap:
        raise UsageError(f"{what}: standard input is over the input limit of {cap} bytes")
    return data if isinstance(data, str) else decode_utf8(data, "<stdin>")


def _cmd_sparql(args: argparse.Namespace) -> int:
    from kg import adhoc
    from kg.inputs import read_text

    limits = adhoc.Limits(args.timeout, args.max_rows, args.max_memory)
    limits.check()
    if (args.query is None) == (args.file is None):
        raise UsageError("sparql: give exactly one of QUERY, -f FILE or - (standard input)")
    if args.file is not None:
        text = read_text(args.file)
    elif args.query == "-":
        text = _read_stdin("sparql -")
    else:
        text = _query_text(args.query)
    term = _terminal(args)
    _write(adhoc.answer(args.kg, text, args.format, limits, output=args.output, terminal=term),
           args.output)
    return 0


_QUERY_FILE_SUFFIXES = (".rq", ".sparql", ".txt")


def _query_text(argument: str) -> str:
    """The QUERY argument, unless it is a file name (then say to use -f)."""
    import os

    looks_like_name = argument.strip() == argument and not any(c in argument for c in " {}\n")
    if looks_like_name and os.path.isfile(argument):
        raise UsageError(f"sparql: {argument!r} is a file, not query text; to run the query it "
                         f"holds, use: gia-kg sparql -f {argument}")
    if looks_like_name and argument.lower().endswith(_QUERY_FILE_SUFFIXES):
        raise UsageError(f"sparql: {argument!r} is neither query text nor an existing file "
                         "(give the query text, -f FILE, or - for standard input)")
    return argument


def _cmd_export(args: argparse.Namespace) -> int:
    from kg import export

    fmt = _format(args, kind="graph")
    _write(export.export(args.kg, fmt, inferred=args.inferred), args.output)
    return 0


# ---------------------------------------------------------------- issue 4: import-sok, tables


def _cmd_import_sok(args: argparse.Namespace) -> int:
    from kg import sok_import
    from kg.loading import inferred_problem
    from kg.progress import step

    with step(f"importing {args.readme} (parse, check, SHACL, HermiT)"):
        result = sok_import.import_sok(args.readme, args.output, args.source_version)
    counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
    state = "reasoned, ready to query" if result.reasoned else "not reasoned"
    print(f"wrote {args.output} (SoK {result.version}): {counts}; {state}")
    for note in result.notes:
        sys.stderr.write(f"gia-kg: note: {note}\n")
    problem = inferred_problem(Path(args.output))
    if problem:  # the data is fine; queries will ask for the reasoner until it has run
        sys.stderr.write(f"gia-kg: note: to finish, run `gia-kg reason --kg {args.output}` "
                         "(needs Java)\n")
    return 0


def _cmd_tables(args: argparse.Namespace) -> int:
    from kg import sok_render

    _write(sok_render.render(args.kg, with_references=not args.no_references), args.output)
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from kg import site
    from kg.progress import step

    with step(f"rendering the site into {args.output}"):
        result = site.build(args.output, args.kg)
    print(f"wrote {result.path}: {result.pages} pages, {result.files} files; open "
          f"{result.path / 'index.html'} in a browser (it works offline)")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from kg import diff

    fmt = _format(args)
    _write(diff.render(diff.diff(args.old, args.new), fmt), args.output)
    return 0  # differences are the answer, not a failure


# ---------------------------------------------------------------- issue 8: build (query store)


def _cmd_build(args: argparse.Namespace) -> int:
    from kg import engine, store
    from kg.progress import step

    files = engine.dataset_files(args.kg)
    with step("building the query store"):
        info = store.ensure(files, force=args.force)
    state = "built" if info.built else "up to date"
    print(f"{info.path}: {state}, {info.triples} triples")
    if args.prune:
        removed = store.prune(files)
        print(f"pruned {len(removed)} other store{'s' if len(removed) != 1 else ''} from "
              f"{store.cache_root()}")
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from kg import store

    if args.action == "clean":
        removed = store.clean()
        print(f"removed {len(removed)} folder{'s' if len(removed) != 1 else ''} (stores and "
              f"abandoned builds) from {store.cache_root()}")
        return 0
    entries = store.cache_entries()
    _write(store.render_entries(entries) if entries else f"{store.cache_root()}: no stores\n")
    return 0


# ---------------------------------------------------------------- issue 14: serve


def _cmd_serve(args: argparse.Namespace) -> int:
    from kg import serve

    settings = serve.Settings(host=args.host, port=args.port, timeout=args.timeout,
                              max_rows=args.max_rows, workers=args.workers, quiet=args.quiet)
    return serve.run(args.kg, settings)


# ---------------------------------------------------------------- parser


#: The sub-command parsers, by name (``query NAME --help`` prints its parser's help itself).
_PARSERS: dict[str, argparse.ArgumentParser] = {}

#: Commands that read no graph: ``--kg`` is refused for them instead of being ignored.
NO_GRAPH = {"import-sok", "diff", "cache"}
#: Commands that can run against a remote SPARQL endpoint (``--endpoint URL``); the others refuse it.
ENDPOINT_COMMANDS = ("query", "sparql", "assess", "audit", "tables", "order", "queries")


def _add_format(p: argparse.ArgumentParser, command: str, extra: str = "") -> None:
    from kg import formats

    choices, default = FORMAT_CHOICES[command]
    p.add_argument("--format", metavar="FORMAT",
                   help=f"{formats.describe(choices, default)}{extra}; without --format, "
                   "-o FILE's extension picks it")


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", metavar="FILE", help=OUTPUT_HELP)


def build_parser(commands: dict[str, Handler]) -> argparse.ArgumentParser:
    """The argument parser; ``commands`` is filled with one handler per sub-command."""
    from kg.namespaces import SPARQL_PREFIXES

    parser = _Parser(
        prog="gia-kg",
        description="Query, validate and reason over the knowledge graph of gradient inversion "
        "attacks and defenses in federated learning (SoK, Carletti et al., USENIX Security 2025).",
    )
    parser.add_argument("--version", action="version", version=f"gia-kg {__version__}")
    parser.add_argument("--kg", metavar="DIR", help=KG_HELP)
    parser.add_argument(
        "--endpoint", metavar="URL",
        help="run against the SPARQL 1.1 query service at URL (e.g. http://127.0.0.1:7878/query) "
        "holding 'gia-kg export --inferred' instead of the local store: for "
        f"{', '.join(ENDPOINT_COMMANDS)}; same answers and output",
    )
    parser.add_argument(
        "--endpoint-timeout", type=float, metavar="SECONDS",
        help="with --endpoint: seconds one request may take, answer included (default 30; "
        "sparql uses its own --timeout); answers over 256 MB are refused",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines on stderr for long steps")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                        help="colour effectiveness levels: auto (default: on a terminal, unless "
                        "NO_COLOR is set), always, never")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Handler, help_: str, **kwargs: object) -> argparse.ArgumentParser:
        commands[name] = handler
        command = sub.add_parser(name, help=help_, description=help_, **kwargs)
        _PARSERS[name] = command
        # `gia-kg CMD --kg DIR` works as well as `gia-kg --kg DIR CMD` (where CMD reads a graph).
        # Where CMD reads none, --kg is still parsed, so that main can refuse it by name.
        command.add_argument("--kg", metavar="DIR", default=argparse.SUPPRESS,
                             help=argparse.SUPPRESS if name in NO_GRAPH else KG_HELP)
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="no progress lines on stderr")
        command.add_argument("--color", choices=["auto", "always", "never"],
                             default=argparse.SUPPRESS, help="colour levels (default auto)")
        return command

    p = add(
        "reason",
        _cmd_reason,
        "run HermiT over the threat-model classes and write the derived order (inferred.ttl)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if the committed inferred.ttl equals a fresh run, 1 (with a diff) if stale",
    )

    p = add("order", _cmd_order, "print the reasoned threat-model order (Hasse diagram)")
    _add_format(p, "order")
    p.add_argument("--all", action="store_true", help="the full strict order, not only Hasse edges")
    _add_output(p)

    p = add(
        "validate",
        _cmd_validate,
        "check the graph against the SHACL shapes (exit 0 conforms, 1 violations)",
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        nargs="+",
        action="extend",
        default=[],
        help="extra Turtle files validated with the graph (e.g. a new paper before merging it)",
    )
    _add_format(p, "validate", " (ttl: the SHACL validation report)")
    _add_output(p)

    p = add(
        "assess",
        _cmd_assess,
        "given an adversary's capabilities (or threat model): its strongest SoK threat models, "
        "the attacks within its reach, and how every defense is rated against it",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--capabilities",
        metavar="SLUG,...",
        help="comma-separated capabilities: model-updates, basic-knowledge, training-details, "
        "surrogate-data, client-data-distribution, active-manipulation, client-selection",
    )
    who.add_argument("--threat-model", metavar="LETTER", help="an SoK threat model, A-H")
    _add_format(p, "assess", " (csv/tsv: one row per attack and per defense rating)")
    _add_output(p)

    p = add(
        "audit",
        _cmd_audit,
        "run the SoK consistency checks (queries/audit/*.rq); one finding a row, exit 0 "
        "(with --fail-on, 1 when a finding of that severity or worse exists)",
    )
    p.add_argument("--fail-on", choices=("ERROR", "WARN"), metavar="ERROR|WARN",
                   help="exit 1 when a finding of this severity or worse exists "
                   "(severities: queries/audit/profile.tsv); default: exit 0")
    _add_format(p, "audit")
    _add_output(p)

    p = add("queries", _cmd_queries, "list the saved queries (queries/*.rq) and their parameters")
    _add_format(p, "queries")
    _add_output(p)

    p = add(
        "query",
        _cmd_query,
        "run a saved query; parameters are validated and bound as typed RDF terms "
        "('gia-kg query NAME --help' explains one query)",
        add_help=False,
    )
    p.add_argument("-h", "--help", action="store_true",
                   help="show this help, or with NAME that saved query's help, and exit")
    p.add_argument("name", metavar="NAME", nargs="?", help="a saved query (see 'gia-kg queries')")
    p.add_argument(
        "-p", "--param", action="append", metavar="KEY=VALUE",
        help="a parameter, e.g. -p threat_model=G (repeatable)",
    )
    _add_format(p, "query")
    _add_output(p)

    prefixes = ", ".join(sorted(SPARQL_PREFIXES))
    p = add(
        "sparql",
        _cmd_sparql,
        "run a read-only SELECT/ASK/CONSTRUCT/DESCRIBE over the graph (+ inferred triples, "
        "+ ontology) with the project prefixes predeclared, in a sandbox without network access; "
        "updates and SERVICE are refused; FROM/FROM NAMED name graphs of the local store only. "
        f"Predeclared prefixes: {prefixes}. With --endpoint URL the text is sent as is (the "
        "predeclared prefixes it uses are declared on its first line) and the endpoint parses and "
        "runs it: updates fail at its query service, SERVICE and FROM are its own; --timeout "
        "bounds the request, --max-rows the rows, --max-memory the size of the answer; nothing "
        "runs in the local sandbox",
    )
    p.add_argument("query", nargs="?", metavar="QUERY", help="the query text, or - for stdin")
    p.add_argument("-f", "--file", metavar="FILE", help="read the query from FILE")
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS",
        help="stop after SECONDS (default 30): parsing, evaluation and formatting; exits 2",
    )
    p.add_argument(
        "--max-rows", type=int, default=100_000, metavar="N",
        help="refuse a result of more than N rows or triples (default 100000); exits 2",
    )
    p.add_argument(
        "--max-memory", type=int, default=2048, metavar="MB",
        help="stop a query that needs more than MB megabytes of memory (default 2048); exits 2",
    )
    p.add_argument(
        "--format", metavar="FORMAT",
        help="SELECT: text (default), csv, tsv, json, xml, md; ASK: text (default), json, xml "
        "(the W3C CSV/TSV formats have no ASK form); CONSTRUCT/DESCRIBE: ttl (default), nt, "
        "jsonld, xml; aliases table=text, turtle=ttl, ntriples=nt; without --format, "
        "-o FILE's extension picks it",
    )
    _add_output(p)

    p = add(
        "export",
        _cmd_export,
        "write the whole graph (ontology + instances) as Turtle, N-Triples, JSON-LD, RDF/XML, "
        "or as a dataset (TriG, N-Quads) with a named graph for the ontology, the SoK release "
        "and the inferred triples",
    )
    _add_format(p, "export")
    p.add_argument("--inferred", action="store_true", help="include the inferred triples")
    _add_output(p)

    p = add(
        "import-sok",
        _cmd_import_sok,
        "rebuild the instance data (*.ttl) from the SoK README, checked, with stable IRIs "
        "(DIR/registry.tsv, else the shipped registry), reasoned (Java), atomically into DIR",
    )
    p.add_argument("readme", metavar="README.md", help="the SoK's README (Markdown)")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="folder to (re)write")
    p.add_argument(
        "--source-version",
        metavar="TEXT",
        help="SoK version recorded as provenance; default: the date in the file name "
        "(...-2025-07-15.md), else the README's git commit, else content-<sha256 prefix>",
    )

    p = add(
        "tables",
        _cmd_tables,
        "render the SoK's threat-model, attack and defense tables (and references) as Markdown "
        "from the graph",
    )
    p.add_argument("--no-references", action="store_true", help="omit the reference list")
    _add_output(p)

    p = add(
        "site",
        _cmd_site,
        "write the graph as a static website that works offline: the coverage heatmap, the "
        "Hasse diagram, the attack table, one page (and Turtle file) per attack, defense, work "
        "and threat model, the saved queries' answers, the audit and the ontology",
    )
    p.add_argument("-o", "--output", metavar="DIR", required=True,
                   help="folder to write (new, empty, or an earlier site, which is replaced whole "
                   "and atomically)")

    p = add(
        "diff",
        _cmd_diff,
        "what changed between two SoK releases, entity by entity (added, removed, changed cells "
        "and ratings); each side is an SoK README or a gia-kg data folder; exit 0 either way",
    )
    p.add_argument("old", metavar="OLD", help="the earlier release: a README.md or a data folder")
    p.add_argument("new", metavar="NEW", help="the later release: a README.md or a data folder")
    _add_format(p, "diff")
    _add_output(p)

    p = add(
        "build",
        _cmd_build,
        "build or refresh the on-disk query store (a cache of the Turtle data, rebuilt "
        "automatically when stale; location: $GIA_KG_CACHE or $XDG_CACHE_HOME/gia-kg)",
    )
    p.add_argument("--force", action="store_true", help="rebuild even if the store is up to date")
    p.add_argument("--prune", action="store_true",
                   help="then remove every other store from the cache (other folders, old data)")

    p = add(
        "cache",
        _cmd_cache,
        "the query-store cache: 'list' its stores (data folder, size, last use), 'clean' removes "
        "them all (they are rebuilt on demand); the last few data folders' stores are kept anyway",
    )
    p.add_argument("action", choices=["list", "clean"], metavar="ACTION",
                   help="list (default) or clean", nargs="?", default="list")

    p = add(
        "serve",
        _cmd_serve,
        "serve the graph over HTTP, read-only: a SPARQL 1.1 endpoint at /sparql, the saved "
        "queries at /queries/NAME, a query page at /; every query runs in a sandboxed worker "
        "(no network, time and row limits); updates, SERVICE, LOAD and FROM are refused "
        "(docs/serve.md)",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7878, help="TCP port (default 7878; 0 picks a free one)")
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="SECONDS",
        help="stop a query after SECONDS (default 5): parsing, evaluation and formatting",
    )
    p.add_argument(
        "--max-rows", type=int, default=100_000, metavar="N",
        help="refuse a result of more than N rows or triples (default 100000)",
    )
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="sandboxed query processes, one query at a time each (default 2)")

    return parser


def _report(exc: BaseException, code: int, debug: bool) -> int:
    """One line on stderr (after the traceback with --debug); the exit code."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    messages = getattr(exc, "messages", None) or [" ".join(str(exc).splitlines()) or type(exc).__name__]
    if sys.stderr is not None and not sys.stderr.closed:
        sys.stderr.write("".join(f"gia-kg: error: {m}\n" for m in messages))
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail a second time."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _use_endpoint(args: argparse.Namespace) -> None:
    """``--endpoint URL``: the commands that can use it answer from there (kg.remote)."""
    if args.command not in ENDPOINT_COMMANDS:
        raise UsageError(f"{args.command} does not run against a SPARQL endpoint: --endpoint is "
                         f"for {', '.join(ENDPOINT_COMMANDS)} (see 'gia-kg --help')")
    if args.kg is not None:
        raise UsageError("--kg and --endpoint exclude each other: with --endpoint the graph is "
                         "the endpoint's")
    from kg import engine

    engine.use_endpoint(args.endpoint, timeout=args.endpoint_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 findings/violations/stale, 2 usage or input)."""
    commands: dict[str, Handler] = {}
    parser = build_parser(commands)
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command in NO_GRAPH and args.kg is not None:
            raise UsageError(f"{args.command} does not read a graph: --kg is not used here "
                             f"(see 'gia-kg {args.command} --help')")
        if args.endpoint is not None:
            _use_endpoint(args)
        elif args.endpoint_timeout is not None:
            raise UsageError("--endpoint-timeout is for --endpoint URL; give both, or neither")
        from kg import progress

        progress.enable(quiet=args.quiet)
        try:
            return commands[args.command](args)
        finally:
            progress.disable()
            if args.endpoint is not None:
                from kg import engine

                engine.use_endpoint(None)
    except GiaKgError as exc:
        return _report(exc, exc.exit_code, debug)
    except BrokenPipeError:  # the reader left (`gia-kg export | head`): not an error of ours
        _silence_stdout()
        return 0
    except OSError as exc:  # a file system problem not foreseen by the library: still one line
        return _report(exc, 2, debug)
    except MemoryError:
        return _report(MemoryError("out of memory (the input or the result is too large)"), 2, debug)
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except KeyboardInterrupt:
        sys.stderr.write("gia-kg: interrupted\n")
        return 130
