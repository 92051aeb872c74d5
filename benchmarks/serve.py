"""``gia-kg serve`` latency per saved query over HTTP: ``python benchmarks/serve.py [--scales 1,100]``.

For each scale (``benchmarks/synth.py`` data) two servers run in child processes, one as shipped
(answers cached: the graph is immutable while serving) and one with the cache off, so every
request goes through a sandboxed worker. A client on one keep-alive connection asks each saved
query (its example parameters, JSON) repeatedly. The floor is a bare in-memory pyoxigraph Store
running the same bound text in this process (results iterated, not formatted). Prints a Markdown
table of medians (ms) and the ratios to the floor, and puts it into docs/serve.md between the
``serve-benchmarks`` markers. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "serve.md"
START, END = "<!-- serve-benchmarks:start -->", "<!-- serve-benchmarks:end -->"

SERVER = """
import sys
from kg import serve
sys.exit(serve.run(sys.argv[1], serve.Settings(port=0, quiet=True, cache_bytes=int(sys.argv[2]))))
"""


def example_params(query: object) -> dict[str, str]:
    """A saved query's example parameters (``-p k=v`` of its ``#+ example:``)."""
    words = shlex.split(getattr(query, "example", "") or "")
    pairs = [w for i, w in enumerate(words) if i and words[i - 1] in ("-p", "--param")]
    return dict(p.split("=", 1) for p in pairs)


def start_server(data: Path, cache_bytes: int) -> tuple[subprocess.Popen, str]:
    """A ``serve`` child process on a free port, and its base URL."""
    env = dict(os.environ, GIA_KG_QUIET="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(data), str(cache_bytes)],
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stderr.readline() if proc.stderr else ""
    if " at http://" not in line:
        proc.kill()
        raise SystemExit(f"serve did not start: {line.strip()}")
    return proc, line.split(" at ", 1)[1].split(" ", 1)[0]


def timed_gets(url: str, path: str, runs: int) -> list[float]:
    """Milliseconds per GET of ``path`` on one keep-alive connection (status 200 required)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
        response = conn.getresponse()
        body = response.read()
        out.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
    conn.close()
    return out


def floor(data: Path, texts: dict[str, str], runs: int) -> dict[str, float]:
    """Median ms of a bare in-memory Store running each text (the engine alone)."""
    from kg.engine import dataset_files
    from kg.namespaces import SPARQL_PREFIXES
    from kg.store import memory_store

    store = memory_store(dataset_files(data))
    out = {}
    for name, text in texts.items():
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            for _row in store.query(text, prefixes=SPARQL_PREFIXES):
                pass
            samples.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(samples)
    return out


def main(argv: list[str] | None = None) -> int:
    """Generate the corpora, time every saved query over HTTP, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,100", help="comma-separated scales (default 1,100)")
    parser.add_argument("--runs", type=int, default=21, help="requests per query (default 21)")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/serve.md")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks import synth
    from kg import engine, queries

    catalog = queries.load_catalog()
    work = Path(tempfile.mkdtemp(prefix="gia-kg-serve-bench-"))
    os.environ.setdefault("GIA_KG_CACHE", str(work / "cache"))
    lines = ["| saved query | scale | floor | served, uncached | ratio | served, cached | ratio | "
             "first request |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for scale in (int(s) for s in args.scales.split(",")):
        data = work / f"scale-{scale}"
        synth.generate(data, scale)
        dataset = engine.open_dataset(data, in_memory=True)
        params = {name: example_params(q) for name, q in catalog.items()}
        texts = {name: queries.prepare(name, params[name], dataset) for name in catalog}
        base = floor(data, texts, args.runs)
        medians: dict[str, dict[str, float]] = {name: {} for name in catalog}
        for label, cache in (("uncached", 0), ("cached", 64 << 20)):
            proc, url = start_server(data, cache)
            try:
                for name in catalog:
                    path = f"/queries/{name}?{urlencode(params[name])}"
                    samples = timed_gets(url, path, args.runs)
                    if label == "cached":
                        medians[name]["first"] = samples[0]
                        samples = samples[1:]
                    medians[name][label] = statistics.median(samples)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        for name in catalog:
            m, f = medians[name], base[name]
            lines.append(f"| {name} | {scale}× | {f:.1f} | {m['uncached']:.1f} | "
                         f"{m['uncached'] / f:.1f}× | {m['cached']:.2f} | {m['cached'] / f:.2f}× | "
                         f"{m['first']:.1f} |")
        print(f"scale {scale}x done ({len(dataset):,} triples)", file=sys.stderr, flush=True)
    from benchmarks.run import _machine
    from kg.fileio import write_atomic

    text = (f"Machine: {_machine()}. Run: `python benchmarks/serve.py --scales {args.scales} "
            f"--runs {args.runs}`; medians in ms.\n\n" + "\n".join(lines))
    print(text)
    doc = DOC.read_text(encoding="utf-8")
    if START in doc and END in doc and not args.no_doc:
        head, rest = doc.split(START, 1)
        write_atomic(DOC, head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])
        print(f"updated {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
