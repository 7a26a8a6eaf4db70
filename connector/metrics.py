"""Prometheus metrics of the connector (``GET /metrics`` on the health port).

The values are read when Prometheus scrapes, from a :class:`Snapshot` the
service fills in (counters of the pipeline and the pusher, indexed counts
from the store), so the hot path updates nothing but its own counters. Only
the push duration is a real :class:`~prometheus_client.Histogram`, observed
around each ``ingest`` call by :class:`TimedOdoo`.

==================================================  =======  ====================================
metric                                              type     what
==================================================  =======  ====================================
``cmms_connector_info``                             gauge    1, labels connector_id, config_version
``cmms_connector_readings_received_total``          counter  readings stored (duplicates excluded)
``cmms_connector_readings_duplicate_total``         counter  redelivered readings recognised
``cmms_connector_ticks_received_total``             counter  FLEXO ticks stored
``cmms_connector_meter_readings_received_total``    counter  energy meter readings counted
``cmms_connector_meter_resets_total``               counter  energy meter counter resets seen
``cmms_connector_dead_letters_total``               counter  refused messages, label ``kind``
``cmms_connector_outbox_items``                     gauge    items by ``status``: pending, rejected
``cmms_connector_outbox_sent_total``                counter  items Odoo took (accepted/duplicate)
``cmms_connector_outbox_rejected_total``            counter  items Odoo rejected
``cmms_connector_outbox_oldest_pending_seconds``    gauge    age of the oldest pending item
``cmms_connector_push_duration_seconds``            histo.   duration of one ``ingest`` call
``cmms_connector_push_errors_total``                counter  ``ingest`` calls that failed
``cmms_connector_mqtt_connected``                   gauge    1 when connected and subscribed
``cmms_connector_odoo_reachable``                   gauge    1 when the last push went through
``cmms_connector_sensors``                          gauge    sensors in the configuration
``cmms_connector_silent_tags``                      gauge    sensors with an active data gap
``cmms_connector_open_alerts``                      gauge    alerts raised and not cleared
``cmms_connector_readings_per_second``              gauge    rate over the last heartbeat
``cmms_connector_history_minutes_total``            counter  minutes aggregated
``cmms_connector_history_compaction_seconds``       gauge    duration of the last compaction
``cmms_flexo_health_score``                         gauge    labels machine, component
``cmms_flexo_oee_provisional_percent``              gauge    running shift, label machine
``cmms_flexo_system_status``                        gauge    1 for the machine's current status
==================================================  =======  ====================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

PUSH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATUSES = ("NORMAL", "WARNING", "FAULT")


@dataclass(slots=True)
class MachineHealth:
    """The last assessment of one FLEXO machine."""

    scores: dict[str, float] = field(default_factory=dict)
    oee_pct: float | None = None
    status: str | None = None


@dataclass(slots=True)
class Snapshot:
    """Everything the collector exposes, read at scrape time."""

    connector_id: str = ""
    config_version: str | None = None
    readings: int = 0
    duplicates: int = 0
    ticks: int = 0
    meter_readings: int = 0
    meter_resets: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_rejected: int = 0
    outbox_oldest_age_s: float = 0.0
    sent_total: int = 0
    rejected_total: int = 0
    mqtt_connected: bool = False
    odoo_reachable: bool | None = None
    sensors: int = 0
    silent_tags: int = 0
    open_alerts: int = 0
    readings_per_s: float = 0.0
    history_minutes: int = 0
    history_seconds: float = 0.0
    machines: dict[str, MachineHealth] = field(default_factory=dict)


class SnapshotCollector(Collector):
    """Turns a :class:`Snapshot` into metric families on each scrape."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.snapshot = snapshot

    def describe(self) -> list[Metric]:
        """No fixed description: the families are built at scrape time."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families of the current snapshot."""
        s = self.snapshot()
        info = GaugeMetricFamily(
            "cmms_connector_info", "Connector id and configuration version.",
            labels=["connector_id", "config_version"],
        )  # fmt: skip
        info.add_metric([s.connector_id, s.config_version or ""], 1.0)
        yield info
        yield _counter("readings_received", "Readings stored (duplicates excluded).", s.readings)
        yield _counter("readings_duplicate", "Redelivered readings recognised.", s.duplicates)
        yield _counter("ticks_received", "FLEXO ticks stored.", s.ticks)
        yield _counter(
            "meter_readings_received", "Energy meter readings counted.", s.meter_readings
        )
        yield _counter("meter_resets", "Energy meter counter resets seen.", s.meter_resets)
        dead = CounterMetricFamily(
            "cmms_connector_dead_letters", "Refused messages by kind.", labels=["kind"]
        )
        for kind, count in sorted(s.dead_letters.items()):
            dead.add_metric([kind], float(count))
        yield dead
        outbox = GaugeMetricFamily(
            "cmms_connector_outbox_items", "Outbox items by status.", labels=["status"]
        )
        outbox.add_metric(["pending"], float(s.outbox_pending))
        outbox.add_metric(["rejected"], float(s.outbox_rejected))
        yield outbox
        yield _counter("outbox_sent", "Items Odoo accepted or had already.", s.sent_total)
        yield _counter("outbox_rejected", "Items Odoo rejected.", s.rejected_total)
        yield _gauge(
            "outbox_oldest_pending_seconds",
            "Age of the oldest pending item.",
            s.outbox_oldest_age_s,
        )
        yield _gauge("mqtt_connected", "1 when connected and subscribed.", s.mqtt_connected)
        yield _gauge("odoo_reachable", "1 when the last push reached Odoo.", bool(s.odoo_reachable))
        yield _gauge("sensors", "Sensors in the configuration.", s.sensors)
        yield _gauge("silent_tags", "Sensors with an active data gap.", s.silent_tags)
        yield _gauge("open_alerts", "Alerts raised and not cleared.", s.open_alerts)
        yield _gauge(
            "readings_per_second", "Readings per second over the last heartbeat.", s.readings_per_s
        )
        yield _counter("history_minutes", "Minute aggregates written.", s.history_minutes)
        yield _gauge(
            "history_compaction_seconds", "Duration of the last compaction.", s.history_seconds
        )
        score = GaugeMetricFamily(
            "cmms_flexo_health_score", "Component health (0-100).", labels=["machine", "component"]
        )
        oee = GaugeMetricFamily(
            "cmms_flexo_oee_provisional_percent",
            "Provisional OEE of the running shift (Odoo computes the official one).",
            labels=["machine"],
        )
        status = GaugeMetricFamily(
            "cmms_flexo_system_status", "1 for the machine's status.", labels=["machine", "status"]
        )
        for machine, health in sorted(s.machines.items()):
            for component, value in sorted(health.scores.items()):
                score.add_metric([machine, component], value)
            if health.oee_pct is not None:
                oee.add_metric([machine], health.oee_pct)
            for name in STATUSES:
                status.add_metric([machine, name], float(health.status == name))
        yield score
        yield oee
        yield status


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"cmms_connector_{name}", doc, value=float(value))


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"cmms_connector_{name}", doc, value=float(value))


