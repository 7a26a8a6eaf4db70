"""Shared fixtures of the simulator tests.

* ``broker``: a real Mosquitto with the shipped configuration on a free
  loopback port (:class:`devkit.broker.Mosquitto`, one per test module);
  the tests that need it are skipped when no ``mosquitto`` binary exists,
  unless ``CMMS_REQUIRE_MOSQUITTO=1`` turns that into a failure.
* ``subscriber``: a paho QoS 1 subscriber on ``cmms/plant1/#`` collecting
  every message.
* ``run_cli``: runs ``python -m simulator ...`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devkit.broker import Mosquitto, find_mosquitto

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def broker() -> Iterator[Mosquitto]:
    """A Mosquitto broker for the tests of one module."""
    if find_mosquitto() is None:
        if os.environ.get("CMMS_REQUIRE_MOSQUITTO") == "1":
            pytest.fail("mosquitto is required (CMMS_REQUIRE_MOSQUITTO=1) but not found")
        pytest.skip("mosquitto binary not found")
    with Mosquitto() as running:
        yield running


@dataclass
class Message:
    """One received MQTT message."""

    topic: str
    payload: bytes
    qos: int

    def json(self) -> Any:
        """The payload decoded as JSON."""
        return json.loads(self.payload)


class Collector:
    """A QoS 1 subscriber that keeps every message it receives."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.topic = topic
        self.messages: list[Message] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"collector-{os.getpid()}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("collector could not subscribe")

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, rcs: Any, props: Any
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Message(message.topic, message.payload, message.qos))
            self._cond.notify_all()

    def count(self) -> int:
        """How many messages arrived so far."""
        with self._cond:
            return len(self.messages)

    def wait_for(self, predicate: Callable[[list[Message]], bool], timeout: float = 20.0) -> bool:
        """Wait until ``predicate(messages)`` holds; return whether it did."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def settle(self, quiet_s: float = 0.3, timeout: float = 20.0) -> None:
        """Wait until no message has arrived for ``quiet_s``."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            now = self.count()
            if now == last:
                return
            last = now
            time.sleep(quiet_s)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._cond:
            self.messages.clear()

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(broker: Mosquitto) -> Iterator[Collector]:
    """A QoS 1 subscriber on everything the simulator publishes for plant1."""
    collector = Collector(broker.host, broker.port, "cmms/plant1/#")
    try:
        yield collector
    finally:
        collector.close()


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m simulator ARGS`` and return the completed process."""

    def _run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return _run


@pytest.fixture
def popen_cli() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``python -m simulator ARGS`` in the background (killed at teardown)."""
    started: list[subprocess.Popen[str]] = []

    def _start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def parse_summary(stdout: str) -> dict[str, float]:
    """The ``key: number`` lines of the publisher's summary."""
    values: dict[str, float] = {}
    for line in stdout.splitlines():
        key, sep, rest = line.partition(": ")
        if not sep:
            continue
        token = rest.split()[0] if rest.split() else ""
        try:
            values[key] = float(token)
        except ValueError:
            continue
    return values
