"""``--endpoint URL``: the CLI against a real SPARQL 1.1 server gives what the local store gives.

A module fixture exports the graph (``export --inferred --format nt``), loads it into Oxigraph's
own server (``oxigraph serve-read-only``, from the ``oxigraph`` PyPI package) on a free port of
127.0.0.1, and stops it at the end. Every saved query with every parameter combination, and
sparql/assess/audit/tables/order/queries, must print the same text through the endpoint as
locally; while the endpoint runs, the local store is made unreachable, so a command that quietly
answered locally fails. Fake servers (HTML, HTTP 500, bad JSON, oversized, redirects, one that
never answers) and a closed port give one-line errors with exit code 2.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from kg import engine, queries
from kg.cli import build_parser, main
from kg.errors import QueryError
from kg.remote import RemoteDataset, with_prefixes
from tests.conftest import real_data

pytestmark = real_data

CATALOG = queries.load_catalog()
#: Attack parameters also take labels: a whole label, and a unique part of one (hand-picked).
ATTACK_LABELS = ("Zhu et al. (2019)", "Geiping et al. (2020)", "zhao et al. (2020)")
#: Values every parameter type refuses, with the same one-line message locally and remotely.
BAD_VALUES = {"threat_model": "Z", "level": "ineffective", "attack": "40", "string": "mitre"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _oxigraph() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        pytest.skip("the oxigraph server is not installed (pip install oxigraph: the test extra)")
    return found


def _answers(url: str) -> bool:
    data = urllib.parse.urlencode({"query": "ASK {}"}).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Accept": "application/sparql-results+json",
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return json.loads(response.read()).get("boolean") is True
    except OSError:
        return False


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an Oxigraph server holding ``gia-kg export --inferred``."""
    binary = _oxigraph()
    folder = tmp_path_factory.mktemp("endpoint")
    nt = folder / "kg.nt"
    assert main(["export", "--inferred", "--format", "nt", "-o", str(nt)]) == 0
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(nt)],
                   check=True, capture_output=True, timeout=60)
    port = _free_port()
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 20
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("oxigraph serve-read-only did not answer: "
                            + (folder / "server.log").read_text(errors="replace"))
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@contextlib.contextmanager
def _no_local_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Opening the local graph fails inside: the answer must come from the endpoint."""
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the local store was opened although --endpoint was given")

    with monkeypatch.context() as m:
        m.setattr(engine, "dataset_files", refuse)
        yield


def _compare(capsys, monkeypatch, url: str, args: list[str]) -> tuple[int, str, str]:
    """The local run and the endpoint's run of ``args`` (exit code, stdout, stderr) are equal."""
    local = _run(capsys, args)
    with _no_local_store(monkeypatch):
        remote = _run(capsys, ["--endpoint", url, *args])
    assert remote == local, args
    return local


# ------------------------------------------------------------------ saved queries


