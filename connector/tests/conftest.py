"""Shared fixtures: free ports, a real Mosquitto broker, a fake Odoo server,
a real PostgreSQL for the store.

The broker (:class:`devkit.broker.Mosquitto`) runs the configuration the
project ships (``deploy/mosquitto/mosquitto.conf``) with only the listener,
the persistence location and the log destination replaced, so the tests
check the real queue settings. Set ``MOSQUITTO`` to the binary's path if it is not
on ``PATH`` (Debian installs it in ``/usr/sbin``). Without a binary the
broker tests are skipped, unless ``CMMS_REQUIRE_MOSQUITTO=1`` makes that a
failure (CI sets it).

PostgreSQL: one private cluster per session (:class:`devkit.stack.Postgres`:
``initdb`` in a temporary folder, a free loopback port), a
fresh database per test (``pg_url``). Without the server binaries (Debian
package ``postgresql``) or psycopg2 the PostgreSQL tests are skipped, unless
``CMMS_REQUIRE_POSTGRES=1`` makes that a failure. ``store_target`` runs a
test once on a SQLite file and once on PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devkit import stack
from devkit.broker import Mosquitto, find_mosquitto


def _no_postgres(reason: str) -> None:
    if os.environ.get("CMMS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} and CMMS_REQUIRE_POSTGRES=1")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A private PostgreSQL cluster (``stack.Postgres``) for the session."""
    try:
        stack._pg_bindir()
    except RuntimeError:
        _no_postgres("PostgreSQL server binaries not found (Debian package postgresql)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _no_postgres("psycopg2 not installed (connector/requirements-postgres.txt)")
    base = Path(tempfile.mkdtemp(prefix="cmms-connector-pg-"))
    base.chmod(0o755)  # the cluster belongs to the postgres user when we are root
    pg = stack.Postgres(base / "cluster")
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


_databases = itertools.count()


def new_database(pg: Any, password: str = "") -> str:
    """Create an empty database; return its URL (with *password*, never checked)."""
    import psycopg2

    name = f"store_{os.getpid()}_{next(_databases)}"
    admin = psycopg2.connect(host="127.0.0.1", port=pg.port, user=pg.user, dbname="postgres")
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    auth = f"{pg.user}:{password}" if password else pg.user
    return f"postgresql://{auth}@127.0.0.1:{pg.port}/{name}"


@pytest.fixture
def pg_url(pg_cluster: Any) -> str:
    """URL of a fresh, empty PostgreSQL database."""
    return new_database(pg_cluster)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store's ``path``: a SQLite file, then a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "s.sqlite3")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running Mosquitto with the shipped configuration (function scope)."""
    binary = find_mosquitto()
    if binary is None:
        if os.environ.get("CMMS_REQUIRE_MOSQUITTO") == "1":
            pytest.fail("mosquitto binary not found and CMMS_REQUIRE_MOSQUITTO=1")
        pytest.skip("mosquitto binary not found (set MOSQUITTO=/path/to/mosquitto)")
    with Mosquitto(tmp_path / "broker") as broker:
        yield broker


#: Time of the first reading :class:`Publisher` sends (2026-11-22T08:00:00Z).
T0 = 1795334400.0


class Publisher:
    """A plant-side publisher that counts acknowledgements, not calls."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(100)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.acked = 0

    def readings(
        self, start: int, stop: int, tag: str = "PT-101", value: Any = None, pace_s: float = 0.0
    ) -> None:
        infos = []
        for i in range(start, stop):
            if pace_s:
                time.sleep(pace_s)
            payload = json.dumps(
                {"ts": T0 + i, "value": 6.0 if value is None else value(i), "unit": "bar", "seq": i}
            )
            infos.append(self.client.publish(f"cmms/plant1/{tag}/reading", payload, qos=1))
            if len(infos) >= 200:  # bound what is outstanding
                self._wait(infos)
        self._wait(infos)

    def _wait(self, infos: list[mqtt.MQTTMessageInfo]) -> None:
        for info in infos:
            info.wait_for_publish(10)
            assert info.is_published()
            self.acked += 1
        infos.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    pub = Publisher(mosquitto.port)
    try:
        yield pub
    finally:
        pub.close()


# -- a fake Odoo JSON-RPC endpoint (unit tests of the client and pusher) -----

SENSOR_PT101: dict[str, Any] = {
    "tag": "PT-101",
    "equipment_id": 7,
    "equipment": "PT-101 Discharge pressure",
    "unit": "bar",
    "nominal": 6.0,
    "signal_low": 0.0,
    "signal_high": 16.0,
    "low_critical": 2.0,
    "low_warning": 3.0,
    "high_warning": 9.0,
    "high_critical": 10.0,
    "deadband": 0.2,
    "on_delay_s": 0.0,
    "interval_s": 1.0,
    "roc_limit": 0.0,
    "stuck_deadband": 0.0,
    "stuck_window_s": 900.0,
    "cusum_k": 0.5,
    "cusum_h": 5.0,
}


def make_config(version: str = "v1", *sensors: dict[str, Any]) -> dict[str, Any]:
    """A ``get_connector_config`` reply (PT-101 by default)."""
    return {"version": version, "sensors": list(sensors or [SENSOR_PT101]), "health_thresholds": {}}


class FakeOdoo:
    """Imitates Odoo's ``/jsonrpc`` for ``cmms.telemetry.api`` (tests only).

    Attributes
    ----------
    accepted : dict
        Items accepted, by key (each key at most once, like Odoo).
    calls : list
        ``(service, method, model_method, n_items)`` of every request.
    down : int
        Answer this many next requests with HTTP 503.
    lose_replies : int
        Process this many next ingest calls, then drop the reply (HTTP 502),
        like a proxy timing out after Odoo committed.
    error_keys : set
        An ingest batch holding one of these keys fails with a server error.
    error_all : bool
        Every ingest call fails with a server error.
    access_error : bool
        Every ingest call fails with an AccessError.
    """

    API_KEY = "secret-key"

    def __init__(self) -> None:
        self.accepted: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str, int]] = []
        self.config = make_config()
        self.down = 0
        self.lose_replies = 0
        self.error_keys: set[str] = set()
        self.error_all = False
        self.access_error = False
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                req = json.loads(self.rfile.read(length))
                status, body = fake.handle(req)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @staticmethod
    def _error(rid: Any, name: str, message: str) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": rid,
            "error": {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {"name": name, "message": message, "debug": "Traceback ..."},
            },
        }

    def handle(self, req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        rid = req.get("id")
        params = req["params"]
        service, method, args = params["service"], params["method"], params["args"]
        if method == "execute_kw" and args[4] == "claim_jobs":
            # The job runner's poll: no jobs here (connector/tests/test_jobs.py
            # tests the runner); not counted, so it takes no planned failure.
            return 200, {"jsonrpc": "2.0", "id": rid, "result": []}
        with self.lock:
            n = len(args[5][0]) if method == "execute_kw" and args[4] == "ingest" else 0
            self.calls.append((service, method, args[4] if method == "execute_kw" else "", n))
            if self.down > 0:
                self.down -= 1
                return 503, {"error": "service unavailable"}
            if service == "common" and method == "authenticate":
                ok = args[2] == self.API_KEY
                return 200, {"jsonrpc": "2.0", "id": rid, "result": 2 if ok else False}
            if args[2] != self.API_KEY:
                return 200, self._error(rid, "odoo.exceptions.AccessDenied", "Access Denied")
            model, model_method = args[3], args[4]
            assert model == "cmms.telemetry.api"
            if model_method == "get_connector_config":
                return 200, {"jsonrpc": "2.0", "id": rid, "result": self.config}
            assert model_method == "ingest"
            items = args[5][0]
            if self.access_error:
                return 200, self._error(
                    rid, "odoo.exceptions.AccessError", "not a telemetry connector"
                )
            if self.error_all or any(i["key"] in self.error_keys for i in items):
                return 200, self._error(rid, "builtins.KeyError", "'boom'")
            results = []
            for item in items:
                if item["key"] in self.accepted:
                    results.append({"key": item["key"], "status": "duplicate"})
                elif item["data"].get("reject"):
                    results.append(
                        {"key": item["key"], "status": "rejected", "reason": "unknown tag"}
                    )
                else:
                    self.accepted[item["key"]] = item
                    results.append({"key": item["key"], "status": "accepted"})
            if self.lose_replies > 0:
                self.lose_replies -= 1
                return 502, {"error": "bad gateway"}
            return 200, {"jsonrpc": "2.0", "id": rid, "result": {"results": results}}

    def ingest_calls(self) -> list[int]:
        """Sizes of the ingest batches received so far."""
        with self.lock:
            return [n for _, _, m, n in self.calls if m == "ingest"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_odoo() -> Iterator[FakeOdoo]:
    """A running :class:`FakeOdoo`."""
    fake = FakeOdoo()
    try:
        yield fake
    finally:
        fake.close()
