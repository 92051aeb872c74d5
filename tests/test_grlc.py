"""The saved queries run on grlc: its own parameter reading and query rewriting (grlc 1.3.11).

grlc reads ``?_minLevel_iri`` as an IRI parameter ``minLevel`` and rewrites the text itself; the
rewritten query, run on our store, must give the rows `gia-kg query` gives. grlc lives in its own
virtualenv (.venv-grlc, made by .ci/run) because it pins its own dependencies; the test skips
with a reason where it is absent.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest

from kg import queries
from kg.engine import open_dataset
from tests.conftest import ROOT

GRLC_PYTHON = Path(os.environ.get("GIA_KG_GRLC_PYTHON", ROOT / ".venv-grlc" / "bin" / "python"))
CATALOG = queries.load_catalog()
pytestmark = pytest.mark.skipif(
    not GRLC_PYTHON.is_file(), reason=f"grlc not installed ({GRLC_PYTHON}; .ci/run makes it)")

#: What grlc must read from each parameterised query, written by hand from the .rq headers.
EXPECTED_PARAMS = {
    "attacks-feasible": {"threatModel": "iri"},
    "defenses-cover-but-not": {"covered": "iri", "uncovered": "iri", "minLevel": "iri"},
    "defenses-for-attack": {"attack": "iri"},
    "crosswalk": {"target": None},
    "stronger-threat-models": {"threatModel": "iri"},
    "weaker-threat-models": {"threatModel": "iri"},
}


def grlc(jobs: list[tuple[str, dict[str, str]]], cwd: Path) -> list[dict]:
    """grlc's reading and rewriting of each (query file text, arguments), in one process."""
    run = subprocess.run([str(GRLC_PYTHON), str(ROOT / "tests" / "grlc_rewrite.py")],
                         input=json.dumps([{"rq": rq, "args": args} for rq, args in jobs]),
                         capture_output=True, text=True, cwd=cwd, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "could not be parsed" not in run.stderr, "the #+ header must be valid YAML for grlc"
    return json.loads(run.stdout.strip().splitlines()[-1])  # grlc prints a config line first


def test_grlc_reads_our_parameters(tmp_path: Path) -> None:
    names = sorted(CATALOG)
    jobs = [(CATALOG[n].path.read_text(encoding="utf-8"),
             {p.variable[1:].removesuffix("_iri"): "https://example.org/x"
              for p in CATALOG[n].params}) for n in names]
    found = {n: {k: v["format"] for k, v in out["params"].items()}
             for n, out in zip(names, grlc(jobs, tmp_path), strict=True)}
    assert {n: f for n, f in found.items() if f} == EXPECTED_PARAMS


def test_grlc_rewritten_queries_give_our_rows(tmp_path: Path) -> None:
    dataset = open_dataset()
    vocab = queries.vocabulary(dataset)
    cases = []
    for name, query in sorted(CATALOG.items()):
        spaces = []
        for p in query.params:
            values = p.choices(vocab) or ()
            if p.type == "attack":
                values = ("1", "14", "36")
            spaces.append([(p, v) for v in values[:4]])  # a few values each: grlc starts slowly
        for combo in itertools.product(*spaces):
            ours = queries.run_saved(name, {p.name: v for p, v in combo}, dataset=dataset)
            terms = query.bindings({p.name: v for p, v in combo}, vocab)
            args = {p.variable[1:].removesuffix("_iri"): terms[p.variable].value for p, _ in combo}
            cases.append((name, args, ours))
    outs = grlc([(CATALOG[n].path.read_text(encoding="utf-8"), a) for n, a, _ in cases], tmp_path)
    for (name, args, ours), out in zip(cases, outs, strict=True):
        theirs = dataset.select(out["query"])
        assert theirs.columns == ours.columns and theirs.rows == ours.rows, (name, args)
    assert len(cases) > 40
