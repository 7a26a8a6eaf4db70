"""Mosquitto with the project's broker configuration, on a free loopback port.

``deploy/mosquitto/mosquitto.conf`` holds the settings the "no reading
lost" promise needs (persistence, unlimited queues). The tests of every
part, the benchmarks and the machine-local run command start Mosquitto
through :class:`Mosquitto`, with exactly that file, only the listener, the
persistence folder and the log moved::

    with Mosquitto() as broker:    # a temporary folder of its own
        ...                        # broker.host, broker.port
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from .util import free_port, stop_process, wait_port

SHIPPED_CONF = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "mosquitto.conf"


def find_mosquitto() -> str | None:
    """The broker binary: ``$MOSQUITTO``, ``PATH``, then the sbin folders."""
    explicit = os.environ.get("MOSQUITTO")
    if explicit:
        return explicit
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("mosquitto", path=search)


def local_config(
    port: int,
    data_dir: Path,
    log_file: Path,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """The shipped configuration listening on 127.0.0.1:*port*.

    Its ``listener`` and ``persistence_location`` lines are replaced (each
    must be there once), ``log_dest`` and ``user`` lines dropped, and a log
    file added; *overrides* replace the value of other settings.
    """
    text = SHIPPED_CONF.read_text(encoding="utf-8")
    values = {
        "listener": f"{port} 127.0.0.1",
        "persistence_location": f"{data_dir}/",
        **(overrides or {}),
    }
    replaced = dict.fromkeys(values, 0)

    def line(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in ("log_dest", "user"):
            return ""
        replaced[key] += 1
        return f"{key} {values[key]}"

    keys = "|".join(re.escape(k) for k in [*values, "log_dest", "user"])
    text = re.sub(rf"^({keys})\b.*$", line, text, flags=re.MULTILINE)
    missing = [key for key in ("listener", "persistence_location") if replaced[key] != 1]
    if missing:
        raise ValueError(f"{SHIPPED_CONF}: expected one {', '.join(missing)} line")
    text += f"\nlog_dest file {log_file}\n"
    if os.geteuid() == 0:  # otherwise mosquitto switches to the user "mosquitto"
        text += f"user {getpass.getuser()}\n"
    return text


class Mosquitto:
    """Mosquitto with the shipped configuration on a free 127.0.0.1 port.

    Parameters
    ----------
    base : Path, optional
        Folder for the configuration, persistence and log; a temporary one
        (removed by :meth:`close`) when not given.
    port : int, optional
        Listener port (default: a free one).
    overrides : mapping, optional
        Other settings of the shipped file replaced (benchmark experiments).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        base: Path | None = None,
        port: int | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if base is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cmms-mosquitto-")
            base = Path(self._tmp.name)
        self.base = base
        self.port = port or free_port()
        self.overrides = dict(overrides or {})
        self.data_dir = base / "mqtt-data"
        self.log_path = base / "mosquitto.log"
        self.conf = base / "mosquitto.conf"
        self.proc: subprocess.Popen[bytes] | None = None
        binary = find_mosquitto()
        if binary is None:
            raise FileNotFoundError(
                "mosquitto not found (apt-get install mosquitto, or set MOSQUITTO)"
            )
        self.binary = binary

    def config_text(self) -> str:
        """The shipped configuration, with listener and storage made local."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return local_config(self.port, self.data_dir, self.log_path, self.overrides)

    def start(self, timeout: float = 15.0) -> Mosquitto:
        """Start the broker and wait until it accepts connections."""
        self.base.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.config_text(), encoding="utf-8")
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_port(self.port, timeout, self.proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"mosquitto did not start: {exc}\n{self.log()}") from exc
        return self

    def stop(self) -> None:
        """Stop cleanly (SIGTERM: the broker saves its persistence file)."""
        stop_process(self.proc)
        self.proc = None

    def restart(self, pause_s: float = 0.0) -> Mosquitto:
        """Stop the broker and start it again on the same port and data folder.

        SIGTERM makes Mosquitto write its persistence file on the way out,
        so persistent sessions and their queued QoS 1 messages survive.
        """
        self.stop()
        time.sleep(pause_s)
        return self.start()

    def log(self) -> str:
        """The broker's log so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the broker and remove its temporary folder, if it made one."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
