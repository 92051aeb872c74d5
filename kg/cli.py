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


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _write(text: str, output: str | None = None) -> None:
    """Write to stdout, or atomically to a file (nothing half-written on error)."""
    if output is None:
        sys.stdout.write(text)
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


# ---------------------------------------------------------------- parser


def build_parser(commands: dict[str, Handler]) -> argparse.ArgumentParser:
    """The argument parser; ``commands`` is filled with one handler per sub-command."""
    parser = _Parser(
        prog="gia-kg",
        description="Query, validate and reason over the knowledge graph of gradient inversion "
        "attacks and defenses in federated learning (SoK, Carletti et al., USENIX Security 2025).",
    )
    parser.add_argument("--version", action="version", version=f"gia-kg {__version__}")
    parser.add_argument(
        "--kg",
        metavar="DIR",
        help="folder of instance data (*.ttl); default: the data shipped in the package",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        commands[name] = handler
        return sub.add_parser(name, help=help_, description=help_)

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

    return parser


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
        if debug:
            raise
        sys.stderr.write(f"gia-kg: error: {exc}\n")
        return exc.exit_code
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("gia-kg: interrupted\n")
        return 130
