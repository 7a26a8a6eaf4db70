"""What a new user sees: the demo scenario of ``scripts/up``, and no false
data gap at a high ``--rate``, on real services.

The demo runs as ``scripts/up`` runs it (rate 1, readings stamped now): the
FLEXO history is backfilled at once, then within two minutes PT-101 goes out
of its signal range, the connector raises an alert and Odoo's alert policy
opens a work order assigned to the demo technician, tech_budi.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from devkit.util import wait_until

ROOT = Path(__file__).resolve().parent.parent


def outbox(store: Path, kind: str) -> list[dict]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT data FROM outbox WHERE type = ?", (kind,)).fetchall()
    return [json.loads(row[0]) for row in rows]


class Stack:
    """The connector and the simulator against one Odoo and one broker."""

    def __init__(self, server, broker, tmp_path: Path, name: str):
        self.server = server
        self.tmp = tmp_path
        self.store = tmp_path / "connector.sqlite3"
        self.env = {
            **os.environ,
            "CMMS_MQTT_HOST": "127.0.0.1",
            "CMMS_MQTT_PORT": str(broker.port),
            "CMMS_MQTT_CLIENT_ID": f"e2e-{name}",
            "CMMS_ODOO_URL": server.url,
            "CMMS_ODOO_DB": server.db,
            "CMMS_ODOO_LOGIN": "cmms_connector",
            "CMMS_ODOO_API_KEY": server.api_key,
            "CMMS_STORE": str(self.store),
            "CMMS_CONNECTOR_ID": name,
            "CMMS_PUSH_BATCH_AGE_S": "0.5",
            "CMMS_HEARTBEAT_S": "2",
            "CMMS_FLEXO_MACHINE_TAGS": "FLEXO_104=FLX-104",
        }
        self.port = broker.port
        self.procs: list[subprocess.Popen] = []
        self.logs: list = []

    def _spawn(self, name: str, args: list[str], env=None) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115
        self.logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def start_connector(self) -> None:
        self._spawn("connector", ["connector", "run"], self.env)
        name = self.env["CMMS_CONNECTOR_ID"]
        wait_until(
            lambda: self.server.admin("cmms.connector", "search", [("name", "=", name)]),
            90, "the connector's first heartbeat",
        )  # fmt: skip

    def start_simulator(self, *args: str) -> subprocess.Popen:
        return self._spawn(
            "simulator",
            ["simulator", "run", *args, "--host", "127.0.0.1", "--port", str(self.port)],
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for log in self.logs:
            log.close()


def test_demo_scenario_opens_a_work_order_for_tech_budi_within_two_minutes(
    odoo_server, broker, tmp_path
):
    server = odoo_server
    stack = Stack(server, broker, tmp_path, "demo")
    try:
        stack.start_connector()
        started = time.monotonic()
        live_from = time.time()
        stack.start_simulator("--scenario", "demo", "--rate", "1")
        pt101 = server.admin("maintenance.equipment", "search", [("cmms_tag", "=", "PT-101")])

        def alert_with_work_order():
            found = server.admin(
                "cmms.alert", "search_read",
                [("equipment_id", "in", pt101), ("request_id", "!=", False)],
                ["alert_type", "severity", "request_id"],
            )  # fmt: skip
            return found

        [alert] = wait_until(alert_with_work_order, 150, "the PT-101 alert and its work order")
        elapsed = time.monotonic() - started
        assert elapsed < 120, f"the demo's work order took {elapsed:.0f} s"
        assert alert["alert_type"] == "instrument_fault"
        request_id = alert["request_id"][0]
        [request] = server.admin("maintenance.request", "read", [request_id], ["user_id"])
        budi = server.admin("res.users", "search", [("login", "=", "tech_budi")])
        assert request["user_id"] and request["user_id"][0] == budi[0]
        # In tech_budi's task list, read with his own rights (the AR feed).
        tasks = server.call("tech_budi", "123", "cmms.ar.api", "my_tasks")
        assert request_id in [t["id"] for t in tasks]

        # The trend's per-minute aggregates hold live readings, stamped now.
        def live_minutes():
            rows = server.admin(
                "cmms.reading", "search_read", [("sensor_id.equipment_id", "in", pt101)],
                ["period_start"], limit=1,
            )  # fmt: skip
            return [
                r for r in rows
                if abs(datetime.fromisoformat(r["period_start"]).replace(tzinfo=UTC).timestamp()
                       - live_from) < 600
            ]  # fmt: skip

        wait_until(live_minutes, 90, "PT-101's live readings in Odoo")
        # The FLEXO line's backfilled history: health snapshots and a closed
        # shift's OEE record in Odoo (the running shift's is provisional).
        wait_until(
            lambda: server.admin("cmms.oee.record", "search_count", [("is_running", "=", False)]),
            60, "an OEE record of the FLEXO line",
        )  # fmt: skip
        assert server.admin("cmms.health.snapshot", "search_count", [])
        # Nothing else went wrong: no false data gap.
        raised = outbox(stack.store, "alert_raised")
        assert [i["tag"] for i in raised if i["alert_type"] == "data_gap"] == []
    finally:
        stack.stop()


def test_a_high_rate_raises_no_false_data_gap_but_a_real_stop_does(odoo_server, broker, tmp_path):
    server = odoo_server
    stack = Stack(server, broker, tmp_path, "rate")
    try:
        stack.start_connector()
        # Ten simulated minutes at 20x (30 s): LT-401 publishes nothing from
        # 240 s to 360 s (six wall seconds), every other tag keeps going.
        sim = stack.start_simulator("--scenario", "lt401_data_gap", "--rate", "20")
        assert sim.wait(120) == 0
        # Read at once: once the run is over, its silence is a real gap.
        gaps = [
            item["tag"]
            for item in outbox(stack.store, "alert_raised")
            if item["alert_type"] == "data_gap"
        ]
        assert gaps == ["LT-401"], gaps
    finally:
        stack.stop()
