"""Where the artefacts live, both in a checkout and in an installed wheel.

In the repository ``ontology/``, ``shapes/`` and ``queries/`` are top-level folders; the wheel
ships them inside the ``kg`` package (see ``[tool.setuptools.package-dir]`` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _artefact_dir(name: str) -> Path:
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


ONTOLOGY_DIR = _artefact_dir("ontology")
SHAPES_DIR = _artefact_dir("shapes")
QUERIES_DIR = _artefact_dir("queries")
DATA_DIR = PACKAGE_DIR / "data"

ONTOLOGY_FILE = ONTOLOGY_DIR / "gia.ttl"
#: Materialized reasoning output inside a data folder.
INFERRED_NAME = "inferred.ttl"
#: Instance data file holding the threat models and their adversary classes.
THREAT_MODELS_NAME = "threat-models.ttl"
