"""``gia-kg serve``: a read-only SPARQL 1.1 endpoint and the saved queries as an HTTP API.

Routes (docs/serve.md has the details):

- ``/sparql``: the SPARQL 1.1 Protocol query operation: ``GET ?query=``, ``POST`` of a form
  (``application/x-www-form-urlencoded``) or of the query itself (``application/sparql-query``);
  results as SPARQL JSON/XML/CSV/TSV, graphs as Turtle/N-Triples/JSON-LD/RDF-XML, chosen by
  ``Accept`` or ``?format=``;
- ``/queries``: the saved queries and their parameters (``kg.queries.catalog_json``);
  ``/queries/NAME?param=value``: one saved query, parameters validated as ``gia-kg query`` does
  (400 with its one-line message), then written into the text as serialised terms
  (``kg.queries.prepare``);
- ``/openapi.json``: an OpenAPI 3 description of the above; ``/``: an offline query page.

Why not ``oxigraph serve-read-only`` (which the ``oxigraph`` package ships): measured here, it
executes ``SERVICE`` (it connected to a listener on 127.0.0.1), answers ``FROM`` instead of
refusing it, has no bound on result size, and has no saved-query API. So the HTTP layer is
Python's standard library and the engine is Oxigraph (pyoxigraph, an in-memory Store loaded once
from the files ``kg.engine.dataset_files`` names), with every query run in a pre-forked sandboxed
worker (kg.serve_pool: no network, memory limit, killed at the time limit) and formatted there by
the kg.results writers. The graph never changes while serving, so saved-query answers are kept in
a bounded cache keyed by their bound text and format.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from kg import __version__, formats, queries, serve_work
from kg.errors import GiaKgError, QueryError, UsageError
from kg.serve_pool import LimitExceeded, PoolBusy, PoolLimits, WorkerPool
from kg.serve_work import OFFERED, Refused

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_MEMORY_MB = 2048
#: The largest answer a worker may hand back (bytes); the parent holds it while sending.
MAX_ANSWER = 128 << 20
#: The largest request body (a POSTed query) accepted.
MAX_BODY = 1 << 20
#: Connections served at once; beyond that a client gets 503 at once.
MAX_CONNECTIONS = 64
#: Seconds an idle keep-alive connection (or a slow request) may hold its thread.
IDLE_TIMEOUT = 30.0
#: Bytes of saved-query answers kept in memory.
CACHE_BYTES = 64 << 20
#: Query-string fields that are not saved-query parameters.
FORMAT_FIELD = "format"
#: Extra media types a client may ask for, beyond kg.formats.MEDIA_TYPES, per (kind, format).
EXTRA_TYPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("table", "json"): ("application/json",),
    ("graph", "jsonld"): ("application/json",),
    ("graph", "ttl"): ("application/x-turtle",),
}
TEXT = "text/plain; charset=utf-8"
PAGE_QUERY = "attacks-by-year"  # the saved query whose text fills the query page's form
_CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'")


@dataclass(frozen=True)
class Settings:
    """How the endpoint listens and what one query may use."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB
    workers: int = 2
    cache_bytes: int = CACHE_BYTES
    quiet: bool = False

    def check(self) -> None:
        """UsageError naming the option unless every setting is usable."""
        if not (0 < self.timeout < float("inf")):
            raise UsageError(f"--timeout {self.timeout:g}: expected a number of seconds > 0")
        if self.max_rows <= 0:
            raise UsageError(f"--max-rows {self.max_rows}: expected a whole number > 0")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port {self.port}: expected a port number from 0 to 65535")
        if not 1 <= self.workers <= 64:
            raise UsageError(f"--workers {self.workers}: expected a whole number from 1 to 64")
        if self.max_memory_mb <= 0:
            raise UsageError(f"--max-memory {self.max_memory_mb}: expected a number of MB > 0")
        if not self.host or any(c.isspace() for c in self.host):
            raise UsageError(f"--host {self.host!r}: expected a host name or an IP address")


@dataclass
class Response:
    """One HTTP answer."""

    status: int
    type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str, **headers: str) -> Response:
    return Response(status, TEXT, f"{' '.join(message.splitlines())}\n".encode(), dict(headers))


# ---------------------------------------------------------------- content negotiation


