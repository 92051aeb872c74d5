"""Benchmarks at 1x, 10x and 100x the SoK: ``python benchmarks/run.py [--quick]``.

Writes benchmarks/results.md: medians of cold CLI runs (one process per run, as a user types
them), warm saved-query latency in one process, and the reference points ``import rdflib`` and
``import pyoxigraph``, all measured side by side in this one run, and copies the table into
docs/benchmarks.md. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
GIA_KG = str(BIN / "gia-kg")
#: The benchmark report of the docs: the table goes between the markers (tests/test_docs.py checks it).
BENCH_DOC = ROOT / "docs" / "benchmarks.md"
BENCH_START, BENCH_END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
SOK_README = ROOT.parent / "shared" / "sok" / "sok_gias_fl-README-2025-07-15.md"
#: Runs above this many seconds are not repeated (the table says how many runs were made).
SLOW = 20.0
#: A measurement stops repeating once its runs (at least 3) have taken this many seconds.
BUDGET = 30.0


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(
        f"{pkg} {metadata.version(pkg)}" for pkg in ("pyoxigraph", "rdflib", "pyshacl")
    )
    return (f"{os.cpu_count()} CPUs (nproc), {model}; Python {platform.python_version()} "
            f"on {platform.system()} {platform.release()}; {versions}")


class Timing:
    """Medians of wall-clock times in milliseconds, with how many runs and whether any failed."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.note = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def cell(self) -> str:
        if self.note:
            return self.note
        if not self.samples:
            return "—"
        runs, med = len(self.samples), self.median
        text = f"{med:,.1f}" if med < 10 else f"{med:,.0f}"
        return text + ("" if runs >= 10 else f" ({runs} run{'s' * (runs > 1)})")


def _time_cmd(cmd: list[str], runs: int, env: dict[str, str], timeout: float,
              ok: tuple[int, ...] = (0,)) -> Timing:
    """Median wall time of a command run ``runs`` times (fewer once a run exceeds SLOW seconds)."""
    timing = Timing()
    for _ in range(runs):
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            timing.note = f"> {timeout:,.0f} s (stopped)"
            return timing
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            timing.note = f"error (exit {proc.returncode})"
            print(f"  ! {shlex.join(cmd)}: {err[-1] if err else ''}", file=sys.stderr)
            return timing
        timing.samples.append(elapsed * 1000)
        if elapsed > SLOW or (len(timing.samples) >= 3 and sum(timing.samples) > BUDGET * 1000):
            break
    return timing


def _example_params(query: object) -> list[str]:
    """``-p name=value`` arguments of a saved query's example, else first allowed values."""
    words = shlex.split(getattr(query, "example", "") or "")
    args = [w for i, w in enumerate(words) if i and words[i - 1] in ("-p", "--param")]
    given = {a.split("=", 1)[0] for a in args}
    for param in query.params:  # type: ignore[attr-defined]
        if param.required and param.name not in given:
            args.append(f"{param.name}={(param.allowed or ('1',))[0]}")
    return [x for a in args for x in ("-p", a)]


def _warm(data_dir: Path, catalog: dict, runs: int, timeout: float) -> dict[str, Timing]:
    """Per saved query, the median latency of ``run_saved`` on an already open dataset."""
    from kg import engine, queries
    from kg.errors import QueryError

    dataset = engine.open_dataset(data_dir)
    out = {}
    for name, query in catalog.items():
        argv = _example_params(query)
        params = dict(argv[i + 1].split("=", 1) for i in range(0, len(argv), 2))
        timing = Timing()
        saved = queries.get_query(name)
        text = saved.bind(params, queries.vocabulary(dataset))
        try:  # first run in a child process that is stopped after the timeout
            dataset.select(text, timeout=timeout)
        except QueryError:
            timing.note = f"> {timeout:,.0f} s (stopped)"
            out[name] = timing
            continue
        for _ in range(runs):
            start = time.perf_counter()
            queries.run_saved(name, params, dataset=dataset)
            timing.samples.append((time.perf_counter() - start) * 1000)
            if len(timing.samples) >= 3 and sum(timing.samples) > BUDGET * 1000:
                break
        out[name] = timing
    return out


def _triples(data_dir: Path) -> int:
    from kg import engine

    return len(engine.open_dataset(data_dir))


