"""Speed as ratios to the fastest alternative, side by side in one run (issue 14, section 4).

``python benchmarks/ratios.py [--scales 1,10,100] [--runs N] [-o FILE]`` prints a Markdown table:

- warm: ``kg.queries.run_saved`` on an in-memory dataset (validate, bind into the text, run,
  normalise) against the floor, a bare pyoxigraph in-memory Store running the same bound text;
- cold: one ``gia-kg query`` process against one bare ``python -c`` process that opens the same
  on-disk store read-only and runs the same bound text;
- export: ``gia-kg export --format nt`` against ``oxigraph convert`` of the same files piped into
  ``sort -u`` (when the ``oxigraph`` CLI is installed).

Medians of many runs; the machine is noisy, so only the ratios mean something.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
GIA_KG = str(BIN / "gia-kg")
sys.path.insert(0, str(HERE))


def _median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _cmd_ms(cmd: list[str], runs: int, env: dict | None = None, shell: bool = False) -> float:
    def once() -> None:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, shell=shell)
    return _median_ms(once, runs)


def example_params(query) -> dict[str, str]:
    """The values of the query's ``#+ example:`` line (else defaults, else the first choice)."""
    words = query.example.split()
    out = {}
    for i, word in enumerate(words):
        if word == "-p" and i + 1 < len(words):
            key, _, value = words[i + 1].partition("=")
            out[key] = value
    for p in query.params:
        if p.name not in out:
            out[p.name] = p.default or "A"
    return out


def measure(data: Path, runs: int, cold_runs: int) -> list[tuple[str, float, float, float, float]]:
    """Per saved query: warm ms, warm floor ms, cold ms, cold floor ms."""
    from kg import engine, queries, store
    from kg.namespaces import SPARQL_PREFIXES

    memory = engine.open_dataset(data, in_memory=True)
    floor_store = store.memory_store(engine.dataset_files(data))
    disk = store.ensure(engine.dataset_files(data)).path
    rows = []
    for name, query in sorted(queries.load_catalog().items()):
        values = example_params(query)
        text = queries.prepare(name, values, memory)
        warm = _median_ms(lambda n=name, v=values: queries.run_saved(n, v, dataset=memory), runs)
        floor = _median_ms(
            lambda t=text: list(floor_store.query(t, prefixes=SPARQL_PREFIXES)), runs)
        argv = [GIA_KG, "--kg", str(data), "query", name, "--format", "csv"]
        for key, value in values.items():
            argv += ["-p", f"{key}={value}"]
        cold = _cmd_ms(argv, cold_runs)
        bare = ("import sys, pyoxigraph as ox\n"
                f"s = ox.Store.read_only({str(disk)!r})\n"
                f"r = s.query(sys.argv[1])\n"
                "sys.stdout.write(r.serialize(format=ox.QueryResultsFormat.CSV).decode())\n")
        cold_floor = _cmd_ms([sys.executable, "-c", bare, text], cold_runs)
        rows.append((name, warm, floor, cold, cold_floor))
    return rows


def export_ratio(data: Path, runs: int) -> tuple[float, float | None]:
    from kg import engine

    ours = _cmd_ms([GIA_KG, "--kg", str(data), "export", "--format", "nt", "-o", "/dev/null"], runs)
    oxigraph = shutil.which("oxigraph") or (str(BIN / "oxigraph") if (BIN / "oxigraph").exists()
                                            else None)
    if oxigraph is None:
        return ours, None
    files = " ".join(str(f) for f in engine.dataset_files(data, inferred=False))
    pipe = f"cat {files} | {oxigraph} convert --from-format ttl --to-format nt | sort -u >/dev/null"
    return ours, _cmd_ms(pipe, runs, shell=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("-o", "--output")
    args = parser.parse_args(argv)
    import synth

    lines = ["| scale | saved query | warm ms | floor ms | warm / floor | cold ms | bare ms "
             "| cold / bare |", "|---|---|---|---|---|---|---|---|"]
    exports = ["| scale | export nt ms | oxigraph convert \\| sort -u ms | ratio |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for scale in (int(s) for s in args.scales.split(",")):
            data = Path(tmp) / f"x{scale}"
            synth.generate(data, scale)
            for name, warm, floor, cold, bare in measure(data, args.runs, args.cold_runs):
                lines.append(f"| {scale}x | `{name}` | {warm:.1f} | {floor:.1f} | "
                             f"{warm / floor:.2f} | {cold:.0f} | {bare:.0f} | {cold / bare:.2f} |")
            ours, theirs = export_ratio(data, max(3, args.cold_runs // 2))
            exports.append(f"| {scale}x | {ours:.0f} | {theirs:.0f} | {ours / theirs:.2f} |"
                           if theirs else f"| {scale}x | {ours:.0f} | (no oxigraph CLI) | |")
    text = "\n".join([*lines, "", *exports]) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
