# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The methods the telemetry connector calls (see docs/contracts.md).

``ingest`` checks the call and each item's envelope (key, type, time),
answers a key it has seen as a duplicate and applies every other item in a
savepoint of its own, recording its key: the model that owns the item's data
checks and applies the data (its ``_cmms_ingest_<type>`` method, with the
helpers of ``ingest_validation``).
"""

import hashlib
import json
import logging

import psycopg2
import psycopg2.errors
from psycopg2 import errorcodes

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .ingest_validation import (
    MAX_INT,
    # Quoted by the tests from here, as the other limits of a call.
    MAX_REASON_CHARS,  # noqa: F401
    REASON_VALUE_CHARS,  # noqa: F401
    IngestBatch,
    ItemRejected,
    parse_ts,
    reason,
    scan,
    short,
)
from .telemetry_tools import (
    connector_rules,
    get_param,
    user_in_groups,
)

_logger = logging.getLogger(__name__)

MAX_BATCH = 5000
# The items of one call as compact JSON (UTF-8), counted before anything is written.
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_KEY_LENGTH = 255
ALERT_ITEMS = ("alert_raised", "alert_active", "alert_cleared")
# The model that checks and applies each kind of data item: its
# ``_cmms_ingest_<type>(ts, data, batch)`` method; reading aggregates are
# checked one by one (``_cmms_ingest_vals``) and written together
# (``_cmms_ingest_bulk``).
DATA_MODELS = {
    "reading_agg": "cmms.reading",
    "health_snapshot": "cmms.health.snapshot",
    "oee_record": "cmms.oee.record",
    "downtime_event": "cmms.downtime.event",
    "prediction": "cmms.prediction",
    "model_version": "cmms.model.version",
    "energy": "cmms.energy.reading",
    "meter_reading": "cmms.meter",
    "job_update": "cmms.connector.job",
}
DATA_ITEMS = tuple(DATA_MODELS)
ITEM_TYPES = (*ALERT_ITEMS, "heartbeat", *DATA_ITEMS)
# Items that change what the telemetry dashboard and the line view show.
DASHBOARD_ITEMS = (*ALERT_ITEMS, "reading_agg", "health_snapshot", "oee_record", "downtime_event")


class ConcurrentIngest(psycopg2.errors.SerializationFailure):
    """Makes Odoo's RPC layer roll back and replay the whole ingest call."""

    pgcode = errorcodes.SERIALIZATION_FAILURE


def _reply_key(item):
    """The key a reply names an item by: its own when usable, else False.

    Usable: a string of 1 to ``MAX_KEY_LENGTH`` characters that every
    protocol and the database carry (no NUL, no unpaired surrogate).
    """
    key = item.get("key") if isinstance(item, dict) else None
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        return False
    return key if scan(key, 4 * MAX_KEY_LENGTH)[1] is None else False