def main(argv: list[str] | None = None) -> int:
    """Generate the corpora, time every command at every scale, write the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scales 1, 10; 3 runs: a smoke test")
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (default 10)")
    parser.add_argument("--scales", default=None, help="comma-separated scales (default 1,10,100)")
    parser.add_argument("--validate-timeout", type=float, default=300.0,
                        help="seconds after which one validate run is stopped (default 300)")
    parser.add_argument("--query-timeout", type=float, default=30.0,
                        help="seconds after which one saved-query run is stopped (default 30)")
    parser.add_argument("-o", "--output", default=str(HERE / "results.md"))
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 10)
    scales = [int(s) for s in (args.scales or ("1,10" if args.quick else "1,10,100")).split(",")]

    sys.path.insert(0, str(ROOT))
    from benchmarks import synth
    from kg import queries
    from kg.fileio import write_atomic

    catalog = queries.load_catalog()
    work = Path(tempfile.mkdtemp(prefix="gia-kg-bench-"))
    env = dict(os.environ, GIA_KG_CACHE=str(work / "cache"))
    os.environ["GIA_KG_CACHE"] = env["GIA_KG_CACHE"]
    py = sys.executable

    rows: dict[str, dict[int, Timing]] = {}

    def put(label: str, scale: int, timing: Timing) -> None:
        rows.setdefault(label, {})[scale] = timing
        print(f"  {label} @ {scale}x: {timing.cell()}", flush=True)

    sizes: dict[int, str] = {}
    warm: dict[int, dict[str, Timing]] = {}
    for scale in scales:
        data = work / f"scale-{scale}"
        print(f"scale {scale}x: generating {data}", flush=True)
        synth.generate(data, scale)
        mb = sum(p.stat().st_size for p in data.glob("*.ttl")) / 1e6
        put("`gia-kg build` (first build of the store)", scale,
            _time_cmd([GIA_KG, "--kg", str(data), "build"], 1, env, 600))
        sizes[scale] = f"{_triples(data):,} triples, {mb:.1f} MB Turtle"
        put("`python -c \"import rdflib\"`", scale,
            _time_cmd([py, "-c", "import rdflib"], runs, env, 60))
        put("`python -c \"import pyoxigraph\"`", scale,
            _time_cmd([py, "-c", "import pyoxigraph"], runs, env, 60))
        first = next(iter(catalog))
        put(f"cold `gia-kg query {first}` without the store (in-memory parse)", scale,
            _time_cmd([GIA_KG, "--kg", str(data), "query", first, *_example_params(catalog[first])],
                      runs, dict(env, GIA_KG_STORE="memory"), 120))
        for name, query in catalog.items():
            put(f"cold `gia-kg query {name}`", scale,
                _time_cmd([GIA_KG, "--kg", str(data), "query", name, *_example_params(query)],
                          runs, env, args.query_timeout))
        warm[scale] = _warm(data, catalog, runs, args.query_timeout)
        for name, timing in warm[scale].items():
            put(f"warm `{name}` (ms, in one process)", scale, timing)
        put("`gia-kg export`", scale, _time_cmd(
            [GIA_KG, "--kg", str(data), "export", "-o", str(work / "export.ttl")], runs, env, 600))
        put("`gia-kg validate`", scale, _time_cmd(
            [GIA_KG, "--kg", str(data), "validate"], runs if scale == 1 else 3, env,
            args.validate_timeout))  # exit 1 (violations) is an error: the corpus must conform
        if scale == 1:
            put("`gia-kg import-sok` (the SoK README; does not scale)", scale, _time_cmd(
                [GIA_KG, "import-sok", str(SOK_README), "-o", str(work / "import")],
                runs, env, 120))

    def growth(label: str) -> str:
        cells = rows[label]
        lo, hi = cells.get(scales[0]), cells.get(scales[-1])
        if not lo or not hi or lo.median is None or hi.median is None or len(scales) < 2:
            return ""
        return f"{hi.median / lo.median:.1f}×"

    head = ["measurement (median ms)", *[f"{s}×" for s in scales], f"{scales[-1]}× / {scales[0]}×"]
    lines = [
        "# gia-kg benchmarks",
        "",
        f"Machine: {_machine()}.",
        f"Run: `python benchmarks/run.py{' --quick' if args.quick else ''}`, {runs} runs per "
        "measurement unless the cell says fewer (runs longer than "
        f"{SLOW:.0f} s are not repeated, and a command stops after 3 runs once its runs took "
        f"{BUDGET:.0f} s; validate above 1× is run at most 3 times).",
        "Cold = a new `gia-kg` process per run (start-up, opening the store, query, output); "
        "warm = `kg.queries.run_saved` on an open dataset. Saved queries run with their example "
        "parameters. Data: `benchmarks/synth.py` at each scale; "
        + "; ".join(f"{s}×: {sizes[s]}" for s in scales) + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|",
    ]
    for label in rows:
        cells = [rows[label].get(s, Timing()).cell() for s in scales]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {growth(label)} |")
    text = "\n".join(lines) + "\n"
    write_atomic(Path(args.output), text)
    print(f"wrote {args.output} (work folder {work})")
    if Path(args.output).resolve() == (HERE / "results.md").resolve():
        write_atomic(BENCH_DOC, include_in_doc(BENCH_DOC.read_text(encoding="utf-8"), text))
        print(f"updated the benchmark table in {BENCH_DOC}")
    return 0


def include_in_doc(doc: str, results: str) -> str:
    """``doc`` (docs/benchmarks.md) with ``results`` (without its title) between the benchmark markers."""
    start, end = doc.index(BENCH_START), doc.index(BENCH_END)
    body = results.split("\n", 1)[1].strip("\n")
    return doc[: start + len(BENCH_START)] + "\n" + body + "\n" + doc[end:]


if __name__ == "__main__":
    sys.exit(main())
