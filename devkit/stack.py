"""Throw-away services for the tests, the benchmarks and the run command.

PostgreSQL (a private cluster in a temporary folder), Mosquitto (the
project's broker configuration on a free loopback port, :mod:`devkit.broker`)
and Odoo 18 (the machine's installation, with our addons), each started on
free loopback ports and stopped again. Used by ``scripts/test``,
``scripts/up``, ``scripts/bench`` and the tests of every part.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    import threading

from . import ROOT
from .broker import Mosquitto
from .util import free_port, stop_process, wait_port, wait_until

__all__ = [
    "ROOT",
    "Mosquitto",
    "Odoo",
    "Postgres",
    "free_port",
    "stop_process",
    "wait_port",
    "wait_until",
]

ADDONS = ROOT / "addons"
OUR_ADDONS = ("cmms_parfum", "cmms_telemetry", "cmms_ar_bridge")


def child_pids(parent: int | None = None) -> list[int]:
    """The live direct children of *parent* (default: this process), from /proc."""
    parent = os.getpid() if parent is None else parent
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            # fields[0] is the state, fields[1] the parent pid.
            if int(fields[1]) == parent and fields[0] != "Z":
                found.append(int(stat.split("/")[2]))
    return found


def stop_children(timeout: float = 20.0) -> None:
    """SIGTERM the process group of every child still running, then SIGKILL.

    The safety net of ``scripts/up``: every service runs in its own session
    (its pid is its group), so this reaches a child whose ``Popen`` was
    interrupted before the caller got hold of it, and its own children.
    """
    pids = child_pids()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                done = os.waitpid(pid, os.WNOHANG)[0]
            except ChildProcessError:  # reaped by its Popen already
                done = True
            if done:
                pids.remove(pid)
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


class WebsocketRouter:
    """A small TCP proxy in front of a multi-process Odoo.

    With ``--workers N`` Odoo serves HTTP from its prefork workers and
    ``/websocket`` (the bus: live dashboards, chatter) only on its evented
    gevent port. In production a reverse proxy (nginx, see Odoo's deployment
    documentation) routes by path; for the local run this routes each
    connection by the path of its first request. Browsers open a connection
    of its own for a WebSocket, so no keep-alive connection carries both.
    """

    def __init__(self, port: int, http_port: int, gevent_port: int):
        self.port = port
        self.http_port = http_port
        self.gevent_port = gevent_port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebsocketRouter:
        import asyncio
        import threading

        ready = threading.Event()
        failure: list[BaseException] = []

        async def pipe(reader, writer):
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()

        async def handle(client_r, client_w):
            try:
                head = await client_r.readuntil(b"\r\n")
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                client_w.close()
                return
            parts = head.split(b" ")
            path = parts[1] if len(parts) > 1 else b"/"
            port = self.gevent_port if path.startswith(b"/websocket") else self.http_port
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                client_w.close()
                return
            up_w.write(head)
            await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

        async def serve():
            try:
                server = await asyncio.start_server(handle, "127.0.0.1", self.port)
            except OSError as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            async with server:
                await server.serve_forever()

        def run():
            self._loop = asyncio.new_event_loop()
            with contextlib.suppress(RuntimeError, asyncio.CancelledError):
                self._loop.run_until_complete(serve())

        self._thread = threading.Thread(target=run, name="websocket-router", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        import asyncio

        def cancel_all():
            for task in asyncio.all_tasks():
                task.cancel()

        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(cancel_all)
            self._thread.join(5)
            self._loop = None


def _pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries not found (Debian package postgresql)")


class Postgres:
    """A private PostgreSQL cluster in a temporary folder.

    PostgreSQL refuses to run as root, so when we are root the cluster
    belongs to the ``postgres`` system user; Odoo, which refuses the
    ``postgres`` role, connects as a superuser role named ``odoo``.
    """

    #: Set by the tests' fixture: the data dir of the template database's Odoo.
    template_data: Path

    def __init__(self, base: Path, durable: bool = False):
        self.base = base
        #: Keep fsync and synchronous commit on (scripts/up, benchmarks); tests run without.
        self.durable = durable
        self.port = free_port()
        self.host = str(base / "pg-socket")
        self.datadir = base / "pg-data"
        self.user = "odoo"
        self.bindir = _pg_bindir()
        self._runas: list[str] = []
        if os.geteuid() == 0:
            self._runas = ["runuser", "-u", "postgres", "--"]

    def _run(self, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self._runas, *cmd], check=True, **kw)

    def start(self) -> Postgres:
        self.base.mkdir(parents=True, exist_ok=True)
        Path(self.host).mkdir(exist_ok=True)
        if self._runas:
            uid = pwd.getpwnam("postgres").pw_uid
            for path in (self.base, Path(self.host)):
                os.chown(path, uid, -1)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.datadir), "-A", "trust",
            "-U", "postgres", "-E", "UTF8", "--locale=C",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        opts = f"-p {self.port} -k {self.host} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", opts,
            "-l", str(self.base / "pg.log"), "-w", "start",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.psql(f"CREATE ROLE {self.user} LOGIN SUPERUSER", user="postgres")
        return self

    def psql(self, sql: str, db: str = "postgres", user: str | None = None) -> str:
        out = subprocess.run(
            [str(self.bindir / "psql"), "-h", self.host, "-p", str(self.port),
             "-U", user or self.user, "-d", db, "-XAtqc", sql],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout.strip()

    def copy_db(self, template: str, name: str) -> None:
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def stop(self) -> None:
        if self.datadir.exists():
            subprocess.run(
                [*self._runas, str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                 "-m", "fast", "-w", "stop"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip


def odoo_root() -> Path | None:
    """The source root of the Odoo 18 importable in this Python, if any."""
    env_root = os.environ.get("ODOO_ROOT")
    if env_root and (Path(env_root) / "odoo-bin").exists():
        return Path(env_root)
    try:
        import odoo.release as release
    except ImportError:
        return None
    if tuple(release.version_info[:2]) != (18, 0):
        return None
    return Path(release.__file__).resolve().parent.parent


def addons_path(root: Path) -> str:
    paths = [str(ADDONS), str(root / "addons"), str(root / "odoo" / "addons")]
    # OCA wheels install into <site-packages>/odoo/addons.
    import sysconfig

    for key in ("purelib", "platlib"):
        oca = Path(sysconfig.get_paths()[key]) / "odoo" / "addons"
        if oca.is_dir() and str(oca) not in paths:
            paths.append(str(oca))
    return ",".join(paths)


class Odoo:
    """Commands against the machine's Odoo 18 with our addons."""

    def __init__(self, pg: Postgres, base: Path, root: Path | None = None):
        self.pg = pg
        self.base = base
        found = root or odoo_root()
        if found is None:
            raise RuntimeError("no Odoo 18 is importable")
        self.root = found
        self.data_dir = base / "odoo-data"
        self.http_port = free_port()
        #: Odoo's evented port (``/websocket``, the bus); with workers > 0
        #: only this port serves it, so a proxy routes it there.
        self.gevent_port = free_port()
        self.proc: subprocess.Popen | None = None

    def command(self, *args: str, subcommand: str | None = None) -> list[str]:
        return [
            sys.executable, str(self.root / "odoo-bin"),
            *([subcommand] if subcommand else []),
            "--db_host", self.pg.host, "--db_port", str(self.pg.port),
            "--db_user", self.pg.user, "--data-dir", str(self.data_dir),
            "--addons-path", addons_path(self.root),
            "--no-database-list", "--max-cron-threads", "0",
            *args,
        ]  # fmt: skip

    def run(self, args: Iterable[str], logfile: Path, timeout: float = 3600) -> int:
        args = list(args)
        if "--http-port" not in args:
            # Tests serve HTTP (tours): not on 8069, which another run may hold.
            args += ["--http-port", str(free_port())]
        with open(logfile, "w") as log:
            proc = subprocess.Popen(
                self.command(*args), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                stop_process(proc)
                return -1
            except BaseException:
                # Interrupted (Ctrl-C, SIGTERM in scripts/up): take it down too.
                stop_process(proc)
                raise

    def serve(self, db: str, logfile: Path, *extra: str) -> subprocess.Popen:
        self._served = (db, logfile, extra)
        log = open(logfile, "a")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            self.command(
                "-d", db, "--db-filter", f"^{re.escape(db)}$",
                "--http-interface", "127.0.0.1", "--http-port", str(self.http_port),
                "--gevent-port", str(self.gevent_port), *extra,
            ),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.wait_http(120)
        if "--workers" in extra and extra[list(extra).index("--workers") + 1] != "0":
            # The prefork master starts the gevent server (the bus) on its
            # own, after the HTTP workers: ready means both.
            wait_port(self.gevent_port, 120, self.proc)
        return self.proc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def wait_http(self, timeout: float) -> None:
        def healthy() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/web/health", timeout=2) as r,
            ):
                return r.status == 200
            return False

        wait_until(healthy, timeout, "Odoo to answer /web/health", step=0.3)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def serve_again(self) -> subprocess.Popen:
        """Serve the database of the last :meth:`serve` again, on the same HTTP port."""
        db, logfile, extra = self._served
        return self.serve(db, logfile, *extra)

    def restart(self, pause_s: float = 0.0) -> subprocess.Popen:
        """Stop the server and serve the same database again on the same HTTP port."""
        self.stop()
        time.sleep(pause_s)
        return self.serve_again()


