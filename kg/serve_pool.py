"""A pool of pre-forked, sandboxed worker processes for ``gia-kg serve``: one query at a time each.

Why processes: Oxigraph cannot be interrupted from Python, so a query that runs too long can only
be stopped by killing the process that evaluates it (kg.sandbox does this per call by fork; a
server pays that fork per request no more). Why pre-forked: each worker inherits the in-memory
store from the server (copy-on-write), so a fresh one is ready in milliseconds, not the seconds a
reload takes.

Why a zygote: the HTTP server is multi-threaded, and forking a multi-threaded process can leave
the child holding locks that another thread owned. So the pool forks one single-threaded helper
(the zygote) before any thread starts; the zygote forks every worker, hands the server each
worker's two pipe ends over a Unix socket (``SCM_RIGHTS``), kills a worker when asked, and
reports each worker's exit status. A worker:

- installs kg.sandbox's seccomp filter (no socket can be opened: no network, no name lookup) and
  ``RLIMIT_AS`` (its memory beyond what it inherited), with stdin/stdout/stderr on /dev/null;
- reads one job (a length-prefixed frame), arms ``ITIMER_REAL`` with the time limit and the
  default action of SIGALRM (the kernel ends the process, wherever Oxigraph is), runs the job,
  writes the answer frame, disarms the timer;
- exits when the server closes its pipe, and with its parent (``PR_SET_PDEATHSIG``).

The server side also keeps its own deadline (the limit plus a grace second) and asks the zygote
to kill a worker that passes it; a dead worker is replaced at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import resource
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kg import sandbox
from kg.errors import GiaKgError, QueryError

#: A job handler run in the worker: request bytes in, answer bytes out.
Handler = Callable[[bytes], bytes]

_FRAME = struct.Struct(">Q")
_PR_SET_PDEATHSIG = 1
#: Seconds the server waits past the time limit before it kills a worker itself.
GRACE = 1.0
#: Seconds the server waits for the zygote to report a worker's exit status.
STATUS_WAIT = 2.0


class PoolBusy(GiaKgError):
    """No worker became free in time (every worker is busy)."""


class LimitExceeded(QueryError):
    """A job was stopped by a limit (time, memory, answer size); the message says which."""


@dataclass(frozen=True)
class PoolLimits:
    """What one job may use: seconds (parse, evaluate, format), extra memory, answer bytes."""

    timeout: float
    max_memory: int
    max_answer: int
    timeout_message: str
    memory_message: str
    answer_message: str


def _die_with_parent() -> None:
    """Let the kernel kill this process when its parent dies (no orphaned workers)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_FRAME.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes from ``fd``; None on end of file; TimeoutError past ``deadline``."""
    chunks: list[bytes] = []
    left = size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None = None, limit: int | None = None) -> bytes | None:
    """One frame; None on end of file; OverflowError when it announces more than ``limit`` bytes."""
    head = _read_exact(fd, _FRAME.size, deadline)
    if head is None:
        return None
    (size,) = _FRAME.unpack(head)
    if limit is not None and size > limit:
        raise OverflowError(size)
    return _read_exact(fd, size, deadline)


# ---------------------------------------------------------------- worker (in the sandbox)


def _worker_main(req_fd: int, ans_fd: int, handler: Handler, limits: PoolLimits) -> None:
    """Body of one worker: sandbox itself, then answer jobs until the server closes the pipe."""
    code = 0
    try:
        _die_with_parent()
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the time limit ends the process
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        sandbox.forbid_network()
        limit = sandbox._address_space() + limits.max_memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        while True:
            job = _read_frame(req_fd)
            if job is None:
                break
            signal.setitimer(signal.ITIMER_REAL, limits.timeout)
            answer = handler(job)
            _write_frame(ans_fd, answer)
            signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


# ---------------------------------------------------------------- zygote (single-threaded)


def _close_other_fds(keep: set[int]) -> None:
    """Close every inherited descriptor but ``keep`` (the server's listening socket, say)."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _zygote_main(ctl: socket.socket, handler: Handler, limits: PoolLimits) -> None:
    """Fork workers on request (``S``), kill them (``K pid``), report exits (``X pid status``)."""
    code = 0
    try:
        _die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        import faulthandler

        faulthandler.disable()  # pytest's handler writes to a saved copy of stderr
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        _close_other_fds({ctl.fileno(), wake_r, wake_w})
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        children: set[int] = set()
        while True:
            ready, _, _ = select.select([ctl, wake_r], [], [], 1.0)
            if wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(wake_r, 512)
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                children.discard(pid)
                ctl.send(b"X %d %d" % (pid, status))
            if ctl not in ready:
                continue
            message = ctl.recv(64)
            if not message:  # the server is gone: so are its workers
                break
            if message == b"S":
                pid, fds = _spawn(ctl, (wake_r, wake_w), handler, limits)
                children.add(pid)
                socket.send_fds(ctl, [b"W %d" % pid], fds)
                for fd in fds:
                    os.close(fd)
            elif message.startswith(b"K "):
                pid = int(message[2:])
                if pid in children:  # not yet reaped: the pid is still this worker's
                    os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _spawn(ctl: socket.socket, private: tuple[int, int], handler: Handler,
           limits: PoolLimits) -> tuple[int, list[int]]:
    """Fork one worker; its pid and the server's ends of its pipes (request write, answer read)."""
    req_r, req_w = os.pipe()
    ans_r, ans_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the worker never returns
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        ctl.close()
        for fd in (*private, req_w, ans_r):
            os.close(fd)
        _worker_main(req_r, ans_w, handler, limits)
    os.close(req_r)
    os.close(ans_w)
    return pid, [req_w, ans_r]


# ---------------------------------------------------------------- the server's side


class _Worker:
    """The server's handle on one worker: its pid and pipe ends."""

    def __init__(self, pid: int, req_fd: int, ans_fd: int) -> None:
        self.pid = pid
        self.req_fd = req_fd
        self.ans_fd = ans_fd

    def close(self) -> None:
        for fd in (self.req_fd, self.ans_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class WorkerPool:
    """``size`` sandboxed workers that answer jobs with ``handler`` (see the module docstring).

    Create it before starting any thread: the zygote is forked from the calling thread.
    """

    def __init__(self, handler: Handler, size: int, limits: PoolLimits) -> None:
        why = sandbox.unavailable()
        if why:
            raise QueryError(why)
        self.limits = limits
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._statuses: dict[int, int] = {}
        self._status_changed = threading.Condition()
        self._send_lock = threading.Lock()
        self._closed = False
        self._broken = False
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the zygote never returns
            parent.close()
            _zygote_main(child, handler, limits)
        child.close()
        self._zygote = pid
        self._ctl = parent
        self._reader = threading.Thread(target=self._read_zygote, name="gia-kg-zygote", daemon=True)
        self._reader.start()
        for _ in range(size):
            self._send(b"S")

    # -- talking to the zygote

    def _send(self, message: bytes) -> None:
        with self._send_lock:
            if self._closed:
                return
            try:
                self._ctl.send(message)
            except OSError:
                self._broken = True

    def _read_zygote(self) -> None:
        """Receive new workers' pipes and workers' exit statuses until the zygote closes."""
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self._ctl, 64, 2)
            except OSError:
                message, fds = b"", []
            if not message:
                break
            kind, *numbers = message.split()
            if kind == b"W" and len(fds) == 2:
                worker = _Worker(int(numbers[0]), fds[0], fds[1])
                if self._closed:
                    worker.close()
                else:
                    self._idle.put(worker)
            elif kind == b"X":
                with self._status_changed:
                    self._statuses[int(numbers[0])] = int(numbers[1])
                    self._status_changed.notify_all()
        self._broken = True
        with self._status_changed:
            self._status_changed.notify_all()

    def _exit_status(self, pid: int) -> int | None:
        """A worker's exit status as the zygote reported it (waits briefly), or None."""
        deadline = time.monotonic() + STATUS_WAIT
        with self._status_changed:
            while pid not in self._statuses and not self._broken:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._status_changed.wait(left)
            return self._statuses.pop(pid, None)

    def _replace(self, worker: _Worker, kill: bool, status: bool = False) -> int | None:
        """Retire a worker (killed first if ``kill``) and start another; with ``status``, wait
        for the old one's exit status and return it."""
        if kill:
            self._send(b"K %d" % worker.pid)
        worker.close()
        self._send(b"S")
        return self._exit_status(worker.pid) if status else None

    # -- running jobs

    def _take(self, wait: float | None) -> _Worker:
        if self._closed or self._broken:
            raise QueryError("the query workers have stopped; restart gia-kg serve")
        try:
            return self._idle.get(timeout=self.limits.timeout + GRACE if wait is None else wait)
        except queue.Empty:
            raise PoolBusy("every query worker is busy; try again shortly") from None

    def run(self, job: bytes, wait: float | None = None) -> bytes:
        """The answer of one job; LimitExceeded (time, memory, size), PoolBusy or QueryError."""
        limits = self.limits
        worker = self._take(wait)
        try:
            _write_frame(worker.req_fd, job)
        except OSError:  # it died while idle (killed from outside): once more, on a fresh one
            self._replace(worker, kill=True)
            worker = self._take(wait)
            try:
                _write_frame(worker.req_fd, job)
            except OSError:
                self._replace(worker, kill=True)
                raise QueryError("the query workers keep dying; see the server's log") from None
        deadline = time.monotonic() + limits.timeout + GRACE
        try:
            answer = _read_frame(worker.ans_fd, deadline, limits.max_answer)
        except TimeoutError:
            self._replace(worker, kill=True)
            raise LimitExceeded(limits.timeout_message) from None
        except OverflowError:
            self._replace(worker, kill=True)
            raise LimitExceeded(limits.answer_message) from None
        except BaseException:
            self._replace(worker, kill=True)
            raise
        if answer is None:  # it died working: its exit status says why
            raise self._death(self._replace(worker, kill=True, status=True))
        self._idle.put(worker)
        return answer

    def _death(self, status: int | None) -> QueryError:
        """Why a worker ended without an answer, from its exit status."""
        limits = self.limits
        if status is not None and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGALRM:
                return LimitExceeded(limits.timeout_message)
            if sig in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL):
                return LimitExceeded(limits.memory_message)  # an allocation failure aborts
            return QueryError(f"the query worker was stopped by signal {signal.Signals(sig).name}")
        return QueryError("the query worker ended without an answer")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until every worker has started (QueryError if they do not within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self._idle.qsize() < self.size:
            if self._broken or time.monotonic() > deadline:
                raise QueryError("the query workers did not start")
            time.sleep(0.005)

    @property
    def zygote_pid(self) -> int:
        """The zygote's pid (the workers are its children): for tests and diagnostics."""
        return self._zygote

    def close(self) -> None:
        """Stop the zygote and every worker; idempotent."""
        with self._send_lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(OSError):
                self._ctl.shutdown(socket.SHUT_RDWR)
        self._reader.join(timeout=5)
        with contextlib.suppress(OSError):
            self._ctl.close()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self._zygote, 0)
