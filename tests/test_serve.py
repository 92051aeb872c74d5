"""``gia-kg serve`` (issue 14, section 2): a real server in a child process, talked to over HTTP.

Answers are compared with ``gia-kg query`` and ``gia-kg sparql`` (same writer, so the same bytes),
and with values read by hand from the SoK tables (tests/fixtures/sok): the threat model A attacks
are Zhu et al. (2019) [1] and Zhao et al. (2020) [2]; G is at least as strong as A, B, C, D and F;
all 21 defenses are effective at A.
"""

from __future__ import annotations

import codecs
import contextlib
import http.client
import io
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest

from kg import cli, queries, serve
from tests.conftest import real_data
from tests.test_hostile import Listener, parse_case

pytestmark = real_data

ROOT = Path(__file__).resolve().parent.parent
CATALOG = queries.load_catalog()
TIMEOUT = 2.0
MAX_ROWS = 2000
GIA = "https://w3id.org/gia-kg/ontology#"
SELECT_ATTACKS = "SELECT ?attack ?label WHERE { ?attack a gia:Attack ; rdfs:label ?label } ORDER BY ?attack"
CONSTRUCT_ATTACKS = ("CONSTRUCT { ?attack a gia:Attack ; gia:threatModel ?tm } "
                     "WHERE { ?attack a gia:Attack ; gia:threatModel ?tm }")
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


# ---------------------------------------------------------------- the server and a client


