"""Smoke test of the benchmark harness (the benchmark itself runs with `make bench`, not here)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import run
from kg import queries


def test_warm_latency_runs_every_saved_query(data_copy: Path) -> None:
    catalog = queries.load_catalog()
    timings = run._warm(data_copy, catalog, runs=1, timeout=30.0)
    assert set(timings) == set(catalog)
    for name, timing in timings.items():
        assert timing.samples and not timing.note, name
