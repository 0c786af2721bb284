"""Real `newsvault worker` / `newsvault beat` / `redis-server` processes for tests.

Each runs in its own process group with its log in a file, so a test can wait for it to be
ready, read what it did, SIGKILL it (or one of its pool children) and always clean up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

NEWSVAULT = str(Path(sys.executable).with_name("newsvault"))


class NotReady(AssertionError):
    """A process did not become ready (or a condition did not hold) in time."""


def wait_for(
    predicate: Callable[[], object], timeout: float, *, interval: float = 0.2, what: str = ""
) -> object:
    """Poll ``predicate`` until it returns something truthy; raise NotReady after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise NotReady(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    children: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def pool_children(self) -> list[int]:
        """PIDs of this process's direct children (a worker's prefork pool)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group (Celery's warm shutdown), SIGKILL it if it lingers."""
        if not self.alive():
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        self._reap_group()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def _reap_group(self) -> None:
        # Stragglers of the group (pool children, crawler processes) must not outlive a test.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


def _spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Proc(name, process, log_path)


def start_worker(
    env: dict[str, str],
    log_dir: Path,
    *,
    queues: str,
    name: str,
    concurrency: int = 1,
    extra_env: dict[str, str] | None = None,
    timeout: float = 40,
) -> Proc:
    """`newsvault worker`, returned once Celery logs that it is ready."""
    command = [
        NEWSVAULT,
        "worker",
        "--queues",
        queues,
        "--concurrency",
        str(concurrency),
        "--name",
        name,
        "--loglevel",
        "INFO",
    ]
    proc = _spawn(name, command, {**env, **(extra_env or {})}, log_dir)
    try:
        wait_for(lambda: "ready." in proc.log() or not proc.alive(), timeout, what=f"{name}")
    except NotReady:
        proc.kill()
        raise
    if not proc.alive():
        raise NotReady(f"{name} exited: {proc.log()[-2000:]}")
    return proc


def start_beat(
    env: dict[str, str], log_dir: Path, *, name: str = "beat", timeout: float = 30
) -> Proc:
    """`newsvault beat`, returned once it holds RedBeat's lock."""
    proc = _spawn(name, [NEWSVAULT, "beat", "--loglevel", "INFO"], env, log_dir)
    try:
        wait_for(
            lambda: "Acquired lock" in proc.log() or not proc.alive(), timeout, what="beat lock"
        )
    except NotReady:
        proc.kill()
        raise
    if not proc.alive():
        raise NotReady(f"beat exited: {proc.log()[-2000:]}")
    return proc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(port: int, log_dir: Path) -> Proc:
    """A private redis-server without persistence (a restart loses everything, on purpose)."""
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(log_dir),
    ]
    proc = _spawn(f"redis-{port}", command, dict(os.environ), log_dir)

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for(answers, 10, what=f"redis on {port}")
    return proc


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSVAULT, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
