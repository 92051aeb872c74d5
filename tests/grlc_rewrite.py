"""Rewrite saved queries with grlc's own code (run with a Python that has grlc installed).

Used by tests/test_grlc.py through a separate virtualenv (.venv-grlc, made by .ci/run): grlc
pins its own dependencies. stdin: a JSON list of {"rq": text, "args": {param: value}}; the last
line of stdout: a JSON list of {"params": grlc's view of the parameters, "query": the rewritten
SPARQL}, one per job. No network: the endpoint named is a closed local port, and no query asks
grlc for enumerations.
"""
import json
import sys

from grlc import gquery


def rewrite(job: dict) -> dict:
    endpoint = "http://127.0.0.1:9/sparql"
    meta = gquery.get_metadata(job["rq"], endpoint)
    params = gquery.get_parameters(job["rq"], endpoint, meta)
    view = {name: {"type": p.get("type"), "format": p.get("format"),
                   "required": bool(p.get("required"))} for name, p in params.items()}
    return {"params": view, "query": gquery.rewrite_query(meta["query"], params, job["args"])}


print(json.dumps([rewrite(job) for job in json.load(sys.stdin)]))
