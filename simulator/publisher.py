"""Publishing a simulation over MQTT (paho-mqtt 2.x, QoS 1).

:class:`MqttPublisher` is the thin adapter around the paho client.  It never
has more than ``max_outstanding`` QoS 1 messages unacknowledged: paho keys
those by a 16-bit message id, so past 65,535 outstanding publishes new ones
collide with old ones and are lost.  Before each publish it waits until the
broker has acknowledged enough (PUBACKs are counted in ``on_publish``), and
paho's own in-flight window and queue are set to the same bound, so a
publish that would exceed it fails loudly instead of vanishing.

:func:`run` drives a :class:`~simulator.simulation.Simulation` through it:

* readings go to ``<prefix>/<site>/<tag>/reading``, one object per message,
  or with ``batch > 1`` an array of up to ``batch`` readings of that tag;
* FLEXO ticks go to ``<prefix>/<site>/machine/<machine_id>/tick``, energy
  meter readings to ``<prefix>/<site>/machine/<machine_id>/energy``;
* ``rate`` is simulated seconds per wall second (``None``: as fast as the
  broker acknowledges) from the end of the simulation's backfill on (the
  backfill itself is sent at once); while ahead of schedule, partial batches are sent
  before sleeping, so a real-time run is not delayed by batching;
* a stop request (SIGINT/SIGTERM in the CLI) ends generation, sends what is
  batched, waits for the outstanding acknowledgements and disconnects.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .faults import write_labels
from .simulation import (
    EnergyReading,
    Reading,
    Simulation,
    encode,
    energy_topic,
    reading_payload,
    reading_topic,
    tick_topic,
)

__all__ = ["MqttPublisher", "PublishConfig", "PublishStats", "run"]

log = logging.getLogger(__name__)


@dataclass
class PublishConfig:
    """Everything the publisher needs besides the simulation.

    Parameters
    ----------
    host, port
        The broker.
    site, prefix
        Topic prefix and site level (``cmms/plant1/...``).
    batch
        Readings per message (1: a single object; more: an array).
    rate
        Simulated seconds per wall second; ``None`` for as fast as possible.
    max_outstanding
        Upper bound of unacknowledged QoS 1 messages (well below 65,535).
    client_id
        MQTT client id; ``cmms-sim-<site>-<pid>`` when empty.
    keepalive
        MQTT keepalive in seconds.
    connect_timeout_s
        How long to wait for the broker's CONNACK.
    drain_timeout_s
        How long to wait for outstanding acknowledgements at the end.
    username, password
        Optional broker credentials.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    site: str = "plant1"
    prefix: str = "cmms"
    batch: int = 1
    rate: float | None = 1.0
    max_outstanding: int = 1000
    client_id: str = ""
    keepalive: int = 60
    connect_timeout_s: float = 10.0
    drain_timeout_s: float = 30.0
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Validate the bounds."""
        if self.batch < 1:
            raise ValueError("batch must be at least 1")
        if self.rate is not None and not self.rate > 0:
            raise ValueError("rate must be positive (or None for max)")
        if not 1 <= self.max_outstanding <= 60_000:
            raise ValueError("max_outstanding must be in 1..60000 (paho mids are 16-bit)")
        for level in (self.site, self.prefix):
            if not level or any(ch in level for ch in "+#"):
                raise ValueError(f"invalid topic level {level!r}")


@dataclass
class PublishStats:
    """What a run did; acknowledgements are counted from PUBACKs."""

    published: int = 0
    acknowledged: int = 0
    failed: int = 0
    readings: int = 0
    readings_acknowledged: int = 0
    ticks: int = 0
    energy_readings: int = 0
    elapsed_s: float = 0.0
    simulated_s: float = 0.0
    max_outstanding_seen: int = 0
    labels: int = 0
    stopped: bool = False

    @property
    def readings_per_s(self) -> float:
        """Readings published per wall second."""
        return self.readings / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Every published message was acknowledged and none failed."""
        return self.failed == 0 and self.acknowledged == self.published

    def summary(self) -> str:
        """The end-of-run report, one ``key: value`` per line."""
        return "\n".join(
            [
                f"messages published: {self.published}",
                f"messages acknowledged: {self.acknowledged}",
                f"messages failed: {self.failed}",
                f"readings: {self.readings}",
                f"readings acknowledged: {self.readings_acknowledged}",
                f"ticks: {self.ticks}",
                f"energy readings: {self.energy_readings}",
                f"simulated: {self.simulated_s:.3f} s",
                f"elapsed: {self.elapsed_s:.3f} s",
                f"readings/s: {self.readings_per_s:.1f}",
                f"max outstanding: {self.max_outstanding_seen}",
            ]
        )


