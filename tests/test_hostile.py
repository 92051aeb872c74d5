"""The hostile-input suite: every ``tests/hostile/*/*.case`` is refused cleanly (see its README)."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import threading
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kg import cli

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "hostile").glob("*/*.case"))
SOK_COPY = ROOT / "tests" / "fixtures" / "sok" / "sok_gias_fl-README-2025-07-15.md"


@dataclass
class Case:
    """One parsed case file."""

    argv: str
    exit: int
    stderr: str | None = None
    payload_path: str = "{tmp}/payload"
    escapes: bool = False
    setup: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    stdout: str | None = None
    subprocess: bool = False
    stdin: str = "closed"
    stdout_fd: str | None = None
    timeout: float = 30.0
    payload: str = ""


def parse_case(path: Path) -> Case:
    head, sep, payload = path.read_text(encoding="utf-8").partition("\n---\n")
    assert sep, f"{path}: no '---' line before the payload"
    values: dict[str, object] = {"setup": [], "unchanged": [], "env": []}
    for line in head.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        assert colon, f"{path}: expected 'key: value', got {line!r}"
        key, value = key.strip(), value.strip()
        if key in ("setup", "unchanged", "env"):
            values[key].append(value)  # type: ignore[union-attr]
        elif key == "exit":
            values["exit"] = int(value)
        elif key == "timeout":
            values["timeout"] = float(value)
        elif key in ("payload-escapes", "subprocess"):
            values["escapes" if key == "payload-escapes" else "subprocess"] = value == "yes"
        elif key == "payload":
            values["payload_path"] = value
        elif key == "stdout-fd":
            values["stdout_fd"] = value
        elif key in ("argv", "stderr", "stdout", "stdin"):
            values[key] = value
        else:
            raise AssertionError(f"{path}: unknown key {key!r}")
    values["payload"] = payload
    return Case(**values)  # type: ignore[arg-type]


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections (every case expects none)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _digest(path: Path) -> dict[str, str]:
    if path.is_file():
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink()
    }


def _env_of(case: Case, names: dict[str, str]) -> dict[str, str]:
    """The case's ``env: NAME=VALUE`` lines, placeholders filled."""
    pairs = [_fill(line, names).partition("=") for line in case.env]
    assert all(sep for _, sep, _ in pairs), case.env
    return {name: value for name, _, value in pairs}


def _run_in_process(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(argv)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return code, out.getvalue(), err.getvalue()


def _run_subprocess(case: Case, argv: list[str], payload: Path, extra: dict[str, str]) -> tuple[int, str, str]:
    env = {**os.environ, **extra, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "kg", *argv]
    stdin = open(payload, "rb") if case.stdin == "payload" else subprocess.DEVNULL  # noqa: SIM115
    read_fd = write_fd = None
    try:
        if case.stdin == "closed":
            cmd = ["sh", "-c", 'exec "$@" <&-', "sh", *cmd]
            stdin = None
        if case.stdout_fd == "closed":
            cmd = ["sh", "-c", 'exec "$@" >&-', "sh", *cmd]
            proc = subprocess.run(cmd, stdin=stdin, stderr=subprocess.PIPE, env=env, timeout=case.timeout)
            return proc.returncode, "", proc.stderr.decode("utf-8", "replace")
        if case.stdout_fd == "pipe-closed":
            read_fd, write_fd = os.pipe()
            os.close(read_fd)
            proc = subprocess.run(cmd, stdin=stdin, stdout=write_fd, stderr=subprocess.PIPE, env=env,
                                  timeout=case.timeout)
            return proc.returncode, "", proc.stderr.decode("utf-8", "replace")
        proc = subprocess.run(cmd, stdin=stdin, capture_output=True, env=env, timeout=case.timeout)
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    finally:
        if write_fd is not None:
            os.close(write_fd)
        if hasattr(stdin, "close"):
            stdin.close()  # type: ignore[union-attr]


def _fill(text: str, names: dict[str, str]) -> str:
    """Replace ``{tmp}``, ``{kg}``, ... (plain replacement: payloads and queries contain braces)."""
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def _setup(step: str) -> None:
    kind, _, rest = step.partition(" ")
    if kind == "fifo":
        os.mkfifo(rest)
    elif kind == "symlink":
        link, target = rest.split(" ", 1)
        Path(link).unlink(missing_ok=True)
        os.symlink(target, link)
    elif kind == "mkdir":
        Path(rest).mkdir(parents=True, exist_ok=True)
    elif kind == "chardev":  # a copy of a device node, e.g. /dev/full is `chardev PATH 1 7`
        name, major, minor = rest.split(" ")
        if os.geteuid() != 0:
            pytest.skip("setup step 'chardev' needs root (mknod)")
        os.mknod(name, stat.S_IFCHR | 0o666, os.makedev(int(major), int(minor)))
    elif kind == "socket":  # a Unix socket file nobody listens on
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(rest)
    elif kind in ("write", "append"):
        name, text = rest.split(" ", 1)
        data = codecs.escape_decode(text.encode("utf-8"))[0]  # \xNN is that byte, \n a newline
        with open(name, "ab" if kind == "append" else "wb") as handle:
            handle.write(data)
    else:
        raise AssertionError(f"unknown setup step {step!r}")


def test_suite_is_not_empty() -> None:
    classes = {p.parent.name for p in CASES}
    assert len(CASES) >= 20 and len(classes) >= 5, (len(CASES), classes)


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_hostile_case(path: Path, tmp_path: Path) -> None:
    case = parse_case(path)
    listener = Listener()
    try:
        kg_copy = tmp_path / "kg"
        shutil.copytree(ROOT / "kg" / "data", kg_copy, ignore=shutil.ignore_patterns(".*"))
        names = {"tmp": str(tmp_path), "kg": str(kg_copy), "port": str(listener.port),
                 "sok": str(SOK_COPY)}
        payload = Path(_fill(case.payload_path, names))
        names["payload"] = str(payload)
        body = _fill(case.payload, names)
        data = body.encode("utf-8")
        if case.escapes:
            data = codecs.escape_decode(body.encode("utf-8"))[0]
        payload.parent.mkdir(parents=True, exist_ok=True)
        payload.write_bytes(data)
        for step in case.setup:
            _setup(_fill(step, names))
        watched = {p: _digest(Path(_fill(p, names))) for p in case.unchanged}
        argv = shlex.split(_fill(case.argv, names))
        env = _env_of(case, names)
        if case.subprocess:
            code, out, err = _run_subprocess(case, argv, payload, env)
        else:
            code, out, err = _run_in_process(argv, env)
    finally:
        listener.close()
    assert "Traceback" not in err and "Traceback" not in out, err
    assert code == case.exit, (code, err)
    if case.exit != 0:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("gia-kg: error: "), err
    if case.stderr == "none":
        assert err == ""
    elif case.stderr is not None:
        assert case.stderr in err, err
    if case.stdout == "empty":
        assert out == ""
    elif case.stdout is not None:
        assert case.stdout in out, out
    assert listener.connections == 0, f"the listener on port {listener.port} was contacted"
    for spec, before in watched.items():
        assert _digest(Path(_fill(spec, names))) == before, f"{spec} changed"