class ConnectorMetrics:
    """The registry of one connector: the snapshot collector plus push timing.

    Parameters
    ----------
    snapshot : callable
        Returns the current :class:`Snapshot`.
    """

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(SnapshotCollector(snapshot))
        self.push_seconds = Histogram(
            "cmms_connector_push_duration_seconds",
            "Duration of one ingest call to Odoo.",
            buckets=PUSH_BUCKETS,
            registry=self.registry,
        )
        self.push_errors = Counter(
            "cmms_connector_push_errors", "Ingest calls that failed.", registry=self.registry
        )

    def render(self) -> tuple[bytes, str]:
        """Return the exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class TimedOdoo:
    """Wraps an Odoo client: times ``ingest`` calls, passes the rest through."""

    def __init__(self, client: Any, metrics: ConnectorMetrics) -> None:
        self._client = client
        self._metrics = metrics

    def ingest(self, items: list[dict[str, Any]]) -> Any:
        """Call the wrapped client's ``ingest`` and record its duration."""
        start = time.perf_counter()
        try:
            return self._client.ingest(items)
        except Exception:
            self._metrics.push_errors.inc()
            raise
        finally:
            self._metrics.push_seconds.observe(time.perf_counter() - start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def machines_of(latest: Mapping[str, Any]) -> dict[str, MachineHealth]:
    """:class:`MachineHealth` of each machine from the pipeline's assessments."""
    out: dict[str, MachineHealth] = {}
    for machine, assessment in list(latest.items()):
        out[machine] = MachineHealth(
            {c: h.score for c, h in assessment.components.items()},
            assessment.oee_pct,
            assessment.status,
        )
    return out