class MqttPublisher:
    """A paho client that bounds its unacknowledged QoS 1 publishes.

    Parameters
    ----------
    config
        Broker, bounds and credentials.
    stop
        Set to request a stop; waits for capacity give up
        ``drain_timeout_s`` after it is set.
    """

    def __init__(self, config: PublishConfig, stop: threading.Event | None = None) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        client_id = config.client_id or f"cmms-sim-{config.site}-{os.getpid()}"
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if config.username is not None:
            self._client.username_pw_set(config.username, config.password)
        # paho sends at most this many unacknowledged and refuses (rc
        # MQTT_ERR_QUEUE_SIZE) to hold more: our own bound keeps below both.
        self._client.max_inflight_messages_set(config.max_outstanding)
        self._client.max_queued_messages_set(config.max_outstanding)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self._connect_error: str | None = None
        self._weights: dict[int, int] = {}
        self._early: set[int] = set()
        self.stats = PublishStats()

    # -- paho callbacks (network thread) ---------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._connect_error = str(reason_code)
            log.error("broker refused the connection: %s", reason_code)
        else:
            log.info("connected to %s:%s", self.config.host, self.config.port)
            self._connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()
        if reason_code.is_failure:
            log.warning("disconnected (%s); paho reconnects and resends", reason_code)

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._cond:
            self.stats.acknowledged += 1
            weight = self._weights.pop(mid, None)
            if weight is None:
                # The PUBACK beat publish() returning to us; settle it there.
                self._early.add(mid)
            else:
                self.stats.readings_acknowledged += weight
            self._cond.notify_all()

    # -- main thread -------------------------------------------------------

    @property
    def outstanding(self) -> int:
        """Messages published and not yet acknowledged."""
        with self._cond:
            return self.stats.published - self.stats.acknowledged

    def connect(self) -> None:
        """Connect and start the network thread; ``ConnectionError`` on failure."""
        cfg = self.config
        try:
            self._client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive)
        except OSError as exc:
            raise ConnectionError(f"cannot reach broker {cfg.host}:{cfg.port}: {exc}") from exc
        self._client.loop_start()
        deadline = time.monotonic() + cfg.connect_timeout_s
        while not self._connected.wait(0.05):
            if self._connect_error is not None or time.monotonic() > deadline:
                self._client.loop_stop()
                reason = self._connect_error or "no CONNACK in time"
                raise ConnectionError(f"broker {cfg.host}:{cfg.port}: {reason}")

    def _wait_capacity(self) -> None:
        limit = self.config.max_outstanding
        stop_seen: float | None = None
        with self._cond:
            while self.stats.published - self.stats.acknowledged >= limit:
                self._cond.wait(0.2)
                if self.stop.is_set():
                    now = time.monotonic()
                    stop_seen = stop_seen or now
                    if now - stop_seen > self.config.drain_timeout_s:
                        raise TimeoutError("no acknowledgements from the broker")

    def publish(self, topic: str, payload: bytes, readings: int = 0) -> bool:
        """Publish one QoS 1 message once the outstanding bound allows it.

        ``readings`` is how many readings the message carries (for the
        acknowledged-readings count).  Returns whether paho accepted it.
        """
        self._wait_capacity()
        info = self._client.publish(topic, payload, qos=1)
        accepted = info.rc in (
            MQTTErrorCode.MQTT_ERR_SUCCESS,
            MQTTErrorCode.MQTT_ERR_NO_CONN,
        )
        with self._cond:
            if not accepted:
                self.stats.failed += 1
                log.error("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
                return False
            self.stats.published += 1
            if info.mid in self._early:
                self._early.discard(info.mid)
                self.stats.readings_acknowledged += readings
            else:
                self._weights[info.mid] = readings
            outstanding = self.stats.published - self.stats.acknowledged
            if outstanding > self.stats.max_outstanding_seen:
                self.stats.max_outstanding_seen = outstanding
        return True

    def drain(self, timeout_s: float) -> bool:
        """Wait until every published message is acknowledged (or the timeout)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self.stats.published > self.stats.acknowledged:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
        return True

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()


class _Batcher:
    """Groups readings per tag into messages of up to ``batch`` readings."""

    def __init__(self, publisher: MqttPublisher, config: PublishConfig) -> None:
        self.publisher = publisher
        self.config = config
        self.topics: dict[str, str] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}

    def add(self, reading: Reading) -> None:
        """Queue one reading; send its tag's batch once full."""
        rows = self.pending.get(reading.tag)
        if rows is None:
            rows = self.pending[reading.tag] = []
        rows.append(reading_payload(reading))
        if len(rows) >= self.config.batch:
            self._send(reading.tag, rows)
            self.pending[reading.tag] = []

    def flush(self) -> None:
        """Send every partial batch."""
        for tag, rows in self.pending.items():
            if rows:
                self._send(tag, rows)
                self.pending[tag] = []

    def _send(self, tag: str, rows: list[dict[str, Any]]) -> None:
        topic = self.topics.get(tag)
        if topic is None:
            cfg = self.config
            topic = self.topics[tag] = reading_topic(cfg.prefix, cfg.site, tag)
        body = encode(rows[0]) if self.config.batch == 1 else encode(rows)
        if self.publisher.publish(topic, body, len(rows)):
            self.publisher.stats.readings += len(rows)


def _publish_events(
    sim: Simulation, publisher: MqttPublisher, config: PublishConfig, wall0: float
) -> float:
    """Publish the events of ``sim``; return the simulated time reached."""
    stop = publisher.stop
    stats = publisher.stats
    batcher = _Batcher(publisher, config)
    rate = config.rate
    live = sim.backfill_s  # the backfill goes out at once, unpaced
    for event in sim.events():
        if rate is not None and event.t > live:
            delay = wall0 + (event.t - live) / rate - time.monotonic()
            if delay > 0:
                batcher.flush()  # do not hold readings back while waiting
                stop.wait(delay)
        if stop.is_set():
            stats.stopped = True
            batcher.flush()
            return event.t
        stats.simulated_s = event.t
        if isinstance(event, Reading):
            batcher.add(event)
        elif isinstance(event, EnergyReading):
            topic = energy_topic(config.prefix, config.site, event.machine_id)
            if publisher.publish(topic, encode(event.payload)):
                stats.energy_readings += 1
        else:
            topic = tick_topic(config.prefix, config.site, event.machine_id)
            if publisher.publish(topic, encode(event.payload)):
                stats.ticks += 1
    batcher.flush()
    return sim.duration_s


def run(
    sim: Simulation,
    config: PublishConfig,
    *,
    labels_path: str | Path | None = None,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> PublishStats:
    """Publish ``sim`` according to ``config``; return the statistics.

    Parameters
    ----------
    sim
        The simulation to publish.
    config
        Broker and pacing.
    labels_path
        Where to write the ground-truth labels (clipped to the simulated
        time actually published).
    stop
        Set it to stop early (the CLI sets it on SIGINT/SIGTERM): generation
        ends, partial batches are sent and acknowledgements awaited.
    out
        Where to print the summary (nothing printed when ``None``).
    """
    publisher = MqttPublisher(config, stop)
    publisher.connect()
    stats = publisher.stats
    wall0 = time.monotonic()
    try:
        stats.simulated_s = _publish_events(sim, publisher, config, wall0)
    except TimeoutError as exc:
        log.error("giving up: %s", exc)
    finally:
        publisher.drain(config.drain_timeout_s)
        stats.elapsed_s = time.monotonic() - wall0
        publisher.close()
    if labels_path is not None:
        stats.labels = write_labels(labels_path, sim.labels(end_s=stats.simulated_s))
    if out is not None:
        print(stats.summary(), file=out)
        if labels_path is not None:
            print(f"labels: {stats.labels} -> {labels_path}", file=out)
        out.flush()
    return stats