# Lines of the platform itself that are not about our code, with why.
IGNORED_LOG_LINES = [
    # Debian's wkhtmltopdf is not installed; only PDF rendering needs it.
    r"You need Wkhtmltopdf to print a pdf version of the reports",
]
LOG_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) "
    r"(?P<logger>\S+): (?P<msg>.*)$"
)


def check_log(path: Path, extra_ignores: Iterable[str] = ()) -> tuple[list[str], dict]:
    """Odoo log lines above INFO, as OCA's checklog-odoo judges them.

    Returns the offending lines and a summary (tests run, failed, errors).
    """
    ignores = [re.compile(p) for p in [*IGNORED_LOG_LINES, *extra_ignores]]
    bad: list[str] = []
    summary: dict[str, Any] = {"tests": 0, "failed": 0, "errors": 0, "records": 0, "skipped": []}
    for line in path.read_text(errors="replace").splitlines():
        match = LOG_RECORD.match(line)
        if not match:
            continue
        summary["records"] += 1
        msg = match["msg"]
        if msg.startswith("skipped "):
            # A skipped tour or test is not a passed one (Chromium missing...).
            summary["skipped"].append(line)
        ran = re.search(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", msg)
        if ran:
            summary["failed"] += int(ran[1])
            summary["errors"] += int(ran[2])
            summary["tests"] += int(ran[3])
        if match["level"] in ("WARNING", "ERROR", "CRITICAL") and not any(
            p.search(msg) for p in ignores
        ):
            bad.append(line)
    return bad, summary


@contextlib.contextmanager
def services(
    keep: bool = False, mqtt: bool = True
) -> Iterator[tuple[Path, Postgres, Mosquitto | None]]:
    base = Path(tempfile.mkdtemp(prefix="cmms-"))
    os.chmod(base, 0o755)
    pg = Postgres(base / "pg")
    broker = Mosquitto(base / "mqtt") if mqtt else None
    try:
        pg.start()
        if broker:
            broker.start()
        yield base, pg, broker
    finally:
        if broker:
            broker.stop()
        pg.stop()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


API_KEY_SCRIPT = """
user = env.ref({xmlid!r})
key = env["res.users.apikeys"].with_user(user).sudo()._generate(None, {name!r}, None)
env.cr.commit()
print("CMMS_API_KEY=" + key)
"""


def make_api_key(odoo: Odoo, db: str, xmlid: str, name: str = "connector") -> str:
    """A persistent API key for the user ``xmlid``, made with ``odoo-bin shell``."""
    out = subprocess.run(
        odoo.command("-d", db, "--no-http", "--log-level=warn", subcommand="shell"),
        input=API_KEY_SCRIPT.format(xmlid=xmlid, name=name),
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith("CMMS_API_KEY="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError(f"no API key made for {xmlid}: {out.stderr[-2000:]}")