def _media_types(form: str, fmt: str) -> tuple[str, ...]:
    kind = serve_work.FORMS[form]
    return (formats.MEDIA_TYPES[(kind, fmt)], *EXTRA_TYPES.get((kind, fmt), ()))


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """``Accept`` as (media range, q, position); malformed parts are skipped."""
    out = []
    for index, part in enumerate((header or "").split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        kind = kind.lower()
        if kind.count("/") != 1:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        out.append((kind, q, index))
    return out


def _match(media: str, ranges: list[tuple[str, float, int]]) -> tuple[float, int, int] | None:
    """(q, specificity, -position) of the most specific range that matches ``media``."""
    major = media.split("/")[0]
    best = None
    for kind, q, index in ranges:
        if kind == media:
            specificity = 2
        elif kind == f"{major}/*":
            specificity = 1
        elif kind == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[1]:
            best = (q, specificity, -index)
    return best


def choose(form: str, accept: str | None) -> str | None:
    """The format for a result ``form`` that ``accept`` likes best; the default without one."""
    ranges = parse_accept(accept)
    if not ranges:
        return OFFERED[form][0]
    best: tuple | None = None
    chosen = None
    for preference, fmt in enumerate(OFFERED[form]):
        for media in _media_types(form, fmt):
            found = _match(media, ranges)
            if found is None or found[0] <= 0:
                continue
            score = (*found, -preference)
            if best is None or score > best:
                best, chosen = score, fmt
    return chosen


def _by_name(form: str, name: str) -> str | None:
    """A ``?format=`` name (kg.formats names and aliases) for one result form, or None."""
    fmt = formats.canonical(name)
    if form == "graph" and fmt == "json":
        fmt = "jsonld"  # as the .json extension means JSON-LD for a graph (kg.formats)
    return fmt if fmt in OFFERED[form] else None


def negotiate(accept: str | None, fmt: str | None) -> dict[str, str | None]:
    """The format per result form from ``?format=`` (a name or a media type), else ``Accept``."""
    if fmt is not None and "/" not in fmt:
        if formats.canonical(fmt) is None:
            names = ", ".join(dict.fromkeys(f for form in OFFERED.values() for f in form))
            raise Refused(400, f"format={fmt}: expected one of {names}, or a media type")
        return {form: _by_name(form, fmt) for form in OFFERED}
    return {form: choose(form, fmt if fmt is not None else accept) for form in OFFERED}


# ---------------------------------------------------------------- answers cache


class _Cache:
    """Saved-query answers by (bound text, formats): the graph is immutable while serving."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str], Response] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Response | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], response: Response) -> None:
        size = len(response.body) + len(key[0])
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = response
            self._size += size
            while self._size > self.max_bytes:
                old_key, old = self._items.popitem(last=False)
                self._size -= len(old.body) + len(old_key[0])


# ---------------------------------------------------------------- the endpoint


class Endpoint:
    """The graph in memory, the sandboxed workers and the HTTP server (see the module docstring).

    Create it in the main thread before starting other threads (the worker pool forks).
    """

    def __init__(self, kg_dir: str | Path | None = None, settings: Settings = Settings()) -> None:
        from kg.engine import open_dataset
        from kg.progress import step

        settings.check()
        self.settings = settings
        with step("loading the graph into memory"):
            self.dataset = open_dataset(kg_dir, in_memory=True)
            self.catalog = queries.load_catalog()
            self.vocab = queries.vocabulary(self.dataset)
            _warm_up(self.dataset, self.catalog)
            serve_work.warm_up()
        self.triples = len(self.dataset)
        self._cache = _Cache(settings.cache_bytes)
        limit = settings.max_memory_mb
        memory_message = (f"the query needed more than the memory limit of {limit} MB "
                          "(make it more selective)")
        try:  # listen first: a taken port fails before anything forks
            self.httpd = _server_class(settings.host)((settings.host, settings.port), _Handler, self)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise UsageError(f"--host {settings.host} --port {settings.port}: cannot listen: "
                             f"{why}") from None
        try:  # the zygote closes its copy of the listening socket at once
            self.pool = WorkerPool(
                serve_work.handler(self.dataset.store, memory_message),
                settings.workers,
                PoolLimits(
                    timeout=settings.timeout,
                    max_memory=limit << 20,
                    max_answer=MAX_ANSWER,
                    timeout_message=f"query stopped after the time limit of {settings.timeout:g} "
                    "seconds (gia-kg serve --timeout; or make the query more selective)",
                    memory_message=memory_message,
                    answer_message=f"the answer is larger than the limit of {MAX_ANSWER >> 20} MB "
                    "(add LIMIT to the query)",
                ),
            )
        except BaseException:
            self.httpd.server_close()
            raise
        try:
            self.pool.wait_ready()
        except BaseException:
            self.close()
            raise
        self._page = _page(self)
        self._openapi = (json.dumps(openapi(self), indent=2, ensure_ascii=False) + "\n").encode()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server listens on (the port chosen when --port 0)."""
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:7878/``."""
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def serve_forever(self) -> None:
        """Serve until ``close`` (from another thread) or a signal ends it."""
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> Endpoint:
        """Serve from a background thread (tests, notebooks, benchmarks); returns self."""
        self._thread = threading.Thread(target=self.serve_forever, name="gia-kg-serve", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, close the socket, stop every worker."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.httpd.server_close()
        self.pool.close()

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- routes

    def respond(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> Response:
        """The answer to one request (``headers`` with lower-case names)."""
        parts = urlsplit(target)
        path = parts.path
        try:
            fields = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=200,
                               encoding="utf-8", errors="strict")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the query string is not valid (at most 200 fields, UTF-8)")
        allowed = "GET, HEAD, POST" if path == "/sparql" else "GET, HEAD"
        if method not in allowed.split(", "):
            return _error(405, f"{method} is not allowed on {path}; allowed: {allowed}", Allow=allowed)
        try:
            if path == "/sparql":
                return self._sparql(method, fields, headers, body)
            if path in ("/", "/index.html"):
                return Response(200, "text/html; charset=utf-8", self._page,
                                {"Content-Security-Policy": _CSP})
            if path in ("/queries", "/queries/"):
                return self._catalog(fields, headers)
            if path.startswith("/queries/"):
                return self._saved(unquote(path[len("/queries/"):]), fields, headers)
            if path == "/openapi.json":
                return Response(200, "application/json", self._openapi)
            return _error(404, f"no such resource: {path}; see / for the query page, /sparql, "
                          "/queries and /openapi.json")
        except Refused as exc:
            return _error(exc.status, str(exc))

    def _sparql(self, method: str, fields: list[tuple[str, str]], headers: dict[str, str],
                body: bytes | None) -> Response:
        """The SPARQL 1.1 Protocol query operation."""
        if method == "POST":
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "application/x-www-form-urlencoded":
                try:
                    fields = fields + parse_qsl((body or b"").decode("ascii"), keep_blank_values=True,
                                                max_num_fields=200, encoding="utf-8", errors="strict")
                except (ValueError, UnicodeDecodeError):
                    raise Refused(400, "the form is not valid application/x-www-form-urlencoded "
                                  "UTF-8 (at most 200 fields)") from None
            elif kind == "application/sparql-query":
                try:
                    fields = [*fields, ("query", (body or b"").decode("utf-8"))]
                except UnicodeDecodeError:
                    raise Refused(400, "the query in the request body is not UTF-8") from None
            elif kind == "application/sparql-update":
                raise Refused(403, serve_work.UPDATE_REFUSED)
            else:
                raise Refused(415, f"Content-Type {kind or '(none)'}: expected "
                              "application/x-www-form-urlencoded or application/sparql-query")
        names = [name for name, _ in fields]
        if "update" in names:
            raise Refused(403, serve_work.UPDATE_REFUSED)
        if "default-graph-uri" in names or "named-graph-uri" in names:
            raise Refused(403, "default-graph-uri and named-graph-uri are refused: this endpoint "
                          "answers from its own graph only")
        texts = [value for name, value in fields if name == "query"]
        if len(texts) != 1:
            raise Refused(400, "give the SPARQL query once, as the 'query' parameter (GET ?query=, "
                          "a POSTed form, or a POSTed application/sparql-query body)")
        text = texts[0]
        if not re.sub(r"#[^\n]*", "", text).strip():
            raise Refused(400, "the SPARQL query is empty")
        chosen = negotiate(headers.get("accept"), _one(fields, FORMAT_FIELD))
        return self._run({"text": text, "check": True, "formats": chosen})

    def _saved(self, name: str, fields: list[tuple[str, str]], headers: dict[str, str]) -> Response:
        """One saved query: parameters validated and bound by kg.queries.prepare, then run."""
        values: dict[str, str] = {}
        for key, value in fields:
            key = key.strip()
            if key == FORMAT_FIELD:
                continue
            if key in values:
                raise Refused(400, f"query {name}: parameter {key} given twice")
            values[key] = value.strip()
        try:
            text = queries.prepare(name, values, self.dataset)
        except UsageError as exc:
            status = 404 if str(exc).startswith("unknown query ") else 400
            raise Refused(status, str(exc)) from None
        except ValueError:  # a name Path cannot hold (a NUL byte)
            raise Refused(404, f"unknown query {name!r}; valid queries: "
                          + ", ".join(self.catalog)) from None
        chosen = negotiate(headers.get("accept"), _one(fields, FORMAT_FIELD))
        note = None
        if chosen["table"] == "text" and name in self.catalog:
            note = queries.empty_meaning(self.catalog[name], values)
        job = {"text": text, "check": False, "formats": chosen, "note": note}
        key = (text, json.dumps([chosen, note]))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        response = self._run(job)
        if response.status == 200:
            self._cache.put(key, response)
        return response

    def _catalog(self, fields: list[tuple[str, str]], headers: dict[str, str]) -> Response:
        """``GET /queries``: the catalog as JSON (``gia-kg queries --format json``) or text."""
        asked = _one(fields, FORMAT_FIELD)
        if asked is not None:
            fmt = formats.canonical(asked) if "/" not in asked else (
                "json" if asked.startswith("application/json") else
                "text" if asked.startswith("text/plain") else None)
            if fmt not in ("json", "text"):
                raise Refused(400 if "/" not in asked else 406,
                              f"format={asked}: the catalog is offered as json or text")
        else:
            ranges = parse_accept(headers.get("accept"))
            json_q = _match("application/json", ranges) if ranges else (1.0, 0, 0)
            text_q = _match("text/plain", ranges) if ranges else None
            if (json_q is None or json_q[0] <= 0) and (text_q is None or text_q[0] <= 0):
                raise Refused(406, "the catalog is offered as application/json or text/plain")
            fmt = "text" if text_q and (json_q is None or text_q > json_q) else "json"
        if fmt == "text":
            return Response(200, TEXT, queries.render_catalog(self.catalog, self.vocab).encode())
        return Response(200, "application/json", queries.catalog_json(self.catalog, self.vocab).encode())

    def _run(self, job: dict) -> Response:
        """A job through a sandboxed worker."""
        job = {**job, "max_rows": self.settings.max_rows}
        try:
            status, kind, body = serve_work.decode(self.pool.run(json.dumps(job).encode()))
        except LimitExceeded as exc:
            return _error(403, str(exc))
        except PoolBusy as exc:
            return _error(503, str(exc), **{"Retry-After": "1"})
        except QueryError as exc:
            return _error(500, str(exc))
        return Response(status, kind, body, {"Vary": "Accept"})


def _warm_up(dataset: object, catalog: dict[str, queries.SavedQuery]) -> None:
    """Read each saved query's vocabulary and run its example once, before the workers fork.

    The workers inherit the warmed process: a first query in a fresh process was measured 2-4x
    slower than the next (at 100x the SoK), and forking after a run halves that.
    """
    import shlex

    from kg.namespaces import SPARQL_PREFIXES

    for name, saved in catalog.items():
        words = shlex.split(saved.example or "")
        pairs = [w for i, w in enumerate(words) if i and words[i - 1] in ("-p", "--param")]
        try:
            text = queries.prepare(name, dict(p.partition("=")[::2] for p in pairs), dataset)
            for _row in dataset.store.query(text, prefixes=SPARQL_PREFIXES):  # type: ignore[attr-defined]
                pass
        except (GiaKgError, SyntaxError, OSError, ValueError):
            continue  # an example that does not fit this data folder: nothing to warm


def _one(fields: list[tuple[str, str]], name: str) -> str | None:
    """The value of a query-string field given at most once (400 when repeated)."""
    values = [v for k, v in fields if k.strip() == name]
    if len(values) > 1:
        raise Refused(400, f"the {name} field is given {len(values)} times; give it once")
    return values[0] if values else None


# ---------------------------------------------------------------- HTTP plumbing


def _server_class(host: str) -> type[ThreadingHTTPServer]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(_Server):
        address_family = family

    return Server


class _Server(ThreadingHTTPServer):
    """Threads per connection, at most MAX_CONNECTIONS at once (the rest get 503 at once)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                message = b"too many connections; try again shortly\n"
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
                                b"charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\n"
                                b"Content-Length: %d\r\n\r\n%s" % (len(message), message))
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, asks the Endpoint, writes the answer (keep-alive, HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    server_version = f"gia-kg/{__version__}"

    def version_string(self) -> str:
        return self.server_version
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):  # headers and body leave at once (no Nagle delay)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def _body(self) -> bytes | Response | None:
        """The request body (bounded), None without one, or the error Response."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return _error(411, "send the body with a Content-Length (no chunked transfer encoding)")
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        if not (length.isascii() and length.isdigit()):
            self.close_connection = True
            return _error(400, f"Content-Length {length!r}: expected a number of bytes")
        if int(length) > MAX_BODY:
            self.close_connection = True
            return _error(413, f"the request body is over the limit of {MAX_BODY} bytes")
        return self.rfile.read(int(length))

    def _handle(self, method: str) -> None:
        endpoint = self.server.endpoint
        self._started = time.monotonic()
        try:
            body = self._body()
            if isinstance(body, Response):
                response = body
            elif method == "POST" and body is None:
                self.close_connection = True
                response = _error(411, "a POST needs a Content-Length")
            else:
                headers = {k.lower(): v for k, v in self.headers.items()}
                response = endpoint.respond("GET" if method == "HEAD" else method, self.path,
                                            headers, body)
        except Exception as exc:  # a bug of ours: one line to the client, the traceback to stderr
            if not endpoint.settings.quiet:
                traceback.print_exc(file=sys.stderr)
            response = _error(500, f"internal error: {type(exc).__name__}: {exc}")
        self._send(response, head=method == "HEAD")

    def _send(self, response: Response, head: bool = False) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for key, value in response.headers.items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.endpoint.settings.quiet:
            return
        elapsed = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        self.log_message('"%s" %s %.1f ms', self.requestline, str(code), elapsed)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.endpoint.settings.quiet:
            return
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


# ---------------------------------------------------------------- page and OpenAPI


def _page(endpoint: Endpoint) -> bytes:
    """The offline query page: a form posting to /sparql, and a form per saved query."""
    esc = html.escape
    page = endpoint.catalog.get(PAGE_QUERY) or next(iter(endpoint.catalog.values()), None)
    example = "\n".join(line for line in (page.text.splitlines() if page else [])
                        if not line.startswith("#+")).strip()
    options = "".join(f'<option value="{f}">{f}</option>'
                      for f in dict.fromkeys((*OFFERED["table"], *OFFERED["graph"])))
    table_options = "".join(f'<option value="{f}">{f}</option>' for f in OFFERED["table"])
    forms = []
    for name, saved in endpoint.catalog.items():
        inputs = []
        for param in saved.params:
            choices = param.choices(endpoint.vocab)
            if choices and not param.labelled(endpoint.vocab):
                opts = "".join(f'<option{" selected" if c == param.default else ""}>{esc(c)}</option>'
                               for c in choices)
                widget = f'<select name="{esc(param.name)}">{opts}</select>'
            else:
                widget = (f'<input name="{esc(param.name)}" value="{esc(param.default or "")}" '
                          f'placeholder="{esc(param.values_text(endpoint.vocab))}">')
            inputs.append(f"<label>{esc(param.name)} {widget}</label>")
        forms.append(
            f'<li><form method="get" action="/queries/{esc(name)}"><b>{esc(name)}</b> '
            f'{" ".join(inputs)} <select name="format">{table_options}</select> '
            f'<button>run</button></form><small>{esc(saved.summary)}</small></li>')
    text = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gia-kg SPARQL endpoint</title>
<style>body{{font:15px/1.4 system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}}
textarea{{width:100%;font:13px monospace}}li{{margin:.4rem 0}}label{{margin-left:.5rem}}
small{{display:block;color:#555}}</style></head><body>
<h1>gia-kg: gradient inversion attacks and defenses</h1>
<p>A read-only SPARQL 1.1 endpoint over {endpoint.triples:,} triples (ontology, SoK data, reasoned
threat-model order). Project prefixes are predeclared. Updates, SERVICE and FROM are refused; each
query may take {endpoint.settings.timeout:g} s and return {endpoint.settings.max_rows:,} rows.</p>
<form method="post" action="/sparql"><textarea name="query" rows="14">{esc(example)}</textarea>
<p>format <select name="format">{options}</select> <button>run query</button></p></form>
<h2>Saved queries</h2><p><a href="/queries">/queries</a> lists them as JSON;
<a href="/openapi.json">/openapi.json</a> describes the API.</p><ul>{"".join(forms)}</ul>
</body></html>
"""
    return text.encode("utf-8")