class Server:
    """``python -m kg -q serve --port 0 ...`` in a child process; its URL from the startup line."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        with open(log, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kg", "-q", "serve", "--port", "0", *args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            text = log.read_text()
            found = re.search(r" at (http://[^ ]+/) ", text)
            if found:
                self.url = found.group(1)
                self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"serve did not start: {text}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def workers(self) -> set[int]:
        """The worker processes: the children of the server's only child (the zygote)."""
        zygotes = _children(self.proc.pid)
        assert len(zygotes) == 1, zygotes
        return _children(next(iter(zygotes)))


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found |= {int(p) for p in text.split()}
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def request(server: Server, path: str, *, data: bytes | None = None, headers: dict | None = None,
            method: str | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request; HTTP errors included."""
    req = urllib.request.Request(server.url.rstrip("/") + path, data=data, headers=headers or {},
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def sparql_get(server: Server, text: str, **extra: str) -> tuple[int, dict[str, str], bytes]:
    accept = extra.pop("accept", None)
    return request(server, "/sparql?" + urlencode({"query": text, **extra}),
                   headers={"Accept": accept} if accept else None)


def saved_path(name: str, params: dict[str, str], fmt: str | None = None) -> str:
    query = dict(params, **({"format": fmt} if fmt else {}))
    return f"/queries/{name}" + (f"?{urlencode(query)}" if query else "")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def cli_error(argv: list[str]) -> str:
    """The message the CLI prints after ``gia-kg: error: `` (exit 2, one line)."""
    code, out, err = run_cli(argv)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("gia-kg: error: ")
    return err[len("gia-kg: error: "):].rstrip("\n")


def example(name: str) -> dict[str, str]:
    words = shlex.split(CATALOG[name].example)
    pairs = [w for i, w in enumerate(words) if i and words[i - 1] in ("-p", "--param")]
    return dict(p.split("=", 1) for p in pairs)


def p_args(params: dict[str, str]) -> list[str]:
    return [x for key, value in params.items() for x in ("-p", f"{key}={value}")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("serve") / "serve.log", "--timeout", str(TIMEOUT),
                     "--max-rows", str(MAX_ROWS))
    yield running
    running.stop()


# ---------------------------------------------------------------- saved queries


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "xml", "text", "md"])
def test_every_saved_query_answers_as_the_cli(server: Server, fmt: str) -> None:
    for name in CATALOG:
        params = example(name)
        status, headers, body = request(server, saved_path(name, params, fmt))
        code, out, err = run_cli(["query", name, *p_args(params), "--format", fmt])
        assert code == 0 and status == 200, (name, err, body)
        assert body.decode() == out, name
        assert headers["content-type"].split(";")[0] == {
            "json": "application/sparql-results+json", "csv": "text/csv",
            "tsv": "text/tab-separated-values", "xml": "application/sparql-results+xml",
            "text": "text/plain", "md": "text/markdown"}[fmt]


def test_saved_query_is_json_by_default_with_the_sok_rows(server: Server) -> None:
    status, headers, body = request(server, "/queries/attacks-feasible?threat_model=A")
    assert status == 200 and headers["content-type"].startswith("application/sparql-results+json")
    rows = json.loads(body)["results"]["bindings"]
    assert [(r["ref"]["value"], r["label"]["value"]) for r in rows] == [
        ("1", "Zhu et al. (2019)"), ("2", "Zhao et al. (2020)")]
    _, _, body = request(server, "/queries/weaker-threat-models?threat_model=G&format=csv")
    assert [line.split(",")[0] for line in body.decode().splitlines()[1:]] == ["A", "B", "C", "D", "F"]
    _, _, body = request(server, "/queries/threat-model-coverage",
                         headers={"Accept": "text/tab-separated-values"})
    integer = "^^<http://www.w3.org/2001/XMLSchema#integer>"
    assert body.decode().splitlines()[1].split("\t")[:5] == [
        '"A"', '"Eavesdropper"', f'"21"{integer}', f'"0"{integer}', f'"0"{integer}']


def test_saved_query_accept_and_format_negotiation(server: Server) -> None:
    path = "/queries/attacks-feasible?threat_model=A"
    for accept, expected in [
        ("text/csv", "text/csv"),
        ("application/sparql-results+xml, application/sparql-results+json;q=0.5",
         "application/sparql-results+xml"),
        ("text/csv;q=0.2, application/sparql-results+json", "application/sparql-results+json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
         "application/sparql-results+json"),  # a browser: JSON, the default
        ("application/json", "application/sparql-results+json"),
    ]:
        status, headers, _ = request(server, path, headers={"Accept": accept})
        assert status == 200 and headers["content-type"].split(";")[0] == expected, accept
    status, headers, _ = request(server, path + "&format=tsv", headers={"Accept": "text/csv"})
    assert headers["content-type"].startswith("text/tab-separated-values")  # ?format= wins
    status, _, body = request(server, path, headers={"Accept": "text/turtle"})
    assert status == 406 and b"application/sparql-results+json" in body
    status, _, body = request(server, path + "&format=yaml")
    assert status == 400 and body.startswith(b"format=yaml: expected one of ")


@pytest.mark.parametrize("params", [
    {"threat_model": "Z"},
    {},
    {"threat_model": "A", "colour": "red"},
    {"threat_model": ""},
])
def test_bad_parameters_get_the_cli_message(server: Server, params: dict[str, str]) -> None:
    status, headers, body = request(server, saved_path("attacks-feasible", params))
    assert status == 400 and headers["content-type"].startswith("text/plain")
    assert body.decode() == cli_error(["query", "attacks-feasible", *p_args(params)]) + "\n"


@pytest.mark.parametrize(("name", "params"), [
    ("defenses-for-attack", {"attack": "99"}),
    ("defenses-for-attack", {"attack": "40"}),
    ("defenses-for-attack", {"attack": "soteria"}),
    ("defenses-for-attack", {"attack": '14") || true || STR("'}),
    ("defenses-cover-but-not", {"covered": "G", "uncovered": "H", "min_level": "ineffective"}),
    ("defenses-cover-but-not", {"covered": "G"}),
])
def test_bad_values_get_the_cli_message(server: Server, name: str, params: dict[str, str]) -> None:
    status, _, body = request(server, saved_path(name, params))
    assert status == 400
    assert body.decode() == cli_error(["query", name, *p_args(params)]) + "\n"


def test_unknown_query_and_repeated_parameter(server: Server) -> None:
    status, _, body = request(server, "/queries/no-such-query")
    assert status == 404 and body.decode() == cli_error(["query", "no-such-query"]) + "\n"
    status, _, body = request(server, "/queries/..%2Fqueries%2Fattacks-by-year")
    assert status == 404 and body.startswith(b"unknown query '../queries/attacks-by-year'")
    status, _, body = request(server, "/queries/attacks-feasible?threat_model=A&threat_model=B")
    assert status == 400 and body == b"query attacks-feasible: parameter threat_model given twice\n"


def test_catalog_and_openapi(server: Server) -> None:
    status, headers, body = request(server, "/queries")
    assert status == 200 and headers["content-type"] == "application/json"
    _, out, _ = run_cli(["queries", "--format", "json"])
    assert json.loads(body) == json.loads(out)
    listed = {q["name"]: q for q in json.loads(body)}
    assert set(listed) == set(CATALOG)
    assert [p["values"] for p in listed["attacks-feasible"]["params"]] == [list("ABCDEFGH")]
    status, _, body = request(server, "/openapi.json")
    doc = json.loads(body)
    assert status == 200 and doc["openapi"].startswith("3.")
    params = doc["paths"]["/queries/defenses-cover-but-not"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in params] == [
        ("covered", True), ("uncovered", True), ("min_level", False), ("format", False)]
    assert params[2]["schema"] == {"type": "string", "enum": ["effective", "partial"],
                                   "default": "effective"}


# ---------------------------------------------------------------- the SPARQL protocol


def test_get_and_both_posts_give_the_same_answer(server: Server) -> None:
    _, out, _ = run_cli(["sparql", SELECT_ATTACKS, "--format", "json"])
    got = [
        sparql_get(server, SELECT_ATTACKS),
        request(server, "/sparql", data=urlencode({"query": SELECT_ATTACKS}).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"}),
        request(server, "/sparql", data=SELECT_ATTACKS.encode(),
                headers={"Content-Type": "application/sparql-query"}),
    ]
    for status, headers, body in got:
        assert status == 200 and headers["content-type"].startswith("application/sparql-results+json")
        assert body.decode() == out
    assert len(json.loads(out)["results"]["bindings"]) == 36  # the SoK's 36 attacks [1]-[36]
    status, _, body = request(server, "/sparql", data=b"query=x", headers={"Content-Type": "text/plain"})
    assert status == 415 and b"application/sparql-query" in body


@pytest.mark.parametrize(("accept", "fmt", "media"), [
    ("application/sparql-results+json", "json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "xml", "application/sparql-results+xml"),
    ("text/csv", "csv", "text/csv"),
    ("text/tab-separated-values", "tsv", "text/tab-separated-values"),
    ("text/plain", "text", "text/plain"),
])
def test_select_content_negotiation(server: Server, accept: str, fmt: str, media: str) -> None:
    _, out, _ = run_cli(["sparql", SELECT_ATTACKS, "--format", fmt])
    for response in (sparql_get(server, SELECT_ATTACKS, accept=accept),
                     sparql_get(server, SELECT_ATTACKS, format=fmt, accept="text/csv;q=0.1")):
        status, headers, body = response
        assert status == 200 and headers["content-type"].split(";")[0] == media
        assert headers["vary"] == "Accept"
        assert body.decode() == out


@pytest.mark.parametrize(("accept", "fmt", "syntax"), [
    ("text/turtle", "ttl", ox.RdfFormat.TURTLE),
    ("application/n-triples", "nt", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", "jsonld", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", "xml", ox.RdfFormat.RDF_XML),
])
def test_graph_content_negotiation(server: Server, accept: str, fmt: str, syntax: ox.RdfFormat) -> None:
    _, out, _ = run_cli(["sparql", CONSTRUCT_ATTACKS, "--format", fmt])
    status, headers, body = sparql_get(server, CONSTRUCT_ATTACKS, accept=accept)
    assert status == 200 and headers["content-type"].split(";")[0] == accept
    assert body.decode() == out
    triples = {str(q.triple) for q in ox.parse(body, format=syntax)}
    assert len(triples) == 72  # 36 attacks, each typed and with one threat model
    zhu = "<https://w3id.org/gia-kg/id/attack/zhu-2019-deep-leakage>"
    assert f"{zhu} <{GIA}threatModel> <https://w3id.org/gia-kg/id/threat-model/A>" in triples
    _, headers, _ = sparql_get(server, CONSTRUCT_ATTACKS, format=fmt)
    assert headers["content-type"].split(";")[0] == accept


def test_ask_and_forms_without_a_format(server: Server) -> None:
    ask = "ASK { attack:zhu-2019-deep-leakage gia:threatModel tm:A }"
    status, _, body = sparql_get(server, ask)
    assert status == 200 and json.loads(body) == {"head": {}, "boolean": True}
    status, headers, body = sparql_get(server, ask, accept="application/sparql-results+xml")
    assert headers["content-type"].startswith("application/sparql-results+xml")
    assert b"<boolean>true</boolean>" in body
    status, _, body = sparql_get(server, ask, accept="text/csv")  # no CSV form for ASK
    assert status == 406 and body.startswith(b"no acceptable format for an ASK result")
    status, _, body = sparql_get(server, CONSTRUCT_ATTACKS, format="csv")
    assert status == 406 and b"CONSTRUCT" in body
    status, _, body = sparql_get(server, "SELECT * WHERE { ?s ?p }")
    assert status == 400 and body.startswith(b"SPARQL syntax error at line 1")
    status, _, body = sparql_get(server, "SELECT * WHERE { ?s foo:bar ?o }")
    assert status == 400 and b"unknown prefix 'foo:'" in body
    status, _, body = sparql_get(server, "# nothing\n")
    assert status == 400 and body == b"the SPARQL query is empty\n"
    status, _, body = request(server, "/sparql")
    assert status == 400 and body.startswith(b"give the SPARQL query once")


def test_rdflib_sparqlstore_reads_the_endpoint(server: Server) -> None:
    from rdflib import Graph, URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    for method in ("GET", "POST"):
        graph = Graph(store=SPARQLStore(server.url + "sparql", method=method))
        rows = list(graph.query(f"PREFIX gia: <{GIA}> SELECT ?tm WHERE "
                                "{ <https://w3id.org/gia-kg/id/attack/zhu-2019-deep-leakage> "
                                "gia:threatModel ?tm }"))
        assert rows == [(URIRef("https://w3id.org/gia-kg/id/threat-model/A"),)]


# ---------------------------------------------------------------- refusals and limits


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def _refusals(port: int) -> list[tuple[str, str]]:
    at = f"http://127.0.0.1:{port}"
    return [
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "SPARQL updates"),
        (f"LOAD <{at}/evil.ttl>", "SPARQL updates"),
        ("DELETE WHERE { ?s ?p ?o }", "SPARQL updates"),
        (f"SELECT * WHERE {{ SERVICE <{at}/sparql> {{ ?s ?p ?o }} }}", "SERVICE is refused"),
        (f"select * where {{ optional {{ service silent <{at}/> {{ ?s ?p ?o }} }} }}",
         "SERVICE is refused"),
        (f"SELECT * FROM <{at}/g.ttl> WHERE {{ ?s ?p ?o }}", "FROM and FROM NAMED are refused"),
        ("SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
         "FROM and FROM NAMED are refused"),
        (f"ASK FROM <{at}/g.ttl> {{ ?s ?p ?o }}", "FROM and FROM NAMED are refused"),
        (f"CONSTRUCT {{ ?s ?p ?o }} FROM <{at}/x> WHERE {{ ?s ?p ?o }}", "FROM and FROM NAMED"),
    ]


def test_updates_service_load_and_from_are_refused(server: Server, listener: Listener) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before = sparql_get(server, count, format="csv")[2]
    for text, message in _refusals(listener.port):
        for status, headers, body in (
            sparql_get(server, text),
            request(server, "/sparql", data=text.encode(),
                    headers={"Content-Type": "application/sparql-query"}),
        ):
            assert status == 403 and headers["content-type"].startswith("text/plain"), text
            assert body.decode().startswith(message) and body.count(b"\n") == 1, (text, body)
    for data, kind in ((b"INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-update"),
                       (b"update=" + quote("CLEAR ALL").encode(), "application/x-www-form-urlencoded")):
        status, _, body = request(server, "/sparql", data=data, headers={"Content-Type": kind})
        assert status == 403 and body.startswith(b"SPARQL updates")
    status, _, body = request(server, "/sparql?" + urlencode(
        {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "default-graph-uri": "http://x/"}))
    assert status == 403 and body.startswith(b"default-graph-uri and named-graph-uri are refused")
    status, headers, _ = request(server, "/sparql", data=b"x", method="PUT")
    assert status == 405 and headers["allow"] == "GET, HEAD, POST"
    assert listener.connections == 0
    assert sparql_get(server, count, format="csv")[2] == before


#: The sandbox suite's ad-hoc query cases, as the endpoint answers them (status, message start).
HOSTILE_SPARQL = {
    "empty-comment-only": (400, "the SPARQL query is empty"),
    "from-hidden-by-escape": (403, "FROM and FROM NAMED are refused"),
    "from-named-file": (403, "FROM and FROM NAMED are refused"),
    "memory-doubling-concat": (403, ""),  # the memory or the time limit, whichever comes first
    "nested-groups-valid": (200, ""),
    "query-file-not-utf8": (400, "the query in the request body is not UTF-8"),
    "rows-cross-product": (403, f"the result has more than {MAX_ROWS} rows"),
    "service-comment-in-iri": (403, "SERVICE is refused"),
    "service-from-stdin": (403, "SERVICE is refused"),
    "service-in-filter-exists": (403, "SERVICE is refused"),
    "service-ipv6-localhost": (403, "SERVICE is refused"),
    "service-localhost-name": (403, "SERVICE is refused"),
    "service-long-string-escape": (403, "SERVICE is refused"),
    "service-lowercase-nested": (403, "SERVICE is refused"),
    "service-silent": (403, "SERVICE is refused"),
    "service-unicode-escape-comment": (403, "SERVICE is refused"),
    "timeout-cross-product": (403, "query stopped after the time limit of 2 seconds"),
    "update-insert-hidden": (403, "SPARQL updates"),
    "update-load": (403, "SPARQL updates"),
    "update-with-select": (403, "SPARQL updates"),
}


def hostile_payloads(port: int) -> dict[str, bytes]:
    """The query texts of tests/hostile/sparql (as bytes: one is not UTF-8), with the listener's port."""
    out = {}
    for path in sorted((ROOT / "tests" / "hostile" / "sparql").glob("*.case")):
        case = parse_case(path)
        if "{payload}" in case.argv or case.stdin == "payload":
            data = case.payload.replace("{port}", str(port)).encode()
            out[path.stem] = codecs.escape_decode(data)[0] if case.escapes else data
    return out


def test_hostile_sparql_cases(server: Server, listener: Listener) -> None:
    payloads = hostile_payloads(listener.port)
    assert set(payloads) == set(HOSTILE_SPARQL)
    for name, text in payloads.items():
        status, _, body = request(server, "/sparql", data=text,
                                  headers={"Content-Type": "application/sparql-query"})
        expected, message = HOSTILE_SPARQL[name]
        assert status == expected and body.decode().startswith(message), (name, status, body)
    assert listener.connections == 0


def hostile_values(port: int) -> list[str]:
    """Values that would break out of a term if spliced into the text (and the suite's payloads)."""
    at = f"http://127.0.0.1:{port}"
    values = [
        '14") || true || STR("',
        "A> . } SERVICE <" + at + "/> { ?s ?p ?o } #",
        "<" + at + "/evil>",
        "tm:A } ; DROP ALL ; #",
        'A" } UNION { ?s ?p ?o } #',
        "A'''\"\"\" } LOAD <" + at + "/x> #",
        "?_threatModel_iri",
        "$x",
        "A\nB",
        "A\x00B",
        "\\u0022 } SERVICE <" + at + "/> {}",
        "🆕" * 50,
        "x" * 5000,
    ]
    return values + [data.decode("utf-8", "replace") for data in hostile_payloads(port).values()]


def test_hostile_values_through_every_parameter(server: Server, listener: Listener) -> None:
    """Each hostile value in every parameter of every saved query: the CLI's refusal, no connection."""
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before = sparql_get(server, count, format="csv")[2]
    checked = 0
    for name, saved in CATALOG.items():
        for param in saved.params:
            for value in hostile_values(listener.port):
                params = {p.name: p.default or example(name).get(p.name, "A") for p in saved.params}
                params[param.name] = value
                status, _, body = request(server, saved_path(name, params, "csv"))
                code, out, err = run_cli(["query", name, *p_args(params), "--format", "csv"])
                if code == 0:  # a value that happens to name something: the same harmless answer
                    assert status == 200 and body.decode() == out, (name, param.name, value)
                else:
                    assert status == 400, (name, param.name, value, body)
                    assert body.decode() == err.removeprefix("gia-kg: error: ")
                checked += 1
    assert checked >= 7 * 30  # seven parameters in five queries
    assert listener.connections == 0
    assert sparql_get(server, count, format="csv")[2] == before


def test_timeout_stops_the_work_and_the_server_stays_responsive(server: Server) -> None:
    before = server.workers()
    assert len(before) == 2
    results: list[tuple[int, bytes, float]] = []

    def runaway() -> None:
        start = time.monotonic()
        status, _, body = sparql_get(server, RUNAWAY)
        results.append((status, body, time.monotonic() - start))

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    status, _, body = sparql_get(server, "ASK { attack:zhu-2019-deep-leakage gia:threatModel tm:A }",
                                 format="text")
    assert status == 200 and body == b"true\n"  # answered by the other worker meanwhile
    assert time.monotonic() - start < 1.5
    thread.join(20)
    status, body, elapsed = results[0]
    assert status == 403
    assert body == (b"query stopped after the time limit of 2 seconds (gia-kg serve --timeout; or "
                    b"make the query more selective)\n")
    assert TIMEOUT - 0.1 < elapsed < TIMEOUT + 2
    deadline = time.monotonic() + 5
    while (len(server.workers()) != 2 or server.workers() == before) and time.monotonic() < deadline:
        time.sleep(0.05)
    after = server.workers()
    gone = before - after
    assert len(after) == 2 and len(gone) == 1  # the runaway's worker was killed and replaced
    assert not _alive(next(iter(gone)))
    status, _, body = sparql_get(server, "ASK { ?s ?p ?o }")
    assert status == 200 and b"true" in body


def test_a_worker_killed_from_outside_is_replaced(server: Server) -> None:
    victim = next(iter(server.workers()))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _alive(victim) and time.monotonic() < deadline:  # dead while idle, not mid-job
        time.sleep(0.01)
    for n in range(1, 5):  # ad-hoc queries are never cached: each one reaches a worker
        status, _, body = sparql_get(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?x {{ {n} }} }}",
                                     format="csv")
        assert status == 200 and body == b"n\r\n1\r\n"
    deadline = time.monotonic() + 5
    while (victim in server.workers() or len(server.workers()) != 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim not in server.workers() and len(server.workers()) == 2


def test_result_size_is_bounded(server: Server) -> None:
    message = (f"the result has more than {MAX_ROWS} rows, the --max-rows limit (add LIMIT to the "
               "query, or raise --max-rows)\n").encode()
    for text in ("SELECT * WHERE { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }"):
        status, _, body = sparql_get(server, text)
        assert status == 403 and body == message, text
    status, _, body = sparql_get(server, f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS}", format="csv")
    assert status == 200 and body.count(b"\r\n") == MAX_ROWS + 1


def test_many_parallel_requests_are_all_correct(server: Server) -> None:
    jobs = []
    for name in CATALOG:
        for fmt in ("json", "csv"):
            params = example(name)
            code, out, err = run_cli(["query", name, *p_args(params), "--format", fmt])
            assert code == 0, err
            jobs.append((saved_path(name, params, fmt), out))
    for fmt in ("json", "tsv"):
        _, out, _ = run_cli(["sparql", SELECT_ATTACKS, "--format", fmt])
        jobs.append(("/sparql?" + urlencode({"query": SELECT_ATTACKS, "format": fmt}), out))
    work = [jobs[i % len(jobs)] for i in range(50)]

    def fetch(job: tuple[str, str]) -> tuple[str, int, str] | None:
        status, _, body = request(server, job[0])
        return None if status == 200 and body.decode() == job[1] else (job[0], status, body.decode())

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert [wrong for wrong in pool.map(fetch, work) if wrong] == []
    # one keep-alive connection, many requests
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for path, out in jobs[:6]:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200 and response.read().decode() == out
    conn.close()


def test_query_page_is_offline(server: Server) -> None:
    status, headers, body = request(server, "/")
    page = body.decode()
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert '<form method="post" action="/sparql">' in page
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|url\(|@import", page)
    assert all(f'action="/queries/{name}"' in page for name in CATALOG)
    assert request(server, "/nothing-here")[0] == 404


def test_binds_to_loopback_only(server: Server) -> None:
    listening = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.split(":")[1], 16) == server.port:
            listening.append(local.split(":")[0])
    assert listening == ["0100007F"]  # 127.0.0.1, not 0.0.0.0
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", server.port), timeout=2):
        pass


# ---------------------------------------------------------------- start and stop


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_server_stops_cleanly(tmp_path: Path, sig: int) -> None:
    running = Server(tmp_path / "serve.log", "--workers", "3")
    zygote = next(iter(_children(running.proc.pid)))
    workers = running.workers()
    assert len(workers) == 3
    assert request(running, "/queries/attacks-feasible?threat_model=A")[0] == 200
    assert running.stop(sig) == 0
    assert "Traceback" not in running.log.read_text()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in (zygote, *workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in (zygote, *workers))
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", running.port), timeout=2):
        pass


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    assert cli_error(["serve", "--timeout", "0"]) == "--timeout 0: expected a number of seconds > 0"
    assert cli_error(["serve", "--max-rows", "0"]) == "--max-rows 0: expected a whole number > 0"
    assert cli_error(["serve", "--port", "70000"]) == (
        "--port 70000: expected a port number from 0 to 65535")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        message = cli_error(["serve", "--port", str(port)])
    finally:
        taken.close()
    assert message == f"--host 127.0.0.1 --port {port}: cannot listen: Address already in use"


def test_negotiation_helpers() -> None:
    assert serve.choose("table", None) == "json"
    assert serve.choose("graph", "*/*") == "ttl"
    assert serve.choose("table", "text/*") == "csv"
    assert serve.choose("table", "text/csv;q=0") is None
    assert serve.choose("graph", "application/json") == "jsonld"
    assert serve.negotiate(None, "json") == {"table": "json", "boolean": "json", "graph": "jsonld"}
    assert serve.negotiate(None, "text/turtle") == {"table": None, "boolean": None, "graph": "ttl"}
