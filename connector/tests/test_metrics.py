"""``GET /metrics`` (Prometheus text) and the extended ``GET /health``."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from connector.metrics import ConnectorMetrics, MachineHealth, Snapshot, TimedOdoo
from connector.tests.conftest import FakeOdoo
from connector.tests.test_pipeline_flexo import tick
from connector.tests.test_service import (
    Running,
    get_health,
    publish,
    running,  # noqa: F401  (fixture)
    settings_for,
)
from devkit.broker import Mosquitto
from devkit.util import wait_until

EXPECTED = {
    "cmms_connector_info",
    "cmms_connector_readings_received",
    "cmms_connector_readings_duplicate",
    "cmms_connector_ticks_received",
    "cmms_connector_meter_readings_received",
    "cmms_connector_meter_resets",
    "cmms_connector_dead_letters",
    "cmms_connector_outbox_items",
    "cmms_connector_outbox_sent",
    "cmms_connector_outbox_rejected",
    "cmms_connector_outbox_oldest_pending_seconds",
    "cmms_connector_push_duration_seconds",
    "cmms_connector_push_errors",
    "cmms_connector_mqtt_connected",
    "cmms_connector_odoo_reachable",
    "cmms_connector_sensors",
    "cmms_connector_silent_tags",
    "cmms_connector_open_alerts",
    "cmms_connector_readings_per_second",
    "cmms_connector_history_minutes",
    "cmms_connector_history_compaction_seconds",
    "cmms_flexo_health_score",
    "cmms_flexo_oee_provisional_percent",
    "cmms_flexo_system_status",
}


def families(text: str) -> dict[str, Any]:
    """Metric families by name (without the client's ``_created`` series)."""
    return {
        f.name: f for f in text_string_to_metric_families(text) if not f.name.endswith("_created")
    }


def sample(fams: dict[str, Any], name: str, **labels: str) -> float:
    for family in fams.values():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    raise KeyError((name, labels))


def test_exposition_names_types_and_values() -> None:
    snap = Snapshot(
        connector_id="c1",
        config_version="v7",
        readings=12,
        dead_letters={"not json": 3, "bad value": 1},
        outbox_pending=4,
        silent_tags=2,
        mqtt_connected=True,
        machines={"FLEXO_104": MachineHealth({"PRINTING": 81.9}, 75.1, "NORMAL")},
    )
    metrics = ConnectorMetrics(lambda: snap)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=")
    text = body.decode()
    fams = families(text)
    assert set(fams) == EXPECTED
    assert fams["cmms_connector_readings_received"].type == "counter"
    assert fams["cmms_connector_outbox_items"].type == "gauge"
    assert fams["cmms_connector_push_duration_seconds"].type == "histogram"
    assert sample(fams, "cmms_connector_readings_received_total") == 12
    assert sample(fams, "cmms_connector_dead_letters_total", kind="not json") == 3
    assert sample(fams, "cmms_connector_outbox_items", status="pending") == 4
    assert sample(fams, "cmms_connector_silent_tags") == 2
    assert sample(fams, "cmms_connector_mqtt_connected") == 1
    assert sample(fams, "cmms_connector_info", config_version="v7") == 1
    assert (
        sample(fams, "cmms_flexo_health_score", machine="FLEXO_104", component="PRINTING") == 81.9
    )
    assert sample(fams, "cmms_flexo_system_status", machine="FLEXO_104", status="NORMAL") == 1
    assert sample(fams, "cmms_flexo_system_status", machine="FLEXO_104", status="FAULT") == 0


def test_push_calls_are_timed() -> None:
    metrics = ConnectorMetrics(Snapshot)

    class Client:
        url = "http://odoo"

        def __init__(self) -> None:
            self.fail = False

        def ingest(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if self.fail:
                raise OSError("down")
            return [{"key": i["key"], "status": "accepted"} for i in items]

    client = Client()
    timed = TimedOdoo(client, metrics)
    assert timed.ingest([{"key": "a"}]) == [{"key": "a", "status": "accepted"}]
    client.fail = True
    with pytest.raises(OSError):
        timed.ingest([])
    assert timed.url == "http://odoo"
    fams = families(metrics.render()[0].decode())
    assert sample(fams, "cmms_connector_push_duration_seconds_count") == 2
    assert sample(fams, "cmms_connector_push_errors_total") == 1


def get(port: int, path: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
        return reply.status, reply.headers["Content-Type"], reply.read().decode()


def test_service_serves_metrics_and_pushes_the_new_items(
    mosquitto: Mosquitto,
    fake_odoo: FakeOdoo,
    tmp_path: Path,
    running: list[Running],  # noqa: F811
) -> None:
    settings = settings_for(
        mosquitto,
        fake_odoo.url,
        tmp_path,
        history_compact_s=0.2,
        history_close_delay_s=0.0,
        flexo_machine_tags="FLEXO_104=FLX-104",
    )
    run = Running(settings)
    running.append(run)
    assert run.service.ready.wait(10)
    assert wait_until(run.service.mqtt.connected.is_set, 10)  # type: ignore[union-attr]
    publish(mosquitto.port, "PT-101", [(0, 6.0), (1, 6.1), (2, 6.2)])
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    for minute in (1, 2, 3):
        topic, payload = tick(minute)
        client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.publish("cmms/plant1/PT-101/reading", b"{oops", qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()

    def types() -> set[str]:
        return {i["type"] for i in fake_odoo.accepted.values()}

    wait_until(
        lambda: {"health_snapshot", "downtime_event", "reading_agg"} <= types(),
        10,
        lambda: f"the item types; got {types()}",
    )
    agg = next(i for i in fake_odoo.accepted.values() if i["type"] == "reading_agg")
    assert agg["key"] == "agg:PT-101:2026-11-22T08:00:00Z"
    assert agg["data"]["count"] == 3 and agg["data"]["mean"] == pytest.approx(6.1)
    snap = next(i for i in fake_odoo.accepted.values() if i["type"] == "health_snapshot")
    assert snap["data"]["tag"].startswith("FLX-104-")

    def scrape() -> dict[str, Any]:
        status, content_type, text = get(settings.health_port, "/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        return families(text)

    assert wait_until(
        lambda: sample(scrape(), "cmms_connector_push_duration_seconds_count") >= 1, 5
    )
    fams = scrape()
    assert set(fams) == EXPECTED
    assert sample(fams, "cmms_connector_readings_received_total") == 3
    assert sample(fams, "cmms_connector_ticks_received_total") == 3
    assert sample(fams, "cmms_connector_dead_letters_total", kind="not json") == 1
    assert sample(fams, "cmms_connector_mqtt_connected") == 1
    assert sample(fams, "cmms_connector_sensors") == 1
    assert sample(fams, "cmms_connector_history_minutes_total") >= 1
    assert sample(fams, "cmms_flexo_health_score", machine="FLEXO_104", component="SLOTTER") == 100

    code, doc = get_health(settings.health_port)
    assert code == 200
    assert {"silent_tags", "silent_tag_count", "odoo_reachable", "backlog", "machines"} <= set(doc)
    assert doc["odoo_reachable"] is True
    assert doc["silent_tag_count"] == len(doc["silent_tags"])
    assert doc["machines"]["FLEXO_104"]["health"]["PRINTING"] == pytest.approx(98.2)
    assert json.dumps(doc)  # plain JSON
    assert run.stop() == 0
