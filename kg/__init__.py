"""gia-kg: a knowledge graph of gradient inversion attacks and defenses in federated learning."""

from __future__ import annotations

__version__ = "0.1.0"

#: Names re-exported from kg.api on first use, so ``import kg`` (and the CLI's start-up) does not
#: load pyoxigraph or the API.
_LAZY = ("KnowledgeGraph", "Result")

__all__ = ["KnowledgeGraph", "Result", "__version__"]


def __getattr__(name: str) -> object:
    """``kg.KnowledgeGraph`` and ``kg.Result``, imported from kg.api when first asked for."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module("kg.api"), name)
    raise AttributeError(f"module 'kg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
