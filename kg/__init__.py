"""gia-kg: a knowledge graph of gradient inversion attacks and defenses in federated learning."""

__version__ = "0.1.0"

__all__ = ["__version__"]
