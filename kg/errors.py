"""One error hierarchy, caught once in ``cli.main`` and turned into one stderr line."""

from __future__ import annotations


class GiaKgError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 2


class InputError(GiaKgError):
    """Bad input: a file, line, field or parameter that is not what was expected."""


class UsageError(InputError):
    """A command-line argument that is not valid."""


class QueryError(GiaKgError):
    """A SPARQL query that is refused, malformed, or fails to run."""


class ReasonerError(GiaKgError):
    """The DL reasoner is unavailable (Java missing) or failed."""


class StaleError(GiaKgError):
    """A generated artefact differs from what regenerating it would produce."""

    exit_code = 1
