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


# ---------------------------------------------------------------- foundation: reason, order


def _cmd_reason(args: argparse.Namespace) -> int:
    from kg import reasoning

    if args.check:
        diff = reasoning.check(args.kg)
        if diff:
            sys.stderr.write(diff)
            return 1
        print(f"{reasoning.inferred_path(args.kg)}: up to date")
        return 0
    path = reasoning.materialize(args.kg)
    print(f"wrote {path}")
    return 0


def _cmd_order(args: argparse.Namespace) -> int:
    from kg import order

    _write(order.render(args.kg, fmt=args.format, full=args.all))
    return 0


# ---------------------------------------------------------------- issue 5: validate


def _cmd_validate(args: argparse.Namespace) -> int:
    from kg import validation

    result = validation.validate(args.kg, extra=args.data)
    _write(validation.render(result, args.format))
    return 0 if result.conforms else 1


# ---------------------------------------------------------------- issue 7: assess, audit


def _cmd_assess(args: argparse.Namespace) -> int:
    from kg import assess

    result = assess.assess(
        args.kg, capabilities=args.capabilities, threat_model=args.threat_model
    )
    _write(assess.render(result, args.format))
    return 0  # "no SoK threat model applies" is a valid answer, not an error


def _cmd_audit(args: argparse.Namespace) -> int:
    from kg import audit

    _write(audit.render(audit.audit(args.kg), args.format))
    return 0  # findings are information for maintainers


# ------------------------------------------------ issue 6: queries, query, sparql, export


def _cmd_queries(args: argparse.Namespace) -> int:
    from kg import queries
    from kg.engine import open_dataset

    vocab = queries.vocabulary(open_dataset(args.kg))  # letters and levels as the graph has them
    _write(queries.render_catalog(queries.load_catalog(), vocab))
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from kg import queries, results

    table = queries.run_saved(args.name, queries.parse_assignments(args.param), kg_dir=args.kg)
    _write(results.format_table(table, args.format))
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
        text = args.query
    _write(adhoc.answer(args.kg, text, args.format, limits))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from kg import export

    _write(export.export(args.kg, args.format, inferred=args.inferred), args.output)
    return 0


# ---------------------------------------------------------------- issue 4: import-sok, tables


def _cmd_import_sok(args: argparse.Namespace) -> int:
    from kg import sok_import
    from kg.loading import inferred_problem

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

    _write(sok_render.render(args.kg, with_references=not args.no_references))
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from kg import diff

    _write(diff.render(diff.diff(args.old, args.new), args.format))
    return 0  # differences are the answer, not a failure


# ---------------------------------------------------------------- issue 8: build (query store)


def _cmd_build(args: argparse.Namespace) -> int:
    from kg import engine, store

    info = store.ensure(engine.dataset_files(args.kg), force=args.force)
    state = "built" if info.built else "up to date"
    print(f"{info.path}: {state}, {info.triples} triples")
    return 0


# ---------------------------------------------------------------- parser


def build_parser(commands: dict[str, Handler]) -> argparse.ArgumentParser:
    """The argument parser; ``commands`` is filled with one handler per sub-command."""
    parser = _Parser(
        prog="gia-kg",
        description="Query, validate and reason over the knowledge graph of gradient inversion "
        "attacks and defenses in federated learning (SoK, Carletti et al., USENIX Security 2025).",
    )
    parser.add_argument("--version", action="version", version=f"gia-kg {__version__}")
    parser.add_argument("--kg", metavar="DIR", help=KG_HELP)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        commands[name] = handler
        command = sub.add_parser(name, help=help_, description=help_)
        # `gia-kg CMD --kg DIR` works as well as `gia-kg --kg DIR CMD`.
        command.add_argument("--kg", metavar="DIR", default=argparse.SUPPRESS, help=KG_HELP)
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
    p.add_argument("--format", choices=["text", "csv", "dot"], default="text")
    p.add_argument("--all", action="store_true", help="the full strict order, not only Hasse edges")

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
    p.add_argument("--format", choices=["text", "ttl", "json"], default="text")

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
    p.add_argument("--format", choices=["text", "json", "md"], default="text")

    p = add(
        "audit",
        _cmd_audit,
        "run the SoK consistency checks (queries/audit/*.rq); one finding a row, exit 0",
    )
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")

    p = add("queries", _cmd_queries, "list the saved queries (queries/*.rq) and their parameters")

    p = add(
        "query",
        _cmd_query,
        "run a saved query; parameters are validated and bound as typed RDF terms",
    )
    p.add_argument("name", metavar="NAME", help="a saved query (see 'gia-kg queries')")
    p.add_argument(
        "-p", "--param", action="append", metavar="KEY=VALUE",
        help="a parameter, e.g. -p threat_model=G (repeatable)",
    )
    p.add_argument("--format", choices=["table", "csv", "tsv", "json", "md"], default="table")

    p = add(
        "sparql",
        _cmd_sparql,
        "run a read-only SELECT/ASK/CONSTRUCT/DESCRIBE over the graph (+ inferred triples, "
        "+ ontology) with the project prefixes predeclared, in a sandbox without network access; "
        "updates and SERVICE are refused; FROM/FROM NAMED name graphs of the local store only",
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
        "--format", choices=["table", "csv", "tsv", "json", "md", "turtle", "nt"],
        help="table (default), csv, tsv, json, md for SELECT/ASK; turtle (default), nt for "
        "CONSTRUCT/DESCRIBE",
    )

    p = add(
        "export",
        _cmd_export,
        "write the whole graph (ontology + instances) as Turtle, N-Triples, JSON-LD or RDF/XML",
    )
    p.add_argument("--format", choices=["ttl", "nt", "jsonld", "xml"], default="ttl")
    p.add_argument("--inferred", action="store_true", help="include the inferred triples")
    p.add_argument("-o", "--output", metavar="FILE", help="write atomically to FILE")

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

    p = add(
        "diff",
        _cmd_diff,
        "what changed between two SoK releases, entity by entity (added, removed, changed cells "
        "and ratings); each side is an SoK README or a gia-kg data folder; exit 0 either way",
    )
    p.add_argument("old", metavar="OLD", help="the earlier release: a README.md or a data folder")
    p.add_argument("new", metavar="NEW", help="the later release: a README.md or a data folder")
    p.add_argument("--format", choices=["text", "json", "md"], default="text")

    p = add(
        "build",
        _cmd_build,
        "build or refresh the on-disk query store (a cache of the Turtle data, rebuilt "
        "automatically when stale; location: $GIA_KG_CACHE or $XDG_CACHE_HOME/gia-kg)",
    )
    p.add_argument("--force", action="store_true", help="rebuild even if the store is up to date")

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
        return commands[args.command](args)
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
