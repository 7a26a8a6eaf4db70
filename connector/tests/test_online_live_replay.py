"""A live stream through Mosquitto and the connector, replayed offline.

The readings of three tags of one machine go through a real broker, the
connector's MQTT client and its pipeline, whose anomaly engine records every
score it gives; the stored readings are then replayed offline through the
same classes (:func:`connector.detect.anomaly.replay_stream`) and must give the same
scores and flags, reading for reading and row for row.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from connector.detect.anomaly import AnomalyEngine, replay_stream
from connector.ingest.mqtt import Message, MqttIngest
from connector.ingest.pipeline import Pipeline
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, T0, make_config
from connector.tests.test_mqtt_integration import settings_for
from devkit.broker import Mosquitto
from devkit.util import wait_until

TAGS = {"PT-101": 6.0, "FT-301": 40.0, "TT-201": 65.0}
N = 900
FAULT = range(650, 720)  # PT-101 and FT-301 step together


def sensors() -> list[dict[str, Any]]:
    out = []
    for tag, nominal in TAGS.items():
        out.append(
            {
                **SENSOR_PT101,
                "tag": tag,
                "nominal": nominal,
                "signal_high": 200.0,
                "low_critical": None,
                "low_warning": None,
                "high_warning": None,
                "high_critical": None,
                "machine": "FL-01",
            }
        )
    return out


def value(tag: str, i: int, rng: random.Random) -> float:
    base = TAGS[tag]
    v = base + 0.01 * base * rng.gauss(0.0, 1.0)
    if i in FAULT and tag != "TT-201":
        v += 0.1 * base
    return round(v, 4)


def test_live_scores_equal_the_offline_replay(mosquitto: Mosquitto, tmp_path: Path) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    settings = settings_for(mosquitto, tmp_path)
    store = open_store(settings.store_path)
    live: list[tuple[Any, ...]] = []
    pipe = Pipeline(
        store,
        "cmms",
        engine=AnomalyEngine(on_score=lambda *a: live.append(a)),
    )
    pipe.apply_config(make_config("v1", *sensors()))

    def on_message(message: Message) -> None:
        pipe.process([(message.topic, message.payload)])
        ingest.ack(message)

    ingest = MqttIngest(settings, on_message)
    ingest.start()
    assert ingest.connected.wait(10)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        rng = random.Random(3)
        infos = []
        for i in range(N):
            for tag in TAGS:
                payload = {"ts": T0 + i, "value": value(tag, i, rng), "unit": "bar", "seq": i}
                infos.append(client.publish(f"cmms/plant1/{tag}/reading", json.dumps(payload), 1))
            if len(infos) >= 150:
                for info in infos:
                    info.wait_for_publish(10)
                infos.clear()
        for info in infos:
            info.wait_for_publish(10)
        assert wait_until(lambda: store.count_readings() == N * len(TAGS), 60)
    finally:
        client.disconnect()
        client.loop_stop()
        ingest.stop()

    offline: list[tuple[Any, ...]] = []
    replay_stream(store.iter_readings(), sensors(), on_score=lambda *a: offline.append(a))
    assert len(live) == len(offline) > N * len(TAGS)
    assert live == offline  # same names, times, scores and flags, in the same order
    machine = [row for row in live if row[0] == "FL-01"]
    flagged = [row[1] - T0 for row in machine if row[3]]
    assert flagged and min(flagged) >= FAULT.start and min(flagged) < FAULT.start + 5
    alerts = [json.loads(row[0]) for row in store.execute("SELECT data FROM outbox")]
    anomaly = [a for a in alerts if a.get("alert_type") == "anomaly"]
    assert {a["tag"] for a in anomaly} >= {"PT-101", "FT-301"}
    assert "TT-201" not in {a["tag"] for a in anomaly}
    assert any("machine FL-01" in a["message"] and "FT-301" in a["message"] for a in anomaly), [
        a["message"] for a in anomaly
    ]
