"""Two sites, two connectors, one Odoo: scaling the telemetry path out.

Connectors are partitioned by site: each subscribes only to its site's topics
(``CMMS_MQTT_SITE``: ``cmms/<site>/+/reading``...) and keeps its own store, so
two of them on one broker share no message. Site ``north`` publishes FT-301
and PT-101 with a PT-101 out-of-range fault, site ``south`` TT-201 and LT-401
with an LT-401 low out-of-range fault, at the same time. Odoo then holds
exactly one alert per fault, raised once, each pushed by its own site's
connector; sending both connectors' outboxes again changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from devkit.util import wait_until
from tests.test_first_slice import outbox

ROOT = Path(__file__).resolve().parent.parent
SITES = {
    "north": (("FT-301", "PT-101"), {"tag": "PT-101", "kind": "out_of_range",
                                     "start_s": 120, "end_s": 180, "level": 20.0}),
    "south": (("TT-201", "LT-401"), {"tag": "LT-401", "kind": "out_of_range",
                                     "start_s": 150, "end_s": 210, "direction": "low",
                                     "level": -5.0}),
}  # fmt: skip


def site_scenario(tmp_path: Path, site: str) -> Path:
    """A quiet scenario file with the site's instruments and its one fault."""
    tags, fault = SITES[site]
    table = tomllib.loads((ROOT / "simulator" / "config" / "instruments.toml").read_text())
    instruments = []
    for row in table["instrument"]:
        if row["tag"] in tags:
            # Couplings to the other site's instruments do not cross sites.
            row = {k: v for k, v in row.items() if k != "coupling"}
            instruments.append(row)
    path = tmp_path / f"{site}.json"
    path.write_text(
        json.dumps(
            {
                "name": f"site_{site}",
                "duration_s": 300,
                "instruments": instruments,
                "fault": [fault],
                "process_changes": False,
                "wander": False,
                "flexo": False,
                "energy": False,
            }
        )
    )
    return path


def test_two_site_connectors_push_every_alert_exactly_once(odoo_server, own_broker, tmp_path):
    server = odoo_server
    # Silence after the simulators stop is a data gap, and five minutes are
    # too few for the drift baseline: both off in this copy (as in the first slice).
    sensor_ids = server.admin("cmms.sensor", "search", [])
    server.admin("cmms.sensor", "write", sensor_ids, {"interval_s": 3600.0, "cusum_h": 0.0})
    equipment = {
        row["cmms_tag"]: row["id"]
        for row in server.admin(
            "maintenance.equipment",
            "search_read",
            [("cmms_tag", "in", ["PT-101", "LT-401", "FT-301", "TT-201"])],
            ["cmms_tag"],
        )  # fmt: skip
    }
    assert len(equipment) == 4, equipment
    # Alerts of the demo data itself (a calibration overdue...) are not ours.
    demo_alerts = server.admin("cmms.alert", "search", [])

    connectors, logs = {}, []
    try:
        for site in SITES:
            log = open(tmp_path / f"connector-{site}.log", "w")  # noqa: SIM115
            logs.append(log)
            env = {
                **os.environ,
                "CMMS_MQTT_HOST": "127.0.0.1",
                "CMMS_MQTT_PORT": str(own_broker.port),
                "CMMS_MQTT_SITE": site,
                "CMMS_CONNECTOR_ID": f"site-{site}",
                "CMMS_ODOO_URL": server.url,
                "CMMS_ODOO_DB": server.db,
                "CMMS_ODOO_LOGIN": "cmms_connector",
                "CMMS_ODOO_API_KEY": server.api_key,
                "CMMS_STORE": str(tmp_path / f"{site}.sqlite3"),
                "CMMS_PUSH_BATCH_AGE_S": "0.5",
                "CMMS_HEARTBEAT_S": "2",
            }
            connectors[site] = subprocess.Popen(
                [sys.executable, "-m", "connector", "run"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        names = ["site-north", "site-south"]
        wait_until(
            lambda: len(server.admin("cmms.connector", "search", [("name", "in", names)])) == 2,
            90, "both connectors' first heartbeat",
        )  # fmt: skip

        sims = {
            site: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "simulator",
                    "run",
                    "--scenario",
                    str(site_scenario(tmp_path, site)),
                    "--site",
                    site,
                    "--rate",
                    "max",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(own_broker.port),
                    "--labels",
                    str(tmp_path / f"{site}.labels.jsonl"),
                    "--client-id",
                    f"sim-{site}",
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
            for site in SITES
        }
        for site, sim in sims.items():
            out = sim.communicate(timeout=300)[0]
            assert sim.returncode == 0, f"{site} simulator: {out}"
            labels = (tmp_path / f"{site}.labels.jsonl").read_text().splitlines()
            assert [json.loads(line)["tag"] for line in labels] == [SITES[site][1]["tag"]]

        def alerts():
            return server.admin(
                "cmms.alert", "search_read", [("id", "not in", demo_alerts)],
                ["equipment_id", "alert_type", "condition", "occurrence_count", "request_id"],
            )  # fmt: skip

        wait_until(
            lambda: len([a for a in alerts() if a["condition"] == "cleared"]) >= 2,
            180, "both faults raised and cleared in Odoo",
        )  # fmt: skip
        for site in SITES:
            store = tmp_path / f"{site}.sqlite3"

            def drained(s: Path = store) -> bool:
                return not outbox(s, "status = 'pending'")

            wait_until(drained, 60, f"{site} outbox")

        found = alerts()
        by_equipment = sorted((a["equipment_id"][0], a["alert_type"]) for a in found)
        assert by_equipment == sorted(
            [(equipment["PT-101"], "instrument_fault"), (equipment["LT-401"], "instrument_fault")]
        ), f"one alert per fault, no other: {found}"
        assert all(a["occurrence_count"] == 1 for a in found), found
        assert all(a["request_id"] for a in found), "the policy opened a work order for each"

        # Each connector saw only its own site: it raised its own site's alert.
        for site in SITES:
            store = tmp_path / f"{site}.sqlite3"
            items = [(i["type"], json.loads(i["data"])) for i in outbox(store)]
            raised = [data["tag"] for kind, data in items if kind == "alert_raised"]
            assert raised == [SITES[site][1]["tag"]], (site, raised)
            readings = {data["tag"] for kind, data in items if kind == "reading_agg"}
            assert readings <= set(SITES[site][0]), (site, readings)
            assert not outbox(store, "status = 'rejected'")

        # Both outboxes sent again: every item a duplicate, nothing changes.
        batch = [
            {"key": i["key"], "type": i["type"], "ts": i["ts"], "data": json.loads(i["data"])}
            for site in SITES
            for i in outbox(tmp_path / f"{site}.sqlite3", "status = 'sent'")
        ]
        keys = [item["key"] for item in batch]
        assert len(keys) == len(set(keys)), "the two connectors' idempotency keys never collide"
        before = (alerts(), server.admin("maintenance.request", "search_count", []))
        reply = server.jsonrpc_ingest(batch)
        assert {r["status"] for r in reply["results"]} == {"duplicate"}
        assert (alerts(), server.admin("maintenance.request", "search_count", [])) == before
    finally:
        for connector in connectors.values():
            connector.terminate()
        for connector in connectors.values():
            try:
                connector.wait(30)
            except subprocess.TimeoutExpired:
                connector.kill()
        for log in logs:
            log.close()
