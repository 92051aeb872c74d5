"""Run untrusted work (an ad-hoc query, a reasoner run) in a child process that cannot reach the network.

Why a process and not a check of the query text: a second parser can read a text differently from
the engine that executes it (an escape, a comment), and then the check passes what the engine runs.
Here the engine may decide whatever it likes; the child simply cannot open a connection:

- a seccomp filter makes ``socket()`` fail with ENETUNREACH for every address family, Unix sockets
  included (a local resolver such as nscd or systemd-resolved would otherwise look up names for
  the child), and ``io_uring_setup``, which can create sockets too, with ENOSYS; it is inherited
  by every thread and program the child starts (HermiT's JVM included) and cannot be removed;
- ``RLIMIT_AS`` bounds the child's memory (address space above what it had at fork);
- the parent reads the child's whole answer within the deadline and kills it when time is up, so
  parsing, evaluation and formatting are all bounded, not evaluation alone;
- the child's stderr goes to /dev/null (an allocation failure in Rust prints a panic there).

The answer travels through a pipe as bytes: ``O`` + payload, or ``E`` + error class + NUL + message
(one of kg.errors), or ``M`` (out of memory). Linux on x86_64 or aarch64 only; elsewhere
``unavailable()`` says why, and callers refuse rather than run unsandboxed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import select
import signal
import struct
import sys
import time
from collections.abc import Callable

from kg import errors
from kg.errors import GiaKgError, QueryError

#: errno seen by a sandboxed program that tries to open a network socket.
BLOCKED_ERRNO = errno.ENETUNREACH
#: Oxigraph's rendering of that errno, e.g. in a failed SERVICE call.
BLOCKED_TEXT = f"(os error {BLOCKED_ERRNO})"

def network_was_blocked(message: str) -> bool:
    """Whether an error from sandboxed work is the sandbox refusing a connection or a name lookup.

    Name lookups fail too, since the resolver cannot open a socket (glibc then reports the name as
    unknown, and Rust's ``failed to lookup address information``).
    """
    return BLOCKED_TEXT in message or "failed to lookup address information" in message


# Linux audit architecture and syscall numbers (socket, io_uring_setup) per machine.
_ARCH = {"x86_64": (0xC000003E, 41, 425), "aarch64": (0xC00000B7, 198, 425)}
_X32_BIT = 0x40000000  # x86_64's x32 ABI: same syscalls under other numbers

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_LD_ABS_W = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def unavailable() -> str | None:
    """Why the sandbox cannot run here, or None when it can."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return f"the network sandbox needs Linux (this is {sys.platform})"
    if platform.machine() not in _ARCH:
        return f"the network sandbox supports x86_64 and aarch64 (this is {platform.machine()})"
    return None


def _filter() -> bytes:
    """The BPF program: kill on a foreign ABI, refuse sockets and io_uring, allow the rest."""
    audit_arch, nr_socket, nr_io_uring = _ARCH[platform.machine()]

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    program = [
        op(_LD_ABS_W, 4),                       # seccomp_data.arch
        op(_JEQ_K, audit_arch, 1, 0),
        op(_RET_K, _RET_KILL_PROCESS),
        op(_LD_ABS_W, 0),                       # seccomp_data.nr
        op(_JGE_K, _X32_BIT, 2, 0),             # x32 numbers: refuse like a socket
        op(_JEQ_K, nr_socket, 1, 0),
        op(_JEQ_K, nr_io_uring, 2, 1),
        op(_RET_K, _RET_ERRNO | BLOCKED_ERRNO),
        op(_RET_K, _RET_ALLOW),
        op(_RET_K, _RET_ERRNO | errno.ENOSYS),
    ]
    return b"".join(program)


def forbid_network() -> None:
    """Install the filter in this process (irreversible); raise QueryError if the kernel refuses."""
    why = unavailable()
    if why:
        raise QueryError(why)
    libc = ctypes.CDLL(None, use_errno=True)
    program = ctypes.create_string_buffer(_filter())
    fprog = _SockFprog(len(program.raw) // 8, ctypes.cast(program, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise QueryError(f"cannot install the network sandbox: {os.strerror(ctypes.get_errno())}")


def _address_space() -> int:
    """This process's current virtual size in bytes (the memory limit is added on top of it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _child(work: Callable[[], bytes], write_fd: int, max_memory: int, timeout: float) -> None:
    """Body of the child: sandbox itself, run ``work``, report through ``write_fd``, never return."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 2)
        import faulthandler

        faulthandler.disable()  # pytest's handler writes a crash report to a saved copy of stderr
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        forbid_network()
        limit = _address_space() + max_memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        cpu = int(timeout) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        try:
            message = b"O" + work()
        except GiaKgError as exc:
            message = b"E" + type(exc).__name__.encode() + b"\0" + str(exc).encode("utf-8", "replace")
        except MemoryError:
            message = b"M"
        except BaseException as exc:  # anything unforeseen: one line, not a traceback
            text = f"{type(exc).__name__}: {exc}".splitlines()[0]
            message = b"EGiaKgError\0" + text.encode("utf-8", "replace")
        view = memoryview(message)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def run(
    work: Callable[[], bytes],
    *,
    timeout: float,
    max_memory: int,
    timeout_message: str,
    memory_message: str,
) -> bytes:
    """``work()`` evaluated in a sandboxed child; its bytes, or its error raised here.

    ``timeout`` (seconds) bounds the whole run; ``max_memory`` (bytes) the child's extra address
    space and the size of its answer. The messages say, in the caller's words, which limit was hit.
    """
    why = unavailable()
    if why:
        raise QueryError(why)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        os.close(read_fd)
        _child(work, write_fd, max_memory, timeout)
    os.close(write_fd)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    status = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueryError(timeout_message)
            ready, _, _ = select.select([read_fd], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_memory + 1:
                raise QueryError(memory_message)
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:  # still running (time or size limit, Ctrl-C): stop it
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
    return _decode(b"".join(chunks), status, memory_message)


def _decode(data: bytes, status: int | None, memory_message: str) -> bytes:
    kind, payload = data[:1], data[1:]
    if kind == b"O":
        return payload
    if kind == b"M":
        raise QueryError(memory_message)
    if kind == b"E":
        name, _, text = payload.partition(b"\0")
        cls = getattr(errors, name.decode("ascii", "replace"), GiaKgError)
        if not (isinstance(cls, type) and issubclass(cls, GiaKgError)):
            cls = GiaKgError
        raise cls(text.decode("utf-8", "replace"))
    if status is not None and os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL):
            raise QueryError(memory_message)  # an allocation failure under RLIMIT_AS aborts
        if sig == signal.SIGXCPU:
            raise QueryError("the work used more CPU time than its time limit")
        raise QueryError(f"the sandboxed process was stopped by signal {signal.Signals(sig).name}")
    raise QueryError("the sandboxed process ended without an answer")
