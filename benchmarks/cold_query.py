"""Cold end-to-end time of one saved query, next to the time of ``import rdflib``.

Runs each command as a fresh process (median of --runs, default 15) and prints both medians and
their ratio; the target is a cold query at most 2.0x rdflib's bare import time, i.e. the query
path loads neither rdflib, owlready2 nor pySHACL.

    .venv/bin/python benchmarks/cold_query.py [--runs N] [--kg DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_RATIO = 2.0


def median_seconds(cmd: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes (one warm-up run first, not counted)."""
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--kg", help="data folder (default: the shipped kg/data)")
    args = parser.parse_args(argv)
    if args.runs < 10:
        parser.error("--runs must be at least 10")
    query = [str(BIN / "gia-kg")] + (["--kg", args.kg] if args.kg else []) + [
        "query", "defenses-cover-but-not", "-p", "covered=G", "-p", "uncovered=H"]
    baseline = [sys.executable, "-c", "import rdflib"]
    # Interleave-free but same run: measure the baseline on both sides of the query.
    rdflib_before = median_seconds(baseline, args.runs)
    cold = median_seconds(query, args.runs)
    rdflib_after = median_seconds(baseline, args.runs)
    rdflib_s = statistics.median([rdflib_before, rdflib_after])
    ratio = cold / rdflib_s
    print(f"cold query  (gia-kg query defenses-cover-but-not -p covered=G -p uncovered=H): "
          f"{cold * 1000:.0f} ms (median of {args.runs})")
    print(f"import rdflib (python -c 'import rdflib'): {rdflib_s * 1000:.0f} ms "
          f"(medians {rdflib_before * 1000:.0f} / {rdflib_after * 1000:.0f} ms before/after)")
    verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"ratio: {ratio:.2f} (target <= {TARGET_RATIO}) {verdict}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