class CmmsTelemetryApi(models.AbstractModel):
    _name = "cmms.telemetry.api"
    _description = "Telemetry connector API"

    @api.model
    def _check_connector(self):
        if not user_in_groups(self.env, ("cmms_telemetry.cmms_telemetry_group_connector",)):
            raise AccessError(
                self.env._("Only a telemetry connector user may call the telemetry API.")
            )

    @api.model
    def get_connector_config(self):
        """Everything the connector needs, with a version stamp.

        Returns
        -------
        dict
            ``{"version": str, "sensors": [...], "health_thresholds": {...},
            "flexo_rules": {...}}``
            as documented in docs/contracts.md; each sensor carries its
            active anomaly ``model_version`` (or false). An unset value is
            false, never None (XML-RPC carries no None).
        """
        self._check_connector()
        sensors = self.env["cmms.sensor"].sudo().search([])
        rules = connector_rules(
            get_param(self.env, "oee_availability_basis"),
            get_param(self.env, "oee_fault_below"),
            get_param(self.env, "oee_warning_below"),
        )
        digest = hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:8]
        return {
            "version": f"{sensors._config_version()}|{digest}",
            "sensors": [sensor._connector_settings() for sensor in sensors],
            "health_thresholds": self.env["cmms.health.threshold"].sudo()._connector_thresholds(),
            "flexo_rules": rules,
        }

    @api.model
    def claim_jobs(self, connector_id, running=None, limit=1):
        """Hand queued connector jobs to the calling connector.

        Parameters
        ----------
        connector_id : str
            The connector's id (its heartbeats' ``connector_id``).
        running : list of int
            Ids of the jobs the connector is running now: their leases are
            renewed. A job it claimed before and does not list is one it lost
            by restarting: it is handed over again (a new attempt).
        limit : int
            At most this many new jobs (1 to 10).

        Returns
        -------
        list of dict
            One spec per claimed job (docs/contracts.md): ``job_id``,
            ``key``, ``type``, ``attempt`` and the job's inputs.
        """
        self._check_connector()
        if not isinstance(connector_id, str) or not 0 < len(connector_id.strip()) <= 64:
            raise UserError(self.env._("claim_jobs() needs the connector id (1-64 characters)."))
        running = running or []
        if not isinstance(running, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_INT for i in running
        ):
            raise UserError(self.env._("claim_jobs(): running is a list of job ids."))
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10:
            raise UserError(self.env._("claim_jobs(): limit lies between 1 and 10."))
        return self.env["cmms.connector.job"].sudo()._claim(connector_id.strip(), running, limit)

    @api.model
    def ingest(self, items):
        """Apply a batch of typed items, each at most once.

        Parameters
        ----------
        items : list of dict
            ``{"key", "type", "ts", "data"}`` items (docs/contracts.md).

        Returns
        -------
        dict
            ``{"results": [{"key", "status", "reason"?, "computed"?}, ...]}``
            in the order of ``items``; status is accepted, duplicate or
            rejected; ``key`` is false for an item without a usable key.
            No value is None (XML-RPC carries no None).

        Raises
        ------
        UserError
            When ``items`` is not a list, or holds more than ``MAX_BATCH``
            items or ``MAX_BATCH_BYTES`` bytes: nothing is written.
        """
        self._check_connector()
        problems = self._check_batch(items)
        keys = [
            item["key"]
            for item, problem in zip(items, problems, strict=True)
            if problem is None and isinstance(item, dict) and _reply_key(item)
        ]
        Key = self.env["cmms.ingest.key"].sudo()
        Reading = self.env["cmms.reading"]
        seen = set(Key.search([("key", "in", keys)]).mapped("key")) if keys else set()
        batch = IngestBatch(self.env)
        results = []
        aggs = []  # validated reading aggregates, written together below
        changed = {"kinds": set(), "sensor_ids": set(), "equipment_ids": set()}
        for item, problem in zip(items, problems, strict=True):
            key = _reply_key(item)
            result = {"key": key}
            if isinstance(item, dict):
                item = dict(item)  # validation notes the parsed time: not on the caller's item
            try:
                self._validate_item(item, problem)
                if key in seen:
                    result["status"] = "duplicate"
                elif item["type"] == "reading_agg":
                    aggs.append((key, Reading._cmms_ingest_vals(item["data"], batch)))
                    seen.add(key)
                    result["status"] = "accepted"
                else:
                    with self.env.cr.savepoint():
                        record, computed = self._apply_item(item, batch)
                        Key.create(
                            {
                                "key": key,
                                "item_type": item["type"],
                                "alert_id": record.id
                                if record and record._name == "cmms.alert"
                                else False,
                                "res_model": record._name if record else False,
                                "res_id": record.id if record else False,
                            }
                        )
                    seen.add(key)
                    self._note_change(changed, item["type"], record)
                    result["status"] = "accepted"
                    if computed:
                        result["computed"] = computed
            except ItemRejected as exc:
                result.update(status="rejected", reason=reason(exc))
            except psycopg2.IntegrityError as exc:
                # A concurrent call (a stale request and its retry) applied
                # the same key or opened the same alert after this
                # transaction's snapshot: its view is stale, so the whole
                # call is replayed on fresh data by Odoo's retry loop, where
                # the items already applied answer "duplicate".
                raise ConcurrentIngest(str(exc)) from exc
            except (UserError, ValidationError) as exc:
                result.update(status="rejected", reason=reason(exc))
            except (TypeError, ValueError, OverflowError) as exc:
                # Malformed data that no check above caught: still this item only
                # (a write in progress was rolled back with its savepoint).
                _logger.info("ingest: item %s refused: %r", short(key), exc)
                result.update(status="rejected", reason=reason(f"malformed item: {exc}"))
            results.append(result)
        if aggs:
            self._apply_reading_aggs_bulk(aggs, changed)
        rejected = sum(1 for r in results if r["status"] == "rejected")
        if rejected:
            _logger.info("ingest: %s of %s items rejected", rejected, len(items))
        if changed["kinds"]:
            # One notification per call, whatever the size of the batch.
            self.env["cmms.telemetry.dashboard"]._notify_update(**changed)
        return {"results": results}

    @api.model
    def _note_change(self, changed, kind, record):
        """Remember what an accepted item changed on the telemetry dashboard."""
        if kind not in DASHBOARD_ITEMS or not record:
            return
        changed["kinds"].add(kind)
        if record._name == "cmms.reading":
            changed["sensor_ids"].add(record.sensor_id.id)
            changed["equipment_ids"].add(record.sensor_id.equipment_id.id)
        elif record._name == "cmms.alert":
            changed["sensor_ids"].update(record.sensor_id.ids)
            changed["equipment_ids"].add(record.equipment_id.id)
        else:
            changed["equipment_ids"].add(record.equipment_id.id)

    @api.model
    def _check_batch(self, items):
        """Refuse a whole call that is not a list or exceeds a limit.

        Returns
        -------
        list
            Per item, why it cannot be stored (see ``ingest_validation.scan``) or None.
        """
        if not isinstance(items, list):
            raise UserError(self.env._("ingest() takes a list of items."))
        if len(items) > MAX_BATCH:
            raise UserError(
                self.env._(
                    "A batch holds at most %(max)s items, this one %(count)s.",
                    max=MAX_BATCH,
                    count=len(items),
                )
            )
        budget = MAX_BATCH_BYTES
        problems = []
        for item in items:
            size, problem = scan(item, budget)
            budget -= size
            if budget < 0:
                raise UserError(
                    self.env._(
                        "A batch holds at most %(max)s bytes of items (as JSON), this one "
                        "more: send fewer items per call.",
                        max=MAX_BATCH_BYTES,
                    )
                )
            problems.append(problem)
        return problems

    @api.model
    def _validate_item(self, item, problem=None):
        if not isinstance(item, dict):
            raise ItemRejected("an item must be an object")
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            raise ItemRejected("key is missing")
        if len(key) > MAX_KEY_LENGTH:
            raise ItemRejected(f"key is longer than {MAX_KEY_LENGTH} characters")
        if problem:
            raise ItemRejected(problem)
        if item.get("type") not in ITEM_TYPES:
            raise ItemRejected(f"unknown item type {short(item.get('type'))}")
        if not isinstance(item.get("data"), dict):
            raise ItemRejected("data must be an object")
        item["_ts"] = parse_ts(item.get("ts"))

    @api.model
    def _apply_item(self, item, batch):
        """Apply one valid item; return ``(record, computed values or None)``."""
        kind, ts, data = item["type"], item["_ts"], item["data"]
        if kind in ALERT_ITEMS:
            return self.env["cmms.alert"]._cmms_ingest_alert(kind, ts, data, batch)
        if kind == "heartbeat":
            return self.env["cmms.connector"]._cmms_ingest_heartbeat(ts, data, batch)
        return getattr(self.env[DATA_MODELS[kind]], f"_cmms_ingest_{kind}")(ts, data, batch)

    @api.model
    def _apply_reading_aggs_bulk(self, pending, changed):
        """Apply validated ``reading_agg`` items of one call together.

        The readings are stored together (``cmms.reading._cmms_ingest_bulk``)
        and their keys recorded with one create, instead of a savepoint, a
        search and two inserts per item. Every item was validated before: a
        database conflict here comes from a concurrent call, and the whole
        call is replayed.
        """
        try:
            with self.env.cr.savepoint():
                readings = self.env["cmms.reading"]._cmms_ingest_bulk(
                    [vals for _key, vals in pending]
                )
                self.env["cmms.ingest.key"].sudo().create(
                    [
                        {
                            "key": key,
                            "item_type": "reading_agg",
                            "res_model": "cmms.reading",
                            "res_id": reading.id,
                        }
                        for (key, _vals), reading in zip(pending, readings, strict=True)
                    ]
                )
        except psycopg2.IntegrityError as exc:
            raise ConcurrentIngest(str(exc)) from exc
        for reading in dict.fromkeys(readings):
            self._note_change(changed, "reading_agg", reading)
