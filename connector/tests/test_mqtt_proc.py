"""The MQTT receiver process (:mod:`connector.ingest.mqtt_proc`) against a real Mosquitto.

What is checked: nothing is acknowledged before the owner says so (the
broker's in-flight window stops the flow); the receiver's death loses and
doubles nothing (a new receiver is started, the broker redelivers, the store
recognises what it holds); the owner's death, even by SIGKILL, takes the
receiver with it and the broker publishes the last will; a clean stop says
``offline`` itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connector.config import Settings
from connector.ingest.mqtt import Message
from connector.ingest.mqtt_proc import MqttProcess
from connector.ingest.pipeline import Pipeline
from connector.ingest.schema import decode_readings
from connector.store import Store, open_store
from connector.tests.conftest import SENSOR_PT101, T0, Publisher, make_config
from connector.tests.test_mqtt_integration import settings_for, stored_seqs
from devkit.broker import Mosquitto
from devkit.util import wait_until

REPO = Path(__file__).resolve().parents[2]


class Owner:
    """The service's part: store each message, then acknowledge it (or not)."""

    def __init__(self, settings: Settings, store: Store, ack: bool = True) -> None:
        self.pipe = Pipeline(store, "cmms")
        self.pipe.apply_config(make_config("v1", SENSOR_PT101))
        self.ack = ack
        self.received: list[Message] = []
        self.changes: list[bool] = []
        self.lock = threading.Lock()
        self.mqtt = MqttProcess(settings, self.on_message, self.changes.append)

    def on_message(self, message: Message) -> None:
        self.pipe.process([(message.topic, message.payload, message.readings)])
        with self.lock:
            self.received.append(message)
        if self.ack:
            assert self.mqtt.ack_many([message]) == 1

    def start(self) -> None:
        self.mqtt.start()
        assert self.mqtt.connected.wait(20), "the receiver did not connect"


class StatusWatcher:
    """Subscribes to the connector's retained status topic."""

    def __init__(self, port: int, topic: str) -> None:
        self.seen: list[str] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, m: self.seen.append(json.loads(m.payload)["state"])
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_nothing_is_acknowledged_before_the_owner_says_so(
    mosquitto: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto, tmp_path, mqtt_receive_maximum=50)
    store = open_store(settings.store_path)
    owner = Owner(settings, store, ack=False)
    owner.start()
    try:
        publisher.readings(0, 300)
        # the broker sends at most Receive Maximum unacknowledged messages
        assert wait_until(lambda: len(owner.received) == 50, 10)
        with pytest.raises(TimeoutError):  # nothing more within a second
            wait_until(lambda: len(owner.received) > 50, 1.0)
        owner.ack = True
        with owner.lock:
            held = list(owner.received)
        # (Mosquitto 2.0 then sends the rest of its queue, not just 20 more)
        assert owner.mqtt.ack_many(held[:20]) == 20
        assert wait_until(lambda: len(owner.received) > 50, 10)
        assert owner.mqtt.ack_many(held[20:]) == 30
        assert wait_until(lambda: len(stored_seqs(store)) == 300, 15)
    finally:
        owner.mqtt.stop()
    assert stored_seqs(store) == list(range(300))
    assert owner.mqtt.connected.is_set() is False


def test_the_receiver_sends_the_readings_decoded(
    mosquitto: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto, tmp_path)
    store = open_store(settings.store_path)
    owner = Owner(settings, store)
    owner.start()
    batch = [{"ts": T0 + i, "value": 6.0 + i / 10, "unit": "bar"} for i in range(5)]
    try:
        publisher.readings(0, 3)
        publisher.client.publish(
            "cmms/plant1/PT-101/reading", json.dumps(batch), qos=1
        ).wait_for_publish(10)
        publisher.client.publish("cmms/plant1/PT-101/reading", b"[{", qos=1).wait_for_publish(10)
        assert wait_until(lambda: len(owner.received) == 5, 10)
    finally:
        owner.mqtt.stop()
    # an array of readings comes decoded, a single reading as it is
    assert [m.readings is None for m in owner.received[:4]] == [True, True, True, False]
    decoded = owner.received[3].readings
    assert decoded == decode_readings("PT-101", owner.received[3].payload)
    assert decoded.value == [6.0, 6.1, 6.2, 6.3, 6.4]
    # a payload the receiver refuses comes as it is; the owner gives the reason
    assert owner.received[4].readings is None
    assert store.counts()["dead_letters"] == 1
    assert owner.pipe.readings_total_ == 8


