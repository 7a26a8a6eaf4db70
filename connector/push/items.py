"""Outbox items: what the connector sends to Odoo's ``ingest`` method.

Shapes follow ``docs/contracts.md``::

    {"key": "<idempotency key, <= 255 chars>",
     "type": "alert_raised" | "alert_active" | "alert_cleared" | "heartbeat"
             | "reading_agg" | "health_snapshot" | "oee_record" | "downtime_event"
             | "prediction" | "energy" | "meter_reading" | "job_update",
     "ts": "2026-11-22T08:00:00Z",
     "data": {...}}

``data`` by type, and the key (every key is deterministic, so a replay
after a crash produces the same items):

``alert_*`` (:mod:`connector.detect.alerts`)
    ``{"tag", "alert_type", "severity", "value", "message"}``;
    ``<tag>:<alert_type>:<raised ts>:raised|active:<n>|cleared``.
``heartbeat``
    ``{"connector_id", "mqtt_connected", "backlog", "readings_per_s",
    "dead_letters", "heartbeat_interval_s"}``; ``heartbeat:<connector_id>:<ts>``.
``reading_agg`` (:mod:`connector.store.history`)
    ``{"tag", "resolution": "minute", "period_start", "min", "max", "mean",
    "last", "count"}``; ``agg:<tag>:<period_start>`` (``:r<n>`` for the
    n-th revision of a minute that received late readings).
``health_snapshot`` (:mod:`connector.flexo.engine`, one per component)
    ``{"tag": <component equipment tag>, "score": 0-100,
    "metrics": {<metric>: 0-100} | null, "recommendations": [str]}``;
    ``health:<machine_id>:<component>:<tick ts>``.
``oee_record`` (one per closed shift, and provisional ones of the running shift)
    ``{"machine", "shift", "period_start", "period_end", "run_min",
    "downtime_min", "produced", "good", "rejected", "design_speed",
    "actual_speed", "running"?}``; ``oee:<machine_id>:<shift>:<period_start>``
    when the shift closes, ``...:<period_start>:running:<n>`` for the n-th
    provisional record of the running shift (``"running": true``, every
    snapshot interval); Odoo keeps one record per machine and period start.
``downtime_event`` (one per stop of a tick)
    ``{"machine", "reason", "start", "duration_min", "component"?}``;
    ``downtime:<machine_id>:<start>:<component or reason>``.
``prediction`` (a component's band drops to warning or critical)
    ``{"tag", "component", "inputs": {"component", "shift_produced",
    "shift_reject"}, "predicted_hours", "model_version", "recommendation"}``;
    ``prediction:<machine_id>:<component>:<tick ts>``.
``energy`` (:mod:`connector.energy`, one per machine and period)
    ``{"machine", "period_start", "period_end", "kwh", "produced"?}``;
    ``energy:<machine_id>:<period_start>`` (``:r<n>`` for the n-th revision
    of a period whose units arrived after it was reported).
``meter_reading`` (:mod:`connector.flexo.engine`, every ``meter_interval_s``)
    ``{"machine", "meter": "run_hours" | "produced_units", "increment"}``;
    ``meter:<machine_id>:<meter>:<tick ts>``.
``job_update`` (:mod:`connector.jobs`, a job Odoo asked for)
    ``{"job_id", "attempt", "state": "running" | "done" | "failed",
    "progress", "message"?, "error"?, "result"?, "prediction"? |
    "model_version"?}``; ``job:<id>:<attempt>:<step>`` while running,
    ``job:<id>:result`` for the one outcome.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..util import iso_utc

MAX_KEY = 255

ALERT_RAISED = "alert_raised"
ALERT_ACTIVE = "alert_active"
ALERT_CLEARED = "alert_cleared"
HEARTBEAT = "heartbeat"
READING_AGG = "reading_agg"
HEALTH_SNAPSHOT = "health_snapshot"
OEE_RECORD = "oee_record"
DOWNTIME_EVENT = "downtime_event"
PREDICTION = "prediction"
ENERGY = "energy"
METER_READING = "meter_reading"
JOB_UPDATE = "job_update"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One item for ``cmms.telemetry.api.ingest``.

    Attributes
    ----------
    key : str
        Deterministic idempotency key (at most 255 characters).
    type : str
        Item type, e.g. ``alert_raised``.
    ts : str
        ISO 8601 UTC time of what the item reports.
    data : dict
        Type-specific content (JSON-serialisable).
    """

    key: str
    type: str
    ts: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_rpc(self) -> dict[str, Any]:
        """Return the dict sent over JSON-RPC."""
        return {"key": self.key, "type": self.type, "ts": self.ts, "data": self.data}


def make_key(*parts: object) -> str:
    """Join *parts* with ``:`` into an idempotency key of at most 255 characters.

    A key that would be longer keeps its first 200 characters and appends a
    SHA-256 digest of the whole, so it stays unique and deterministic.

    Examples
    --------
    >>> make_key("PT-101", "rule_violation", "2026-11-22T08:00:00Z", "raised")
    'PT-101:rule_violation:2026-11-22T08:00:00Z:raised'
    """
    key = ":".join(str(p) for p in parts)
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[:200]}~{digest[:54]}"


def heartbeat_item(
    connector_id: str,
    now: float,
    *,
    mqtt_connected: bool,
    backlog: int,
    readings_per_s: float,
    dead_letters: int,
    heartbeat_interval_s: float | None = None,
) -> OutboxItem:
    """Build a ``heartbeat`` item (key ``heartbeat:<connector_id>:<ts>``).

    *heartbeat_interval_s* (how often heartbeats are sent) lets Odoo tell a
    silent connector; it is left out when not positive.
    """
    ts = iso_utc(now)
    data: dict[str, Any] = {
        "connector_id": connector_id,
        "mqtt_connected": bool(mqtt_connected),
        "backlog": int(backlog),
        "readings_per_s": round(float(readings_per_s), 3),
        "dead_letters": int(dead_letters),
    }
    if heartbeat_interval_s is not None and heartbeat_interval_s > 0:
        data["heartbeat_interval_s"] = float(heartbeat_interval_s)
    return OutboxItem(
        key=make_key("heartbeat", connector_id, ts),
        type=HEARTBEAT,
        ts=ts,
        data=data,
    )