def openapi(endpoint: Endpoint) -> dict:
    """An OpenAPI 3.0 description of /sparql, /queries and every saved query."""
    table_types = {formats.MEDIA_TYPES[("table", f)]: {} for f in OFFERED["table"]}
    graph_types = {formats.MEDIA_TYPES[("graph", f)]: {} for f in OFFERED["graph"]}
    error = {"content": {"text/plain": {"schema": {"type": "string"}}}}
    fmt_param = {"name": "format", "in": "query", "required": False,
                 "description": "a format name (json, xml, csv, tsv, text, md; ttl, nt, jsonld) or a "
                 "media type; overrides Accept",
                 "schema": {"type": "string"}}
    errors = {"400": {"description": "a malformed query or parameter (one line)", **error},
              "403": {"description": "refused: an update, SERVICE, FROM, or a limit", **error},
              "406": {"description": "no acceptable format", **error}}
    paths: dict[str, dict] = {
        "/sparql": {
            "get": {"summary": "SPARQL 1.1 Protocol query (read-only)",
                    "parameters": [{"name": "query", "in": "query", "required": True,
                                    "schema": {"type": "string"}}, fmt_param],
                    "responses": {"200": {"description": "results or a graph",
                                          "content": {**table_types, **graph_types}}, **errors}},
            "post": {"summary": "SPARQL 1.1 Protocol query by POST (form or query body)",
                     "requestBody": {"content": {
                         "application/x-www-form-urlencoded": {"schema": {
                             "type": "object", "properties": {"query": {"type": "string"}},
                             "required": ["query"]}},
                         "application/sparql-query": {"schema": {"type": "string"}}}},
                     "responses": {"200": {"description": "results or a graph",
                                           "content": {**table_types, **graph_types}}, **errors}},
        },
        "/queries": {"get": {"summary": "the saved queries and their parameters",
                             "responses": {"200": {"description": "the catalog", "content": {
                                 "application/json": {}, "text/plain": {}}}}}},
    }
    for name, saved in endpoint.catalog.items():
        params = []
        for param in saved.params:
            schema: dict = {"type": "integer" if param.type == "integer" else "string"}
            choices = param.choices(endpoint.vocab)
            if choices and not param.labelled(endpoint.vocab):
                schema["enum"] = list(choices)
            if param.default is not None:
                schema["default"] = param.default
            params.append({"name": param.name, "in": "query", "required": param.required,
                           "description": param.describe(endpoint.vocab), "schema": schema})
        paths[f"/queries/{name}"] = {"get": {
            "summary": saved.summary, "description": saved.description,
            "parameters": [*params, fmt_param],
            "responses": {"200": {"description": "the rows (SPARQL results; JSON by default)",
                                  "content": table_types}, **errors}}}
    return {"openapi": "3.0.3",
            "info": {"title": "gia-kg SPARQL endpoint and saved queries", "version": __version__},
            "servers": [{"url": endpoint.url.rstrip("/")}], "paths": paths}


# ---------------------------------------------------------------- the command


def run(kg_dir: str | Path | None, settings: Settings) -> int:
    """``gia-kg serve``: serve until Ctrl-C or SIGTERM; 0 after a clean stop."""
    endpoint = Endpoint(kg_dir, settings)

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        url = endpoint.url
        sys.stderr.write(f"gia-kg: serving {endpoint.triples:,} triples at {url} (SPARQL: {url}sparql, "
                         f"saved queries: {url}queries); Ctrl-C stops\n")
        sys.stderr.flush()
        with contextlib.suppress(KeyboardInterrupt):
            endpoint.serve_forever()
    finally:
        signal.signal(signal.SIGTERM, previous)
        endpoint.close()
    if not settings.quiet:
        sys.stderr.write("gia-kg: stopped\n")
    return 0


__all__ = ["Endpoint", "Response", "Settings", "choose", "negotiate", "openapi",
           "parse_accept", "run"]