def test_receiver_killed_mid_stream_loses_and_doubles_nothing(
    mosquitto: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto, tmp_path)
    store = open_store(settings.store_path)
    owner = Owner(settings, store, ack=False)  # stored, not yet acknowledged
    owner.start()
    try:
        first_pid = owner.mqtt.process_.pid
        publisher.readings(0, 200)
        assert wait_until(lambda: len(owner.received) >= 100, 10)
        held = list(owner.received)
        os.kill(first_pid, signal.SIGKILL)
        assert wait_until(lambda: owner.changes[-1:] == [False], 10)
        # an acknowledgement meant for the dead receiver's connection is dropped
        assert owner.mqtt.ack_many(held) == 0
        owner.ack = True
        assert wait_until(lambda: owner.mqtt.connected.is_set(), 20)
        assert owner.mqtt.process_.pid != first_pid and owner.mqtt.restarts_ == 1
        assert owner.mqtt.session_present_ is True
        publisher.readings(200, 400)
        assert wait_until(lambda: len(stored_seqs(store)) == 400, 20)
        # what the dead receiver had forwarded came again and was recognised
        assert wait_until(lambda: owner.pipe.duplicates_total_ >= len(held), 10)
    finally:
        owner.mqtt.stop()
    assert stored_seqs(store) == list(range(400))
    assert store.counts()["dead_letters"] == 0


def test_clean_stop_says_offline_and_keeps_the_session(
    mosquitto: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto, tmp_path, connector_id="p1")
    watcher = StatusWatcher(mosquitto.port, settings.status_topic)
    store = open_store(settings.store_path)
    try:
        owner = Owner(settings, store)
        owner.start()
        assert wait_until(lambda: watcher.seen[-1:] == ["online"], 10)
        proc = owner.mqtt.process_
        owner.mqtt.stop()
        assert proc.returncode == 0
        assert wait_until(lambda: watcher.seen[-1:] == ["offline"], 10)
        publisher.readings(0, 150)  # queued for the stopped session
        again = Owner(settings, store)
        again.start()
        try:
            assert wait_until(lambda: len(stored_seqs(store)) == 150, 15)
        finally:
            again.mqtt.stop()
    finally:
        watcher.close()
    assert stored_seqs(store) == list(range(150))


OWNER_SCRIPT = """
import sys, time
from connector.config import Settings
from connector.ingest.mqtt_proc import MqttProcess
settings = Settings(connector_id="k1", mqtt_host="127.0.0.1", mqtt_port=int(sys.argv[1]),
                    mqtt_site="plant1", mqtt_reconnect_min_s=1, mqtt_reconnect_max_s=2)
owner = MqttProcess(settings, lambda message: None)
owner.start()
assert owner.connected.wait(20)
print(owner.process_.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_owner_sigkill_takes_the_receiver_and_fires_the_will(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    watcher = StatusWatcher(mosquitto.port, "cmms/plant1/connector/k1/status")
    env: dict[str, Any] = dict(os.environ, PYTHONPATH=str(REPO))
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, str(mosquitto.port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        receiver_pid = int(owner.stdout.readline())
        assert wait_until(lambda: watcher.seen[-1:] == ["online"], 10)
        owner.send_signal(signal.SIGKILL)
        owner.wait(5)
        wait_until(lambda: not _alive(receiver_pid), 10, "the receiver outlived its owner")
        assert wait_until(lambda: watcher.seen[-1:] == ["offline"], 10)  # the last will
    finally:
        watcher.close()
        if owner.poll() is None:
            owner.kill()
            owner.wait(5)


def test_the_receiver_holds_a_bounded_number_of_messages(monkeypatch: Any) -> None:
    """When the owner falls behind, paho's thread waits (the broker keeps the
    backlog) instead of the receiver's memory growing; what waited is
    forwarded in order once there is room."""
    import pickle
    import socket
    from multiprocessing.connection import Connection

    from connector.ingest import mqtt_proc

    monkeypatch.setattr(mqtt_proc, "FORWARD_PENDING_MAX", 3)
    ours, theirs = socket.socketpair()
    forwarder = mqtt_proc._Forwarder(Connection(ours.detach()))
    owner = Connection(theirs.detach())
    waiting = threading.Event()

    class Condition(threading.Condition):
        def wait(self, timeout: float | None = None) -> bool:
            waiting.set()  # someone waits for room (or for entries)
            return super().wait(timeout)

    forwarder.cond = Condition()
    for i in range(3):
        forwarder.put(("t", b"p", i, 1, False, 1))
    assert not waiting.is_set(), "three messages fit"
    fourth = threading.Thread(target=forwarder.put, args=(("t", b"p", 3, 1, False, 1),))
    fourth.start()
    assert waiting.wait(10), "the fourth put waits on the condition"
    assert fourth.is_alive(), "a fourth message waits for room"
    assert len(forwarder.entries) == 3
    threading.Thread(target=forwarder.run, daemon=True).start()
    fourth.join(5)
    assert not fourth.is_alive()
    mids: list[int] = []
    while len(mids) < 4:
        assert owner.poll(5)
        mids += [entry[2] for entry in pickle.loads(owner.recv_bytes())]
    assert mids == [0, 1, 2, 3]
