"""``./scripts/up`` as a user runs it, stopped as a user stops it.

Twice the whole system, both started at once (PostgreSQL, Mosquitto, Odoo with demo data, the
connector and the simulator):

- piped through ``tee`` and stopped with Ctrl-C, that is SIGINT to the whole
  process group: ``tee`` dies at once, and the clean-up still runs to its end
  although every later write to stdout fails with EPIPE;
- with ``--workers 2`` (Odoo's prefork server, its bus on the gevent port
  behind the run's proxy; a supervisor's dashboard channel gets the live
  updates over ``/websocket``), stopped with SIGTERM to ``scripts/up`` alone.

Each time every process the run started, found by its process tree and by
the run's folder in its command line or environment (PostgreSQL detaches
from its parent), must be gone within a deadline.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from devkit import stack
from devkit.util import wait_until

ROOT = Path(__file__).resolve().parent.parent
UP = ROOT / "scripts" / "up"

READY_S = 600  # install with demo data on a busy 2-core machine
STOP_S = 90


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a process, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), fields[19]


def _mentions(pid: int, marker: bytes) -> bool:
    for name in ("cmdline", "environ"):
        with contextlib.suppress(OSError):
            if marker in Path(f"/proc/{pid}/{name}").read_bytes():
                return True
    return False


def started_processes(root_pid: int, folder: str) -> dict[int, str]:
    """pid -> start time of the run's processes: the tree under *root_pid*
    and under every process that names the run's folder."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            stats[int(entry.name)] = stat
    marker = folder.encode()
    todo = [root_pid, *(pid for pid in stats if pid != os.getpid() and _mentions(pid, marker))]
    found: dict[int, str] = {}
    while todo:
        pid = todo.pop()
        if pid in found or pid not in stats or stats[pid][0] == "Z":
            continue
        found[pid] = stats[pid][2]
        todo.extend(child for child, stat in stats.items() if stat[1] == pid)
    return found


def left_over(processes: dict[int, str]) -> list[str]:
    alive = []
    for pid, start in processes.items():
        stat = _stat(pid)
        if stat and stat[2] == start and stat[0] != "Z":
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                alive.append(f"{pid}: {cmd.decode(errors='replace')[:200]}")
    return alive


def up_env() -> dict:
    # The run's folder stays in the system's temporary folder: PostgreSQL runs
    # as the postgres user when the tests run as root, and pytest's folders
    # are private to the test's user.
    env = dict(os.environ)
    if sys.prefix != sys.base_prefix:
        env["CMMS_VENV"] = sys.prefix  # the venv this test runs in
    return env


def wait_up(log: Path, proc: subprocess.Popen) -> dict:
    def ready():
        assert proc.poll() is None, f"scripts/up exited early:\n{log.read_text()[-3000:]}"
        text = log.read_text() if log.exists() else ""
        return "CMMS is up." in text and text

    text = wait_until(ready, READY_S, "CMMS is up", step=1)

    def found(pattern: str) -> re.Match[str]:
        match = re.search(pattern, text)
        assert match, f"{pattern!r} not in the output of scripts/up"
        return match

    info = {
        "folder": found(r"state and logs in (\S+)")[1],
        "url": found(r"URL:\s+(http://\S+?)/odoo")[1],
    }
    pg = found(r"PostgreSQL on (\S+):(\d+),")
    info["pg_host"], info["pg_port"] = pg[1], pg[2]
    return info