def _combinations(query: queries.SavedQuery, vocab: queries.Vocabulary) -> list[list[str]]:
    """``-p`` arguments: every vocabulary value of each parameter (attacks: numbers and labels),
    all combinations, plus one refused value per parameter."""
    per_param = []
    for param in query.params:
        values = list(param.choices(vocab) or ())
        if param.type == "attack":
            values += ATTACK_LABELS
        assert values, f"{query.name}: no values for {param.name}"
        per_param.append([f"{param.name}={v}" for v in values])
    combos = [[x for a in chosen for x in ("-p", a)] for chosen in itertools.product(*per_param)]
    for i, param in enumerate(query.params):
        good = [per_param[j][0] for j in range(len(query.params)) if j != i]
        bad = [*good, f"{param.name}={BAD_VALUES[param.type]}"]
        combos.append([x for a in bad for x in ("-p", a)])
    return combos


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_saved_query_with_every_parameter_combination(
    name: str, endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = CATALOG[name]
    vocab = queries.vocabulary(engine.open_dataset())
    combos = _combinations(query, vocab)
    if query.params:  # the refused values are there, and refused alike
        assert len(combos) > len(query.params)
    nonempty = 0
    for params in combos:
        for fmt in ("csv", "text"):
            code, out, err = _compare(capsys, monkeypatch, endpoint,
                                      ["query", name, *params, "--format", fmt])
            if code == 0:
                nonempty += fmt == "csv" and out.count("\n") > 1
            else:
                assert code == 2 and out == "" and err.count("\n") == 1, (params, err)
    assert nonempty > 0, f"{name}: no combination gave rows, the comparison proves little"


def test_saved_query_through_the_dataset_interface(endpoint: str) -> None:
    """Hand-written rows of the SoK's coverage table, read through RemoteDataset directly."""
    remote = RemoteDataset(endpoint)
    table = queries.run_saved("coverage-matrix", {}, dataset=remote)
    assert len(table.rows) == 21
    short = {"effective": "G", "partial": "O", "ineffective": "R"}
    by_ref = {r[0]: "".join(short[c] for c in r[2:10]) for r in table.text_rows()}
    assert by_ref["42,43"] == "GOORRRRR"
    assert by_ref["56"] == "GGOGOGOO"  # DCS-2: A-B green, C orange, D green, E orange, F green
    feasible = queries.run_saved("attacks-feasible", {"threat_model": "A"}, dataset=remote)
    assert feasible.column("ref") == ["1", "2"]  # DLG and iDLG need only the model updates


def test_bindings_are_refused_remotely(endpoint: str) -> None:
    import pyoxigraph as ox

    with pytest.raises(QueryError, match="write the parameters into the text"):
        RemoteDataset(endpoint).select("SELECT ?x WHERE { BIND(1 AS ?x) }", {"x": ox.Literal("1")})


def test_ref_lists_and_order_by_as_locally(endpoint: str) -> None:
    """GROUP_CONCAT's order is normalised and ORDER BY is kept, as kg.engine.table_of does."""
    remote = RemoteDataset(endpoint)
    refs = remote.select('SELECT ?ref WHERE { VALUES ?ref { "45,43,42" } }')
    assert refs.column("ref") == ["42,43,45"]
    kept = remote.select("SELECT ?n WHERE { VALUES ?n { 3 1 2 } } ORDER BY DESC(?n)")
    assert kept.ordered and kept.column("n") == ["3", "2", "1"]
    unordered = remote.select("SELECT ?n WHERE { VALUES ?n { 3 1 2 } }")
    assert not unordered.ordered and unordered.column("n") == ["1", "2", "3"]


# ------------------------------------------------------------------ the other commands


@pytest.mark.parametrize("args", [
    ["order"], ["order", "--format", "csv"], ["order", "--format", "dot"], ["order", "--all"],
    ["audit"], ["audit", "--format", "csv"],
    ["tables"], ["tables", "--no-references"],
    ["queries"], ["queries", "--format", "json"],
    ["query", "defenses-cover-but-not", "--help"],
    *(["assess", "--threat-model", tm] for tm in "ABCDEFGH"),
    ["assess", "--threat-model", "G", "--format", "csv"],
    ["assess", "--capabilities", "model-updates"],
    ["assess", "--capabilities", "model-updates,basic-knowledge,active-manipulation"],
    ["assess", "--capabilities", "model-updates,client-selection", "--format", "json"],
    ["assess", "--threat-model", "Q"],
])
def test_commands_through_the_endpoint(
    args: list[str], endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _compare(capsys, monkeypatch, endpoint, args)
    assert (code, bool(out)) == ((2, False) if "Q" in args else (0, True))


def test_order_through_the_endpoint_is_the_sok_order(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, ["--endpoint", endpoint, "order", "--format", "csv"])
    assert code == 0
    assert out.splitlines() == ["stronger,weaker", "B,A", "C,B", "D,C", "E,D", "F,C", "G,D", "G,F",
                                "H,G"]


SPARQL = [
    "SELECT ?tm ?name WHERE { ?tm a gia:ThreatModel ; rdfs:label ?name }",
    "SELECT ?a WHERE { ?a a gia:Attack } ORDER BY DESC(?a) LIMIT 5",
    "ASK { attack:zhu-2019-deep-leakage a gia:Attack }",
    "ASK { attack:zhu-2019-deep-leakage a gia:Defense }",
    "CONSTRUCT { ?tm rdfs:label ?name } WHERE { ?tm a gia:ThreatModel ; rdfs:label ?name }",
    "DESCRIBE attack:zhu-2019-deep-leakage",
    "PREFIX g: <https://w3id.org/gia-kg/ontology#>\nSELECT (COUNT(*) AS ?n) WHERE { ?a a g:Attack }",
]


@pytest.mark.parametrize("text", SPARQL)
def test_sparql_through_the_endpoint(
    text: str, endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = text.startswith(("CONSTRUCT", "DESCRIBE"))
    for fmt in ("ttl", "nt", "jsonld", "xml") if graph else ("text", "csv", "tsv", "json", "xml", "md"):
        if fmt in ("csv", "tsv") and text.startswith("ASK"):
            continue
        code, out, _ = _compare(capsys, monkeypatch, endpoint, ["sparql", text, "--format", fmt])
        assert code == 0 and out


def test_sparql_answers_by_hand(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, ["--endpoint", endpoint, "sparql", "--format", "json", SPARQL[2]])
    assert code == 0 and json.loads(out)["boolean"] is True
    code, out, _ = _run(capsys, ["--endpoint", endpoint, "sparql", "--format", "json", SPARQL[3]])
    assert code == 0 and json.loads(out)["boolean"] is False
    code, out, _ = _run(capsys, ["--endpoint", endpoint, "sparql", "--format", "csv",
                                 "SELECT ?tm WHERE { ?tm a gia:ThreatModel } ORDER BY ?tm"])
    assert out.split() == ["tm", *(f"https://w3id.org/gia-kg/id/threat-model/{c}" for c in "ABCDEFGH")]


def test_sparql_errors_come_from_the_endpoint(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    # a syntax error on line 2 is reported on line 2: the prefixes went on line 1
    code, out, err = _run(capsys, ["--endpoint", endpoint, "sparql", "SELECT ?x\nWHERE { ?x gia:p }"])
    assert (code, out) == (2, "")
    assert err.startswith(f"gia-kg: error: --endpoint {endpoint}: HTTP 400 Bad Request: error at 2:")
    assert err.count("\n") == 1
    code, out, err = _run(capsys, ["--endpoint", endpoint, "sparql",
                                   "INSERT DATA { <urn:a> <urn:b> <urn:c> }"])
    assert (code, out, err.count("\n")) == (2, "", 1) and "HTTP 400" in err
    code, _, err = _run(capsys, ["--endpoint", endpoint, "sparql", "--max-rows", "3",
                                 "SELECT * WHERE { ?s ?p ?o }"])
    assert code == 2 and "more than 3 rows" in err


def test_with_prefixes_declares_only_what_is_used_and_undeclared() -> None:
    assert with_prefixes("ASK {}") == "ASK {}"
    assert with_prefixes("ASK { ?s a gia:Attack }") == (
        "PREFIX gia: <https://w3id.org/gia-kg/ontology#> ASK { ?s a gia:Attack }")
    own = "PREFIX gia: <urn:mine#>\nASK { ?s a gia:Attack }"
    assert with_prefixes(own) == own
    # inside strings, IRIs and comments nothing is a prefixed name
    quiet = 'ASK { ?s ?p "gia:x" , <urn:rdfs:x> } # owl:Thing'
    assert with_prefixes(quiet) == quiet
    assert with_prefixes('ASK { ?s ?p "1"^^xsd:integer }').startswith(
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ASK")


def test_remote_answers_build_no_local_store(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GIA_KG_CACHE", str(cache))
    for args in (["query", "coverage-matrix"], ["tables"], ["order"], ["audit"]):
        assert _run(capsys, ["--endpoint", endpoint, *args])[0] == 0
    assert not cache.exists() or not any(cache.iterdir())
    assert engine.current_endpoint() is None  # main leaves the local store in place afterwards


# ------------------------------------------------------------------ refusals and failures


def _one_line_error(capsys, args: list[str], *phrases: str) -> str:
    code, out, err = _run(capsys, args)
    assert (code, out) == (2, ""), err
    assert err.startswith("gia-kg: error: ") and err.count("\n") == 1, err
    for phrase in phrases:
        assert phrase in err, err
    return err


LOCAL_ONLY = {
    "reason": ["reason"], "validate": ["validate"], "import-sok": ["import-sok", "x.md", "-o", "d"],
    "export": ["export"], "build": ["build"], "cache": ["cache"], "diff": ["diff", "a", "b"],
    "site": ["site", "-o", "site-out"], "serve": ["serve"],
}


@pytest.mark.parametrize("command", sorted(LOCAL_ONLY))
def test_commands_that_cannot_use_an_endpoint_refuse_it(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if command not in _commands():
        pytest.skip(f"no '{command}' command yet")
    _one_line_error(capsys, ["--endpoint", "http://127.0.0.1:9/query", *LOCAL_ONLY[command]],
                    f"{command} does not run against a SPARQL endpoint")


def _commands() -> set[str]:
    commands: dict = {}
    build_parser(commands)
    return set(commands)


@pytest.mark.parametrize(("args", "phrase"), [
    (["--endpoint", "ftp://example.org/sparql", "order"], "expected the http:// or https:// URL"),
    (["--endpoint", "example.org/sparql", "order"], "expected the http:// or https:// URL"),
    (["--endpoint", "http://user:secret@example.org/q", "order"], "credentials in the URL"),
    (["--endpoint", "http://127.0.0.1:9/query", "--kg", "kg/data", "order"], "exclude each other"),
    (["--endpoint-timeout", "5", "order"], "--endpoint-timeout is for --endpoint"),
    (["--endpoint", "http://127.0.0.1:9/query", "--endpoint-timeout", "0", "order"],
     "--endpoint-timeout 0: expected a number of seconds > 0"),
])
def test_bad_endpoint_options(args: list[str], phrase: str, capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_error(capsys, args, phrase)


def test_closed_port(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/query"
    _one_line_error(capsys, ["--endpoint", url, "query", "coverage-matrix"],
                    f"--endpoint {url}: connection refused")


def test_unknown_host(capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_error(capsys, ["--endpoint", "http://no-such-host.invalid/query", "order"],
                    "cannot resolve the host name 'no-such-host.invalid'")


class _Fake(BaseHTTPRequestHandler):
    """Answers by path: what broken or unexpected servers send."""

    requests: ClassVar[list[tuple[str, str, str, dict[str, list[str]]]]] = []
    big = b'{"head":{"vars":["x"]},"results":{"bindings":[' + b",".join(
        [b'{"x":{"type":"literal","value":"%d"}}' % i for i in range(60_000)]) + b"]}}"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, media: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        self.requests.append((self.path, self.headers.get("Content-Type", ""),
                              self.headers.get("Accept", ""), form))
        srj = "application/sparql-results+json"
        if self.path == "/html":
            self._send(200, "text/html", b"<!DOCTYPE html>\n<html><body><h1>Welcome</h1></body></html>")
        elif self.path == "/500":
            self._send(500, "text/plain", b"database is locked\nat frame 2\n")
        elif self.path == "/500html":
            self._send(500, "text/html", b"<html><head><title>Oops</title></head><body>x</body></html>")
        elif self.path == "/garbage":
            self._send(200, srj, b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": ')
        elif self.path == "/big":
            self._send(200, srj, self.big)
        elif self.path == "/moved":
            self._send(307, "text/plain", b"", Location="/echo")
        elif self.path == "/away":
            self._send(307, "text/plain", b"", Location="http://elsewhere.invalid/query")
        elif self.path == "/loop":
            self._send(308, "text/plain", b"", Location="/loop")
        elif self.path == "/echo":
            self._send(200, srj, b'{"head":{},"boolean":true}')
        else:
            self._send(404, "text/plain", b"no such path")


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("path", "phrases"), [
    ("/html", ["the answer is text/html, not SPARQL results or RDF"]),
    ("/500", ["HTTP 500 Internal Server Error: database is locked"]),
    ("/500html", ["HTTP 500 Internal Server Error: Oops"]),
    ("/garbage", ["the answer is not valid application/sparql-results+json"]),
    ("/away", ["redirected to http://elsewhere.invalid/query", "not followed"]),
    ("/loop", ["more than 5 redirects"]),
])
def test_broken_servers_are_one_line_errors(
    path: str, phrases: list[str], fake: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fake + path
    err = _one_line_error(capsys, ["--endpoint", url, "query", "coverage-matrix"],
                          f"--endpoint {url}: ", *phrases)
    assert "at frame 2" not in err  # only the first line of the body


def test_protocol_and_same_host_redirect(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    _Fake.requests.clear()
    code, out, _ = _run(capsys, ["--endpoint", fake + "/moved", "sparql", "--format", "json",
                                 "ASK { ?s a gia:Attack }"])
    assert code == 0 and json.loads(out)["boolean"] is True
    text = "PREFIX gia: <https://w3id.org/gia-kg/ontology#> ASK { ?s a gia:Attack }"
    form = {"query": [text]}
    media = "application/x-www-form-urlencoded"
    assert [(p, c, f) for p, c, _, f in _Fake.requests] == [("/moved", media, form), ("/echo", media, form)]
    assert _Fake.requests[0][2].startswith("application/sparql-results+json")


def test_oversized_answer(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(_Fake.big) > 1 << 21
    _one_line_error(capsys, ["--endpoint", fake + "/big", "sparql", "--max-memory", "1",
                             "SELECT ?x WHERE { ?x ?p ?o }"],
                    "the answer is over the limit of 1 MB (raise --max-memory")
    with pytest.raises(QueryError, match="over the limit of 1000 bytes"):
        RemoteDataset(fake + "/big", max_bytes=1000).select("SELECT ?x WHERE { ?x ?p ?o }")
    assert len(RemoteDataset(fake + "/big").select("SELECT ?x WHERE { ?x ?p ?o }").rows) == 60_000


@pytest.fixture
def silent() -> Iterator[str]:
    """A server that accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/query"


def test_a_server_that_never_answers_times_out(silent: str, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.monotonic()
    _one_line_error(capsys, ["--endpoint", silent, "--endpoint-timeout", "0.5", "query",
                             "coverage-matrix"],
                    "no complete answer within 0.5 seconds (raise --endpoint-timeout")
    _one_line_error(capsys, ["--endpoint", silent, "sparql", "--timeout", "0.5", "ASK {}"],
                    "no complete answer within 0.5 seconds (raise --timeout")
    assert time.monotonic() - start < 5


def test_the_local_path_loads_no_http_client() -> None:
    """kg.remote (http.client, ssl) is imported only once --endpoint is given."""
    code = ("import sys, kg.cli, kg.engine, kg.adhoc, kg.queries, kg.api; "
            "print(sorted(m for m in sys.modules if m in ('kg.remote', 'http.client', 'ssl')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == "[]"
