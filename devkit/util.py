"""Free ports, waiting for a condition with a deadline, stopping processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now.

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    cond: Callable[[], T],
    timeout: float = 10.0,
    what: str | Callable[[], str] = "the condition",
    step: float = 0.1,
) -> T:
    """Poll *cond* until it returns something true; return that value.

    Raises :class:`TimeoutError` naming *what* (a text, or a function that
    describes the state at the time of failure) once *timeout* seconds pass.
    Tests wait for what they need this way instead of sleeping a fixed time.

    >>> wait_until(lambda: 42, 1, "the answer")
    42
    >>> wait_until(lambda: 0, 0.1, "nothing")
    Traceback (most recent call last):
    ...
    TimeoutError: timed out after 0.1s waiting for nothing
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise TimeoutError(f"timed out after {timeout}s waiting for {described}")
        time.sleep(step)


def wait_progress(
    count: Callable[[], T], target: T, idle: float = 30.0, timeout: float = 600.0
) -> bool:
    """Poll *count* until it equals *target*; give up only when it has not
    moved for *idle* seconds (or after *timeout*): a slow machine is slow,
    a stuck one is stuck. Returns whether the target was reached (*count*
    may return any comparable progress, a number or a tuple of numbers).

    >>> wait_progress(iter(range(10)).__next__, 5)
    True
    """
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = count()
        if now == target:
            return True
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > idle:
            break
        time.sleep(0.05)
    return count() == target


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on *host*:*port*."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until something listens on 127.0.0.1:*port* (*proc* must not exit first)."""

    def listening() -> bool:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        return port_open(port)

    wait_until(listening, timeout, f"a listener on 127.0.0.1:{port}")


def stop_process(proc: subprocess.Popen | None, timeout: float = 20.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left.

    The process must have been started with ``start_new_session=True``.
    """
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
