"""The first vertical slice, end to end, on real services.

The simulator publishes PT-101 readings with an out-of-range fault to a real
Mosquitto; the connector (paho-mqtt, QoS 1) applies the limits it read from
Odoo and pushes its alert through the ingestion method; Odoo holds one open
alert on PT-101's equipment and, by the alert policy, one urgent corrective
work order in the demo technician's task list. Replaying the batch changes
nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from devkit.util import wait_until

ROOT = Path(__file__).resolve().parent.parent


def outbox(store: Path, where: str = "1=1") -> list[dict]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(f"SELECT key, type, ts, data, status FROM outbox WHERE {where}")
        return [dict(row) for row in rows]


def test_pt101_out_of_range_raises_one_alert_and_one_urgent_work_order(
    odoo_server, broker, tmp_path
):
    server = odoo_server
    pt101 = server.admin(
        "maintenance.equipment", "search_read", [("cmms_tag", "=", "PT-101")], ["id", "name"]
    )
    assert len(pt101) == 1, "the demo data has instrument PT-101"
    equipment_id = pt101[0]["id"]
    # This test is about the out-of-range fault. Silence after the simulator
    # stops is a real data gap, and ten minutes of data are too few for the
    # drift detector's baseline: both are switched off in this copy of the
    # demo database (the sensors expect readings hourly, CUSUM h = 0).
    sensor_ids = server.admin("cmms.sensor", "search", [])
    server.admin("cmms.sensor", "write", sensor_ids, {"interval_s": 3600.0, "cusum_h": 0.0})

    store = tmp_path / "connector.sqlite3"
    env = {
        **os.environ,
        "CMMS_MQTT_HOST": "127.0.0.1",
        "CMMS_MQTT_PORT": str(broker.port),
        "CMMS_MQTT_CLIENT_ID": "e2e-connector",
        "CMMS_ODOO_URL": server.url,
        "CMMS_ODOO_DB": server.db,
        "CMMS_ODOO_LOGIN": "cmms_connector",
        "CMMS_ODOO_API_KEY": server.api_key,
        "CMMS_STORE": str(store),
        "CMMS_CONNECTOR_ID": "e2e",
        "CMMS_PUSH_BATCH_AGE_S": "0.5",
        "CMMS_HEARTBEAT_S": "2",
    }
    connector_log = open(tmp_path / "connector.log", "w")  # noqa: SIM115
    connector = subprocess.Popen(
        [sys.executable, "-m", "connector", "run"],
        cwd=ROOT, env=env, stdout=connector_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # The connector is subscribed once its heartbeat reaches Odoo.
        wait_until(
            lambda: server.admin("cmms.connector", "search", [("name", "=", "e2e")]),
            90, "the connector's first heartbeat",
        )  # fmt: skip
        labels = tmp_path / "labels.jsonl"
        sim = subprocess.run(
            [sys.executable, "-m", "simulator", "run", "--scenario", "pt101_out_of_range",
             "--rate", "max", "--host", "127.0.0.1", "--port", str(broker.port),
             "--labels", str(labels), "--no-flexo"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert sim.returncode == 0, sim.stdout + sim.stderr
        faults = [json.loads(line) for line in labels.read_text().splitlines()]
        assert [(f["tag"], f["fault"]) for f in faults] == [("PT-101", "out_of_range")]

        def alerts():
            return server.admin(
                "cmms.alert", "search_read",
                [("equipment_id", "=", equipment_id)],
                ["alert_type", "severity", "state", "condition", "occurrence_count",
                 "request_id", "last_value"],
            )  # fmt: skip

        # The fault ends inside the run: wait until its clearing is in Odoo.
        found = wait_until(
            lambda: [a for a in alerts() if a["condition"] == "cleared"] and alerts(),
            120, "the PT-101 alert raised and cleared in Odoo",
        )  # fmt: skip
        wait_until(lambda: not outbox(store, "status = 'pending'"), 60, "an empty outbox")
        found = alerts()
        assert len(found) == 1, f"one open alert on PT-101, not one per reading: {found}"
        alert = found[0]
        assert alert["alert_type"] == "instrument_fault"
        assert alert["severity"] == "critical"
        assert alert["state"] == "raised"
        raised = [json.loads(i["data"]) for i in outbox(store) if i["type"] == "alert_raised"]
        assert [(r["tag"], r["alert_type"]) for r in raised] == [("PT-101", "instrument_fault")]
        assert raised[0]["value"] > 16.0, "raised on a value outside the 0-16 bar signal range"
        assert alert["request_id"], "the policy opened a work order"

        request_id = alert["request_id"][0]
        request = server.admin(
            "maintenance.request", "read", [request_id],
            ["cmms_priority", "maintenance_type", "equipment_id", "user_id", "source",
             "alert_id"],
        )[0]  # fmt: skip
        assert request["cmms_priority"] == "urgent"
        assert request["maintenance_type"] == "corrective"
        assert request["equipment_id"][0] == equipment_id
        assert request["source"] == "alert"
        assert request["alert_id"][0] == alert["id"]
        assert (
            server.admin(
                "maintenance.request", "search_count", [("equipment_id", "=", equipment_id)]
            )
            == 1
        )
        # In the demo technician's own task list, read with his own rights.
        tasks = server.call("tech_budi", "123", "cmms.ar.api", "my_tasks")
        assert request_id in [t["id"] for t in tasks]
        seen = server.call(
            "tech_budi", "123", "maintenance.request", "search", [("user_id", "!=", False)]
        )
        assert request_id in seen

        # Every item the connector pushed, sent again as one batch: all
        # duplicates, and nothing changes in Odoo.
        sent = outbox(store, "status = 'sent'")
        assert any(item["type"] == "alert_raised" for item in sent)
        assert not outbox(store, "status = 'rejected'")
        batch = [
            {"key": i["key"], "type": i["type"], "ts": i["ts"], "data": json.loads(i["data"])}
            for i in sent
        ]
        before = (alerts(), server.admin("maintenance.request", "search_count", []))
        reply = server.jsonrpc_ingest(batch)
        assert {r["status"] for r in reply["results"]} == {"duplicate"}
        assert (alerts(), server.admin("maintenance.request", "search_count", [])) == before
    finally:
        connector.terminate()
        try:
            assert connector.wait(30) == 0, "SIGTERM stops the connector cleanly"
        finally:
            if connector.poll() is None:
                connector.kill()
            connector_log.close()
