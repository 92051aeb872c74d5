"""One error hierarchy, caught once in ``cli.main`` and turned into one stderr line."""

from __future__ import annotations


class GiaKgError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 2


class InputError(GiaKgError):
    """Bad input: a file, line, field or parameter that is not what was expected."""


class InputErrors(InputError):
    """Every problem of one input, reported together: one line each, sorted by file and line."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = sorted(set(messages), key=_position)
        super().__init__("\n".join(self.messages))


def _position(message: str) -> tuple:
    """``README.md:12: ...`` sorts by file, then line number (numerically), then text."""
    head, _, rest = message.partition(": ")
    path, _, line = head.rpartition(":")
    if line.isascii() and line.isdigit():
        return (path, int(line), rest)
    return (head, 0, rest)


class UsageError(InputError):
    """A command-line argument that is not valid."""


class QueryError(GiaKgError):
    """A SPARQL query that is refused, malformed, or fails to run."""


class ReasonerError(GiaKgError):
    """The DL reasoner is unavailable (Java missing) or failed."""


class StaleError(GiaKgError):
    """A generated artefact differs from what regenerating it would produce."""

    exit_code = 1