def check_stopped(proc: subprocess.Popen, processes: dict[int, str], folder: str) -> None:
    try:
        proc.wait(STOP_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/up still runs {STOP_S}s after the signal")
    wait_until(
        lambda: not left_over(processes),
        30,
        lambda: "the run's processes to end; left behind:\n" + "\n".join(left_over(processes)),
        step=0.5,
    )
    assert not Path(folder).exists(), "the clean-up ran to its end (the run's folder is gone)"


def stop_after_failure(proc: subprocess.Popen, processes: dict[int, str]) -> None:
    """After a failure: let scripts/up clean up, then leave nothing running."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_S)
    for pid, start in processes.items():
        stat = _stat(pid)
        if stat and stat[2] == start:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both runs of this module, started at once: their Odoo installs (the
    bulk of the time) share the machine's cores instead of queueing."""
    base = tmp_path_factory.mktemp("up")
    started = {}
    tee_log = base / "tee-up.log"
    started["tee"] = (
        subprocess.Popen(
            ["bash", "-c", 'set -o pipefail; "$0" "$@" | tee "$UP_LOG"', str(UP),
             "--http-port", str(stack.free_port()), "--mqtt-port", str(stack.free_port())],
            env={**up_env(), "UP_LOG": str(tee_log)},
            stdout=subprocess.DEVNULL, stderr=open(base / "tee-stderr.log", "w"),  # noqa: SIM115
            start_new_session=True,  # a process group of its own, like a terminal's job
        ),
        tee_log,
    )  # fmt: skip
    workers_log = base / "workers-up.log"
    with open(workers_log, "w") as out:
        started["workers"] = (
            subprocess.Popen(
                [str(UP), "--workers", "2",
                 "--http-port", str(stack.free_port()), "--mqtt-port", str(stack.free_port())],
                env=up_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            ),
            workers_log,
        )  # fmt: skip
    yield started
    for proc, _log in started.values():
        stop_after_failure(proc, {})


def test_up_piped_through_tee_stops_everything_on_ctrl_c(runs, tmp_path):
    proc, log = runs["tee"]
    processes: dict[int, str] = {}
    try:
        info = wait_up(log, proc)
        processes = started_processes(proc.pid, info["folder"])
        commands = " ".join(
            Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            for pid in processes
            if Path(f"/proc/{pid}/cmdline").exists()
        )
        for what in ("postgres", "mosquitto", "odoo-bin", "connector", "simulator", "tee"):
            assert what in commands, f"no {what} among the run's processes"
        # A real run: PostgreSQL keeps its durable defaults.
        pg = stack.Postgres(tmp_path / "unused")
        pg.host, pg.port = info["pg_host"], int(info["pg_port"])
        settings = pg.psql(
            "SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM pg_settings "
            "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')"
        )
        assert settings == "fsync=on,full_page_writes=on,synchronous_commit=on", settings

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole job, tee included
        check_stopped(proc, processes, info["folder"])
    finally:
        stop_after_failure(proc, processes)


def _login(url: str, login: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    params = {"db": "cmms_demo", "login": login, "password": password}
    body = json.dumps({"jsonrpc": "2.0", "params": params})
    request = urllib.request.Request(
        f"{url}/web/session/authenticate", body.encode(), {"Content-Type": "application/json"}
    )
    with opener.open(request, timeout=60) as response:
        reply = json.loads(response.read())
    assert reply.get("result", {}).get("uid"), reply
    session = next(c.value for c in jar if c.name == "session_id")
    assert session, "no session cookie"
    return session


def test_up_with_workers_serves_the_bus_and_stops_everything_on_sigterm(runs):
    import websocket

    proc, log = runs["workers"]
    processes: dict[int, str] = {}
    try:
        info = wait_up(log, proc)
        processes = started_processes(proc.pid, info["folder"])
        odoo = [
            pid
            for pid in processes
            if b"odoo-bin" in Path(f"/proc/{pid}/cmdline").read_bytes()
            and b" shell" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        # The master, 2 HTTP workers, the cron worker and the gevent server.
        assert len(odoo) >= 4, f"Odoo runs multi-process: {len(odoo)} odoo-bin processes"

        url = info["url"]
        session = _login(url, "sup_adi", "123")
        ws = websocket.create_connection(
            url.replace("http://", "ws://") + "/websocket",
            cookie=f"session_id={session}",
            origin=url,
            timeout=10,
        )
        try:
            ws.send(
                json.dumps(
                    {
                        "event_name": "subscribe",
                        "data": {"channels": ["cmms_telemetry.dashboard"], "last": 0},
                    }
                )
            )

            def dashboard_update():
                with contextlib.suppress(websocket.WebSocketTimeoutException):
                    for note in json.loads(ws.recv()):
                        if note["message"]["type"] == "cmms_telemetry/update":
                            return note["message"]["payload"]
                return None

            # The simulator's readings, pushed by the connector, reach the
            # dashboard channel through the gevent server and the proxy.
            payload = wait_until(dashboard_update, 300, "a dashboard update over the bus", step=0)
            assert payload["sensor_ids"] or payload["equipment_ids"], payload
        finally:
            ws.close()

        proc.send_signal(signal.SIGTERM)  # scripts/up alone, as a service manager does
        check_stopped(proc, processes, info["folder"])
        assert "[cmms] stopped." in log.read_text()
    finally:
        stop_after_failure(proc, processes)
