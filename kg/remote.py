"""``--endpoint URL``: the graph on a remote SPARQL 1.1 endpoint instead of the local store.

``RemoteDataset`` has kg.engine.Dataset's interface (``select``, ``ask``, ``run``), so the saved
queries, ``assess``, ``audit``, ``tables`` and ``order`` run unchanged against any engine that holds
the exported graph (``gia-kg export --inferred``): their texts stand on their own (parameters
written in by kg.queries.prepare, an explicit ORDER BY), and the answers go through the same
``kg.engine.table_of`` as local ones (``ref`` lists normalised, ORDER BY detected the same way).

The SPARQL 1.1 Protocol as every engine speaks it: ``POST`` of ``query=`` as
``application/x-www-form-urlencoded``, SPARQL JSON (or XML) results for SELECT/ASK, N-Triples (or
Turtle) for CONSTRUCT/DESCRIBE. The project prefixes are declared in front of the text, on its
first line (so the endpoint's error positions keep their line numbers), for the ones the text uses
without declaring them. Nothing else of the text is touched: the endpoint parses and runs it.

What the client allows itself: http and https URLs only, no proxy, no cookies, no credentials;
redirects are followed (re-posting the query) only to the same scheme, host and port, at most
MAX_REDIRECTS times; one deadline bounds the whole exchange (connect, wait, read), and the answer's
size is bounded. Every failure is one line naming the endpoint (exit 2).
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import SplitResult, urlencode, urljoin, urlsplit

import pyoxigraph as ox

from kg import __version__
from kg.engine import _NOT_CODE, ResultTable, has_order_by, table_of, too_many_rows
from kg.errors import InputError, QueryError, UsageError
from kg.formats import MEDIA_TYPES
from kg.namespaces import SPARQL_PREFIXES

#: Seconds one exchange with the endpoint may take (connect, evaluation, transfer): --endpoint-timeout.
DEFAULT_TIMEOUT = 30.0
#: Bytes an answer may have (it is held in memory, then parsed).
DEFAULT_MAX_BYTES = 256 << 20
MAX_REDIRECTS = 5
#: Characters of an error body quoted in a message.
QUOTE_CHARS = 200
_CHUNK = 1 << 16
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

#: Media type → parser of SELECT/ASK results, and of CONSTRUCT/DESCRIBE graphs.
RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    MEDIA_TYPES["table", "json"]: ox.QueryResultsFormat.JSON,
    MEDIA_TYPES["table", "xml"]: ox.QueryResultsFormat.XML,
}
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    MEDIA_TYPES["graph", "nt"]: ox.RdfFormat.N_TRIPLES,
    MEDIA_TYPES["graph", "ttl"]: ox.RdfFormat.TURTLE,
}
ACCEPT_RESULTS = f"{MEDIA_TYPES['table', 'json']}, {MEDIA_TYPES['table', 'xml']};q=0.9"
ACCEPT_ANY = f"{ACCEPT_RESULTS}, {MEDIA_TYPES['graph', 'nt']};q=0.8, {MEDIA_TYPES['graph', 'ttl']};q=0.7"

_PREFIX_DECL = re.compile(r"\bPREFIX\s+([A-Za-z][\w\-.]*)?:", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")


def check_url(url: str) -> SplitResult:
    """The parts of an endpoint URL; anything but an http(s) URL with a host is a UsageError."""
    example = "e.g. http://127.0.0.1:7878/query"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"--endpoint {url!r}: not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint {url!r}: expected the http:// or https:// URL of a SPARQL "
                         f"query service; {example}")
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"--endpoint {url!r}: credentials in the URL are not supported")
    if port == 0:
        raise UsageError(f"--endpoint {url!r}: port 0 is not a port to connect to")
    return parts


def with_prefixes(text: str) -> str:
    """``text`` with the project prefixes it uses but does not declare declared before its line 1.

    Oxigraph's ``prefixes=`` does the same for the local store; the declarations go on the first
    line so that the line numbers of the endpoint's messages are those of the text.
    """
    code = _NOT_CODE.sub(" ", text)
    declared = {m.group(1) or "" for m in _PREFIX_DECL.finditer(code)}
    needed = [
        name for name in SPARQL_PREFIXES
        if name not in declared and re.search(rf"(?<![\w\-.:]){re.escape(name)}:", code)
    ]
    return "".join(f"PREFIX {n}: <{SPARQL_PREFIXES[n]}> " for n in needed) + text


def _origin(parts: SplitResult) -> tuple[str, str | None, int]:
    """Scheme, host and port (the default one if implicit): what a redirect may not change."""
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _media_type(value: str | None) -> str:
    """``Application/JSON; charset=utf-8`` → ``application/json``."""
    return (value or "").split(";")[0].strip().lower()


def _quote(body: bytes, media_type: str) -> str:
    """The first line of an error body (its text if HTML), shortened: what the endpoint said."""
    text = body.decode("utf-8", "replace")
    if "html" in media_type or text.lstrip().startswith("<"):
        text = _TAGS.sub("\n", text)
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= QUOTE_CHARS else line[:QUOTE_CHARS - 3] + "..."


@dataclass
class Answer:
    """What the endpoint sent back: its media type (no parameters) and body."""

    media_type: str
    body: bytes


@dataclass
class RemoteDataset:
    """The graph behind a SPARQL 1.1 query service, with kg.engine.Dataset's query interface."""

    url: str
    #: Seconds for one exchange (connect, evaluate, transfer).
    timeout: float = DEFAULT_TIMEOUT
    #: Largest answer accepted, in bytes.
    max_bytes: int = DEFAULT_MAX_BYTES
    #: The options that raise the two limits, named in the messages.
    timeout_option: str = "--endpoint-timeout"
    size_option: str | None = None
    #: Per-dataset memo of derived answers (parameter vocabularies), as on kg.engine.Dataset.
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
    #: No local files: the endpoint holds the graph.
    files: list[Path] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._parts = check_url(self.url)
        if not (0 < self.timeout < float("inf")):
            raise UsageError(f"{self.timeout_option} {self.timeout:g}: expected a number of seconds > 0")
        if self.max_bytes <= 0:
            raise UsageError(f"the answer size limit {self.max_bytes}: expected a number of bytes > 0")

    def with_limits(self, *, timeout: float, max_bytes: int, timeout_option: str,
                    size_option: str | None) -> RemoteDataset:
        """The same endpoint under other limits (``sparql`` has its own --timeout, --max-memory)."""
        return replace(self, timeout=timeout, max_bytes=max_bytes, timeout_option=timeout_option,
                       size_option=size_option, memo=self.memo)

    def __len__(self) -> int:
        table = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return int(table.rows[0][0].value) if table.rows and table.rows[0][0] is not None else 0

    # ------------------------------------------------------------ the Dataset interface

    def select(self, query: str, bindings: dict | None = None, *, timeout: float | None = None,
               max_rows: int | None = None) -> ResultTable:
        """Run a SELECT at the endpoint (parameters must already be written into the text)."""
        result = self.run(query, bindings, timeout=timeout, max_rows=max_rows, accept=ACCEPT_RESULTS)
        if not isinstance(result, ResultTable):
            raise QueryError("expected a SELECT query")
        return result

    def ask(self, query: str, bindings: dict | None = None, *, timeout: float | None = None) -> bool:
        """Run an ASK at the endpoint."""
        result = self.run(query, bindings, timeout=timeout, accept=ACCEPT_RESULTS)
        if not isinstance(result, bool):
            raise QueryError("expected an ASK query")
        return result

    def run(
        self,
        query: str,
        bindings: dict | None = None,
        *,
        timeout: float | None = None,
        max_rows: int | None = None,
        accept: str = ACCEPT_ANY,
    ) -> ResultTable | bool | list[ox.Triple]:
        """Any query form: a ResultTable (SELECT), a bool (ASK), sorted triples (CONSTRUCT/DESCRIBE).

        More than ``max_rows`` rows or triples is a QueryError, as for the local ``sparql``.
        """
        if bindings:
            raise QueryError("a remote endpoint runs query text only: write the parameters into "
                             "the text (kg.queries.prepare) instead of passing bindings")
        answer = self.post(with_prefixes(query), accept, self.timeout if timeout is None else timeout)
        if answer.media_type in RESULT_TYPES:
            return self._results(answer, query, max_rows)
        if answer.media_type in GRAPH_TYPES:
            return self._triples(answer, max_rows)
        raise QueryError(f"{self._where()}: the answer is {answer.media_type or 'of no media type'}, "
                         "not SPARQL results or RDF (is this the URL of the endpoint's SPARQL query "
                         "service? Oxigraph's is at /query)")

    # ------------------------------------------------------------ parsing

    def _where(self) -> str:
        """What every message starts with: the endpoint it is about."""
        return f"--endpoint {self.url}"

    def _invalid(self, answer: Answer, exc: Exception) -> QueryError:
        message = " ".join(str(exc.args[0] if exc.args else exc).split())[:QUOTE_CHARS]
        return QueryError(f"{self._where()}: the answer is not valid {answer.media_type}: {message}")

    def _results(self, answer: Answer, query: str, max_rows: int | None) -> ResultTable | bool:
        try:
            parsed = ox.parse_query_results(answer.body, format=RESULT_TYPES[answer.media_type])
            if isinstance(parsed, ox.QueryBoolean):
                return bool(parsed)
            return table_of(parsed, has_order_by(query), limit=max_rows)
        except (SyntaxError, ValueError, OSError) as exc:
            raise self._invalid(answer, exc) from None

    def _triples(self, answer: Answer, max_rows: int | None) -> list[ox.Triple]:
        triples: list[ox.Triple] = []
        try:
            for quad in ox.parse(answer.body, format=GRAPH_TYPES[answer.media_type]):
                if max_rows is not None and len(triples) >= max_rows:
                    raise too_many_rows(max_rows)
                triples.append(quad.triple)
        except (SyntaxError, ValueError, OSError) as exc:
            raise self._invalid(answer, exc) from None
        return sorted(triples, key=str)

    # ------------------------------------------------------------ HTTP

    def post(self, text: str, accept: str, timeout: float) -> Answer:
        """POST ``query=text``; the answer of status 200, following same-origin redirects only."""
        deadline = time.monotonic() + timeout
        body = urlencode({"query": text}).encode("ascii")
        url, parts = self.url, self._parts
        for _ in range(MAX_REDIRECTS + 1):
            status, reason, headers, data = self._exchange(parts, body, accept, deadline, timeout)
            media = _media_type(headers.get("content-type"))
            if status in _REDIRECTS and headers.get("location"):
                target = urljoin(url, headers["location"])
                moved = urlsplit(target)
                try:
                    same = _origin(moved) == _origin(parts)
                except ValueError:
                    same = False
                if not same:
                    raise QueryError(f"{self._where()}: redirected to {target}, another host, scheme "
                                     "or port: not followed (give that URL as --endpoint if you "
                                     "trust it)")
                url, parts = target, moved
                continue
            if status != 200:
                said = _quote(data, media)
                raise QueryError(f"{self._where()}: HTTP {status} {reason}".rstrip()
                                 + (f": {said}" if said else ""))
            return Answer(media, data)
        raise QueryError(f"{self._where()}: more than {MAX_REDIRECTS} redirects")

    def _exchange(
        self, parts: SplitResult, body: bytes, accept: str, deadline: float, timeout: float
    ) -> tuple[int, str, dict[str, str], bytes]:
        """One request and its whole answer within ``deadline``; network failures as one line."""
        host, port = parts.hostname or "", parts.port
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": accept,
            "User-Agent": f"gia-kg/{__version__}",
            "Connection": "close",
        }

        def left() -> float:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            return remaining

        conn: http.client.HTTPConnection | None = None
        try:
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=left(),
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(host, port, timeout=left())
            conn.request("POST", path, body=body, headers=headers)
            conn.sock.settimeout(left())
            response = conn.getresponse()
            answer = {k.lower(): v for k, v in response.getheaders()}
            limit = self.max_bytes if response.status == 200 else _CHUNK
            chunks: list[bytes] = []
            size = 0
            while True:
                if conn.sock is not None:
                    conn.sock.settimeout(left())
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    if response.status != 200:
                        break  # an error body: its beginning is enough
                    raise self._oversized()
                chunks.append(chunk)
            left()
            return response.status, response.reason, answer, b"".join(chunks)
        except TimeoutError:
            raise QueryError(f"{self._where()}: no complete answer within {timeout:g} seconds "
                             f"(raise {self.timeout_option}, or make the query more selective)") from None
        except socket.gaierror:
            raise InputError(f"{self._where()}: cannot resolve the host name {host!r}") from None
        except ConnectionRefusedError:
            raise InputError(f"{self._where()}: connection refused (is a SPARQL server "
                             f"listening on {host}:{parts.port or parts.scheme}?)") from None
        except ssl.SSLError as exc:
            raise InputError(f"{self._where()}: TLS failed: {exc}".splitlines()[0]) from None
        except (http.client.HTTPException, ConnectionError) as exc:
            what = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
            raise QueryError(f"{self._where()}: no valid HTTP answer ({what})".splitlines()[0]) from None
        except OSError as exc:
            raise InputError(f"{self._where()}: cannot connect: {exc.strerror or exc}") from None
        finally:
            if conn is not None:
                conn.close()

    def _oversized(self) -> QueryError:
        hint = f" (raise {self.size_option}, or add LIMIT)" if self.size_option else " (add LIMIT)"
        return QueryError(f"{self._where()}: the answer is over the limit of "
                          f"{_size_text(self.max_bytes)}{hint}")


def _size_text(n: int) -> str:
    """A byte limit as the option gives it (MB), or in bytes."""
    return f"{n >> 20} MB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n} bytes"
