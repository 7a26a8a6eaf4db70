"""The project's broker configuration, made local for a test or benchmark.

``deploy/mosquitto/mosquitto.conf`` holds the settings the "no reading
lost" promise needs (persistence, unlimited queues). Tests, the benchmark
and the machine-local run command start Mosquitto with exactly that file,
with only the listener, the persistence folder and the log moved.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

SHIPPED_CONF = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "mosquitto.conf"


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
