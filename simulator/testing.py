"""A throw-away Mosquitto broker for tests and the benchmark.

:class:`MosquittoBroker` writes a minimal configuration into a temporary
directory, starts ``mosquitto`` on a free loopback port and stops it again::

    with MosquittoBroker() as broker:
        ...  # broker.host, broker.port

The configuration lifts Mosquitto's per-client queue limit
(``max_queued_messages 0``): by default a subscriber that falls more than
1,000 QoS 1 messages behind loses the rest.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["MosquittoBroker", "find_mosquitto", "free_port"]

_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary: ``$MOSQUITTO``, ``PATH``, then the sbin dirs."""
    explicit = os.environ.get("MOSQUITTO")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    return shutil.which("mosquitto", path=search)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MosquittoBroker:
    """A mosquitto process on a free 127.0.0.1 port, for the life of a ``with``."""

    def __init__(self, binary: str | None = None, extra_config: str = "") -> None:
        found = binary or find_mosquitto()
        if found is None:
            raise FileNotFoundError("mosquitto not found (install the Debian package)")
        self.binary = found
        self.extra_config = extra_config
        self.host = "127.0.0.1"
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """The broker's log file."""
        assert self._dir is not None
        return Path(self._dir.name) / "mosquitto.log"

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        """Start the broker and wait until it accepts connections."""
        self._dir = tempfile.TemporaryDirectory(prefix="cmms-mosquitto-")
        for _attempt in range(5):
            self.port = free_port()
            conf = Path(self._dir.name) / "mosquitto.conf"
            conf.write_text(
                f"listener {self.port} {self.host}\n"
                "allow_anonymous true\n"
                "persistence false\n"
                "max_queued_messages 0\n"
                "max_inflight_messages 0\n"
                "set_tcp_nodelay true\n"
                f"log_dest file {self.log_path}\n"
                "log_type error\nlog_type warning\nlog_type notice\n"
                f"{self.extra_config}\n",
                encoding="utf-8",
            )
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready(timeout_s):
                return self
            self.stop()
        raise RuntimeError(f"mosquitto did not start; see {self.log_path}")

    def _wait_ready(self, timeout_s: float) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        """Stop the broker process (it keeps its log until the directory goes)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop the broker and remove its directory."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> MosquittoBroker:
        """Start the broker."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the broker and clean up."""
        self.close()
