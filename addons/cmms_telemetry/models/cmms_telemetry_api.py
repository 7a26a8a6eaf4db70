# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The methods the telemetry connector calls (see docs/contracts.md)."""

import hashlib
import json
import logging
import math
import reprlib
from datetime import UTC, datetime

import psycopg2
import psycopg2.errors
from psycopg2 import errorcodes

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .cmms_alert import ALERT_TYPES
from .cmms_alert_policy import SEVERITIES
from .cmms_connector_job import JOB_STATES
from .cmms_downtime_reason import normalize_code
from .cmms_reading import RESOLUTIONS
from .telemetry_tools import (
    COMPONENT_CODE_RE,
    MAX_DOWNTIME_MIN,
    MAX_PREDICTED_HOURS,
    MAX_RECOMMENDATIONS,
    connector_rules,
    get_param,
)

_logger = logging.getLogger(__name__)

MAX_BATCH = 5000
# The items of one call as compact JSON (UTF-8), counted before anything is written.
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_KEY_LENGTH = 255
# Lists and objects nested inside one item.
MAX_DEPTH = 16
# A whole number stored in an integer column (PostgreSQL integer).
MAX_INT = 2**31 - 1
# Rejection reasons quote offending values cut to this many characters.
REASON_VALUE_CHARS = 40
MAX_REASON_CHARS = 300
MAX_JSON_CHARS = 16000
MAX_METRICS = 100
MAX_ENERGY_PERIOD_S = 31 * 24 * 3600.0
ALERT_ITEMS = ("alert_raised", "alert_active", "alert_cleared")
DATA_ITEMS = (
    "reading_agg",
    "health_snapshot",
    "oee_record",
    "downtime_event",
    "prediction",
    "model_version",
    "energy",
    "meter_reading",
    "job_update",
)
ITEM_TYPES = (*ALERT_ITEMS, "heartbeat", *DATA_ITEMS)
# Items that change what the telemetry dashboard and the line view show.
DASHBOARD_ITEMS = (*ALERT_ITEMS, "reading_agg", "health_snapshot", "oee_record", "downtime_event")
# A period of each resolution starts on a whole minute, hour or day.
ALIGNMENT = {
    "minute": {"second": 0, "microsecond": 0},
    "hour": {"minute": 0, "second": 0, "microsecond": 0},
    "day": {"hour": 0, "minute": 0, "second": 0, "microsecond": 0},
}


class ConcurrentIngest(psycopg2.errors.SerializationFailure):
    """Makes Odoo's RPC layer roll back and replay the whole ingest call."""

    pgcode = errorcodes.SERIALIZATION_FAILURE


class ItemRejected(Exception):
    """An item that cannot be applied; its message is the reason."""


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = REASON_VALUE_CHARS
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 3, 3


def _short(value):
    """``repr(value)`` cut to a few dozen characters, for a rejection reason."""
    try:
        return _SHORT.repr(value)
    except ValueError:  # an integer too long to print
        return "a very long number"


def _reply_key(item):
    """The key a reply names an item by: its own when usable, else False.

    Usable: a string of 1 to ``MAX_KEY_LENGTH`` characters that every
    protocol and the database carry (no NUL, no unpaired surrogate).
    """
    key = item.get("key") if isinstance(item, dict) else None
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        return False
    return key if _scan(key, 4 * MAX_KEY_LENGTH)[1] is None else False


def _reason(text):
    """A rejection reason of bounded length (exception texts may quote values)."""
    text = str(text)
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def _scan(item, budget):
    """The size of ``item`` as compact JSON and the first reason it cannot be stored.

    Walks the item without recursion and stops counting past ``budget``
    bytes. The reason (or None) covers what the database or a protocol
    cannot hold: other types than JSON's, nesting deeper than
    ``MAX_DEPTH``, whole numbers beyond 64 bits, NUL characters and
    unpaired surrogates in strings, keys that are not strings.
    """
    size, problem = 0, None
    stack = [(item, 0)]
    while stack and size <= budget:
        value, depth = stack.pop()
        size += 1  # a separator
        if isinstance(value, str):
            size += len(value) + 2
            if problem is None and "\x00" in value:
                problem = "a string holds a NUL character"
            elif problem is None and not value.isascii():
                try:
                    size += len(value.encode()) - len(value)
                except UnicodeEncodeError:
                    problem = "a string holds an unpaired surrogate"
        elif value is None or isinstance(value, bool | float):
            size += 5
        elif isinstance(value, int):
            size += value.bit_length() // 3 + 1
            if problem is None and value.bit_length() > 63:
                problem = "a whole number is out of range"
        elif isinstance(value, dict | list):
            size += 2
            if problem is None and depth >= MAX_DEPTH:
                problem = f"lists and objects are nested more than {MAX_DEPTH} deep"
            if isinstance(value, dict):
                if problem is None and not all(isinstance(name, str) for name in value):
                    problem = "an object key is not a string"
                stack.extend((name, depth + 1) for name in value)
                stack.extend((inner, depth + 1) for inner in value.values())
            else:
                stack.extend((inner, depth + 1) for inner in value)
        elif problem is None:
            problem = (
                f"a {type(value).__name__} value is not JSON (strings, numbers, true, "
                "false, null, lists and objects)"
            )
    return size, problem


def _choice(value, choices, name):
    """``value`` when it is one of ``choices`` (a selection's keys)."""
    if not isinstance(value, str) or value not in choices:
        raise ItemRejected(f"unknown {name} {_short(value)}")
    return value


def _parse_ts(value, name="ts"):
    """ISO 8601 or epoch seconds -> naive UTC datetime."""
    if isinstance(value, bool) or value is None:
        raise ItemRejected(f"{name} is missing")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ItemRejected(f"{name} is not finite")
        try:
            return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError) as exc:
            raise ItemRejected(f"{name} {_short(value)} is out of range") from exc
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except ValueError as exc:
            raise ItemRejected(f"{name} {_short(value)} is not ISO 8601") from exc
        except OverflowError as exc:
            raise ItemRejected(f"{name} {_short(value)} is out of range") from exc
        return parsed
    raise ItemRejected(f"{name} must be an ISO 8601 string or epoch seconds")


def _number(
    data,
    name,
    *,
    required=True,
    default=None,
    minimum=None,
    maximum=None,
    above=None,
    integer=False,
):
    """``data[name]`` as a finite number within its bounds (``above`` is exclusive)."""
    value = data.get(name)
    if value is None:
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ItemRejected(f"data.{name} must be a number")
    if not math.isfinite(value):
        raise ItemRejected(f"data.{name} must be finite")
    if integer and isinstance(value, float) and not value.is_integer():
        raise ItemRejected(f"data.{name} must be a whole number")
    if integer and abs(value) > MAX_INT:
        raise ItemRejected(f"data.{name} must be at most {MAX_INT} in magnitude")
    if minimum is not None and value < minimum:
        raise ItemRejected(f"data.{name} must be at least {minimum}")
    if above is not None and value <= above:
        raise ItemRejected(f"data.{name} must be above {above}")
    if maximum is not None and value > maximum:
        raise ItemRejected(f"data.{name} must be at most {maximum}")
    return int(value) if integer else float(value)


def _text(data, name, *, required=True, max_length=255):
    """``data[name]`` as a non-empty string of at most ``max_length`` characters."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return None
    if not isinstance(value, str):
        raise ItemRejected(f"data.{name} must be a string")
    value = value.strip()
    if not value:
        raise ItemRejected(f"data.{name} is blank")
    if len(value) > max_length:
        raise ItemRejected(f"data.{name} is longer than {max_length} characters")
    return value


def _time(data, name, *, required=True, default=None):
    """``data[name]`` as a naive UTC datetime."""
    if data.get(name) is None:
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return default
    return _parse_ts(data[name], f"data.{name}")


def _object(data, name, *, required=False):
    """``data[name]`` as a JSON object of bounded size."""
    value = data.get(name)
    if value is None:
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return None
    if not isinstance(value, dict):
        raise ItemRejected(f"data.{name} must be an object")
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ItemRejected(f"data.{name} must hold plain, finite JSON values") from exc
    if size > MAX_JSON_CHARS:
        raise ItemRejected(f"data.{name} is larger than {MAX_JSON_CHARS} characters")
    return value


def _within(value, low, high, name):
    """``value`` clamped into [low, high] when it is off by rounding only."""
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    if not low - tolerance <= value <= high + tolerance:
        raise ItemRejected(f"data.{name} lies outside [data.min, data.max]")
    return min(max(value, low), high)


class CmmsTelemetryApi(models.AbstractModel):
    _name = "cmms.telemetry.api"
    _description = "Telemetry connector API"

    @api.model
    def _check_connector(self):
        if not (
            self.env.is_superuser()
            or self.env.user.has_group("cmms_telemetry.cmms_telemetry_group_connector")
        ):
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
        seen = set(Key.search([("key", "in", keys)]).mapped("key")) if keys else set()
        cache = {}
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
                    aggs.append((key, self._reading_agg_vals(item["data"], cache)))
                    seen.add(key)
                    result["status"] = "accepted"
                else:
                    with self.env.cr.savepoint():
                        record, computed = self._apply_item(item, cache)
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
                result.update(status="rejected", reason=_reason(exc))
            except psycopg2.IntegrityError as exc:
                # A concurrent call (a stale request and its retry) applied
                # the same key or opened the same alert after this
                # transaction's snapshot: its view is stale, so the whole
                # call is replayed on fresh data by Odoo's retry loop, where
                # the items already applied answer "duplicate".
                raise ConcurrentIngest(str(exc)) from exc
            except (UserError, ValidationError) as exc:
                result.update(status="rejected", reason=_reason(exc))
            except (TypeError, ValueError, OverflowError) as exc:
                # Malformed data that no check above caught: still this item only
                # (a write in progress was rolled back with its savepoint).
                _logger.info("ingest: item %s refused: %r", _short(key), exc)
                result.update(status="rejected", reason=_reason(f"malformed item: {exc}"))
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
            Per item, why it cannot be stored (see ``_scan``) or None.
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
            size, problem = _scan(item, budget)
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
            raise ItemRejected(f"unknown item type {_short(item.get('type'))}")
        if not isinstance(item.get("data"), dict):
            raise ItemRejected("data must be an object")
        item["_ts"] = _parse_ts(item.get("ts"))

    @api.model
    def _apply_item(self, item, cache=None):
        """Apply one valid item; return ``(record, computed values or None)``."""
        cache = {} if cache is None else cache
        kind, ts, data = item["type"], item["_ts"], item["data"]
        if kind in ALERT_ITEMS:
            return self._apply_alert(kind, ts, data), None
        if kind == "heartbeat":
            return self._apply_heartbeat(ts, data), None
        return getattr(self, f"_apply_{kind}")(ts, data, cache)

    # -- lookups -------------------------------------------------------------

    @api.model
    def _sensor(self, tag, cache, name="tag"):
        if ("sensor", tag) not in cache:
            Sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
            cache["sensor", tag] = Sensor.search([("tag", "=", tag)], limit=1)
        sensor = cache["sensor", tag]
        if not sensor:
            raise ItemRejected(f"no sensor with data.{name} {_short(tag)}")
        return sensor

    @api.model
    def _equipment(self, tag, cache, name="tag"):
        """The equipment of that tag, or the equipment of the sensor of that tag."""
        if ("equipment", tag) not in cache:
            equipment = (
                self.env["maintenance.equipment"].sudo().search([("cmms_tag", "=", tag)], limit=1)
            )
            if not equipment:
                Sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
                equipment = Sensor.search([("tag", "=", tag)], limit=1).equipment_id
            cache["equipment", tag] = equipment
        equipment = cache["equipment", tag]
        if not equipment:
            raise ItemRejected(f"no equipment or sensor with data.{name} {_short(tag)}")
        return equipment

    # -- alerts and heartbeats -------------------------------------------------

    @api.model
    def _apply_alert(self, kind, ts, data):
        tag = data.get("tag")
        if not isinstance(tag, str) or not tag:
            raise ItemRejected("data.tag is missing")
        alert_type = _choice(data.get("alert_type"), dict(ALERT_TYPES), "alert_type")
        severity = _choice(data.get("severity", "warning"), dict(SEVERITIES), "severity")
        value = data.get("value")
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ItemRejected("data.value must be a finite number")
        message = data.get("message") or ""
        if not isinstance(message, str):
            raise ItemRejected("data.message must be a string")
        drift_rate = _number(data, "drift_rate", required=False, minimum=-1e9, maximum=1e9)

        sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
        sensor = sensor.search([("tag", "=", tag)], limit=1)
        if sensor:
            equipment = sensor.equipment_id
        else:
            equipment = (
                self.env["maintenance.equipment"].sudo().search([("cmms_tag", "=", tag)], limit=1)
            )
        if not equipment:
            raise ItemRejected(f"no sensor or equipment with tag {_short(tag)}")
        alert = self.env["cmms.alert"]._report(
            equipment,
            alert_type,
            kind,
            ts,
            severity=severity,
            value=value,
            message=message,
            sensor=sensor,
        )
        if drift_rate is not None and alert and kind != "alert_cleared":
            alert.sudo().write({"drift_rate": drift_rate, "drift_rate_at": ts})
        return alert

    @api.model
    def _apply_heartbeat(self, ts, data):
        name = _text(data, "connector_id")
        vals = {"mqtt_connected": bool(data.get("mqtt_connected"))}
        for field, kind in (
            ("backlog", int),
            ("readings_per_s", float),
            ("dead_letters", int),
        ):
            if field in data:
                number = _number(data, field, maximum=MAX_INT if kind is int else None)
                vals[field] = kind(number)
        interval = _number(data, "heartbeat_interval_s", required=False, above=0)
        if interval is not None:
            vals["heartbeat_interval_s"] = interval
        return self.env["cmms.connector"].sudo()._heartbeat(name, ts, vals)

    # -- data items ------------------------------------------------------------

    @api.model
    def _apply_reading_agg(self, ts, data, cache):
        vals = self._reading_agg_vals(data, cache)
        Reading = self.env["cmms.reading"].sudo()
        reading = Reading.search(
            [
                ("sensor_id", "=", vals["sensor_id"]),
                ("resolution", "=", vals["resolution"]),
                ("period_start", "=", vals["period_start"]),
            ],
            limit=1,
        )
        if reading:
            # A period reported again under a new key: the newest report wins.
            reading.write(vals)
        else:
            reading = Reading.create(vals)
        return reading, None

    def _reading_agg_vals(self, data, cache):
        """The validated values of a ``reading_agg`` item (no write)."""
        sensor = self._sensor(_text(data, "tag"), cache)
        resolution = _choice(data.get("resolution", "minute"), dict(RESOLUTIONS), "data.resolution")
        start = _time(data, "period_start")
        if start != start.replace(**ALIGNMENT[resolution]):
            raise ItemRejected(f"data.period_start must start a whole {resolution}")
        low, high = _number(data, "min"), _number(data, "max")
        if low > high:
            raise ItemRejected("data.min is above data.max")
        vals = {
            "sensor_id": sensor.id,
            "resolution": resolution,
            "period_start": start,
            "min_value": low,
            "max_value": high,
            "mean_value": _within(_number(data, "mean"), low, high, "mean"),
            "last_value": _within(_number(data, "last"), low, high, "last"),
            "last_at": start,
            "sample_count": _number(data, "count", integer=True, minimum=1),
        }
        return vals

    def _apply_reading_aggs_bulk(self, pending, changed):
        """Apply validated ``reading_agg`` items of one call together.

        One search for the periods already stored, one create for the new
        rows and one for their keys, instead of a savepoint, a search and
        two inserts per item. A period given twice keeps the later report,
        as per item. Every item was validated before: a database conflict
        here comes from a concurrent call, and the whole call is replayed.
        """
        Reading = self.env["cmms.reading"].sudo()
        Key = self.env["cmms.ingest.key"].sudo()
        last = {}
        for key, vals in pending:
            last[(vals["sensor_id"], vals["resolution"], vals["period_start"])] = (key, vals)
        existing = {}
        found = Reading.search(
            [
                ("sensor_id", "in", list({k[0] for k in last})),
                ("period_start", "in", list({k[2] for k in last})),
            ]
        )
        for reading in found:
            existing[(reading.sensor_id.id, reading.resolution, reading.period_start)] = reading
        try:
            with self.env.cr.savepoint():
                records = {}
                new = []
                for period, (_key, vals) in last.items():
                    if period in existing:
                        existing[period].write(vals)
                        records[period] = existing[period]
                    else:
                        new.append((period, vals))
                created = Reading.create([vals for _period, vals in new])
                for (period, _vals), reading in zip(new, created, strict=True):
                    records[period] = reading
                Key.create(
                    [
                        {
                            "key": key,
                            "item_type": "reading_agg",
                            "res_model": "cmms.reading",
                            "res_id": records[
                                (vals["sensor_id"], vals["resolution"], vals["period_start"])
                            ].id,
                        }
                        for key, vals in pending
                    ]
                )
        except psycopg2.IntegrityError as exc:
            raise ConcurrentIngest(str(exc)) from exc
        for reading in records.values():
            self._note_change(changed, "reading_agg", reading)

    @api.model
    def _apply_health_snapshot(self, ts, data, cache):
        equipment = self._equipment(_text(data, "tag"), cache)
        score = _number(data, "score", minimum=0, maximum=100)
        metrics = _object(data, "metrics")
        if metrics is not None:
            if len(metrics) > MAX_METRICS:
                raise ItemRejected(f"data.metrics holds more than {MAX_METRICS} metrics")
            for metric, value in metrics.items():
                if len(metric) > 64:
                    raise ItemRejected("data.metrics: a metric name is longer than 64 characters")
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not 0 <= value <= 100
                ):
                    raise ItemRejected(f"data.metrics.{metric} must be a score from 0 to 100")
        recommendations = data.get("recommendations") or []
        if not isinstance(recommendations, list) or not all(
            isinstance(line, str) and 0 < len(line.strip()) <= 500 for line in recommendations
        ):
            raise ItemRejected(
                "data.recommendations must be a list of non-empty strings of at most 500 "
                "characters"
            )
        if len(recommendations) > MAX_RECOMMENDATIONS:
            raise ItemRejected(f"data.recommendations holds more than {MAX_RECOMMENDATIONS} lines")
        snapshot = (
            self.env["cmms.health.snapshot"]
            .sudo()
            .create(
                {
                    "equipment_id": equipment.id,
                    "measured_at": ts,
                    "score": score,
                    "metric_scores": metrics,
                    "recommendations": "\n".join(line.strip() for line in recommendations) or False,
                }
            )
        )
        return snapshot, {"band": snapshot.band}

    @api.model
    def _apply_oee_record(self, ts, data, cache):
        machine = self._equipment(_text(data, "machine"), cache, "machine")
        start, end = _time(data, "period_start"), _time(data, "period_end")
        if end <= start:
            raise ItemRejected("data.period_end must be after data.period_start")
        produced = _number(data, "produced", integer=True, minimum=0)
        good = _number(data, "good", integer=True, minimum=0)
        if good > produced:
            raise ItemRejected("data.good exceeds data.produced")
        rejected = _number(
            data, "rejected", integer=True, minimum=0, required=False, default=produced - good
        )
        if good + rejected > produced:
            raise ItemRejected("data.good + data.rejected exceed data.produced")
        vals = {
            "equipment_id": machine.id,
            "shift": _text(data, "shift", required=False, max_length=16) or False,
            "period_start": start,
            "period_end": end,
            "run_min": _number(data, "run_min", minimum=0),
            "downtime_min": _number(data, "downtime_min", minimum=0),
            "produced": produced,
            "good": good,
            "rejected": rejected,
            "design_speed": _number(data, "design_speed", above=0),
            "actual_speed": _number(data, "actual_speed", minimum=0),
            "source": "connector",
        }
        if not math.isfinite(vals["actual_speed"] / vals["design_speed"] * 100.0):
            raise ItemRejected("data.actual_speed / data.design_speed is out of range")
        planned = _number(data, "planned_min", required=False, minimum=0)
        if planned is not None:
            vals["planned_min"] = planned
        if vals["run_min"] > (planned or (end - start).total_seconds() / 60.0) + 1e-6:
            raise ItemRejected("data.run_min exceeds the planned time")
        running = data.get("running", False)
        if not isinstance(running, bool):
            raise ItemRejected("data.running must be true or false")
        vals["is_running"] = running
        record = self._upsert_oee_record(vals)
        return record, record._connector_reply()

    @api.model
    def _upsert_oee_record(self, vals):
        """The one OEE record of ``vals``' machine and period start, created or
        updated (docs/contracts.md, the running shift).

        A report ending before the stored record changes no figure (the end
        never moves earlier), yet a closing one still closes the record; a
        closed record is never reopened by a provisional report. Updates of a
        running record are not tracked in its chatter.
        """
        Record = self.env["cmms.oee.record"].sudo()
        record = Record.search(
            [
                ("equipment_id", "=", vals["equipment_id"]),
                ("period_start", "=", vals["period_start"]),
            ],
            limit=1,
        )
        if not record:
            return Record.create(vals)
        if vals["is_running"] and not record.is_running:
            return record  # a late provisional report of a closed shift
        if record.is_running:
            record = record.with_context(mail_notrack=True)
        if vals["period_end"] < record.period_end:
            if record.is_running and not vals["is_running"]:
                record.is_running = False
            return record
        record.write(vals)
        return record

    @api.model
    def _replace_period(self, Model, vals):
        """The record of ``vals``' machine and period, written or created: a
        period reported again under a new key replaces it (the newest wins)."""
        record = Model.search(
            [
                ("equipment_id", "=", vals["equipment_id"]),
                ("period_start", "=", vals["period_start"]),
                ("period_end", "=", vals["period_end"]),
            ],
            limit=1,
        )
        if record:
            record.write(vals)
            return record
        return Model.create(vals)

    @api.model
    def _apply_energy(self, ts, data, cache):
        machine = self._equipment(_text(data, "machine"), cache, "machine")
        start, end = _time(data, "period_start"), _time(data, "period_end")
        if end <= start:
            raise ItemRejected("data.period_end must be after data.period_start")
        if (end - start).total_seconds() > MAX_ENERGY_PERIOD_S:
            raise ItemRejected("data.period_end is more than 31 days after data.period_start")
        vals = {
            "equipment_id": machine.id,
            "period_start": start,
            "period_end": end,
            "kwh": _number(data, "kwh", minimum=0),
            "produced_units": _number(
                data, "produced", integer=True, minimum=0, maximum=2**31 - 1, required=False
            )
            or 0,
            "source": "connector",
        }
        # A reading a supervisor archived stays archived.
        Reading = self.env["cmms.energy.reading"].sudo().with_context(active_test=False)
        return self._replace_period(Reading, vals), None

    @api.model
    def _apply_downtime_event(self, ts, data, cache):
        machine = self._equipment(_text(data, "machine"), cache, "machine")
        reason = normalize_code(_text(data, "reason"))
        vals = {
            "equipment_id": machine.id,
            "reason_id": self.env["cmms.downtime.reason"].sudo()._for_code(reason).id,
            "start": _time(data, "start", required=False, default=ts),
            "duration_min": _number(data, "duration_min", above=0, maximum=MAX_DOWNTIME_MIN),
            "source": "connector",
        }
        component = _text(data, "component", required=False, max_length=64)
        if component and COMPONENT_CODE_RE.match(component):
            vals["component_code"] = component
        elif component:
            equipment = self._equipment(component, cache, "component")
            vals["component_id"] = equipment.id
            vals["component_code"] = equipment.cmms_component_code or False
        event = self.env["cmms.downtime.event"].sudo().create(vals)
        return event, None

    @api.model
    def _apply_prediction(self, ts, data, cache):
        equipment = self._equipment(_text(data, "tag"), cache)
        prediction = (
            self.env["cmms.prediction"]
            .sudo()
            .create(
                {
                    "equipment_id": equipment.id,
                    "predicted_at": ts,
                    "predicted_hours": _number(
                        data, "predicted_hours", minimum=0, maximum=MAX_PREDICTED_HOURS
                    ),
                    "model_version": _text(data, "model_version", max_length=64),
                    "inputs": _object(data, "inputs", required=True),
                    "recommendation": _text(data, "recommendation", required=False, max_length=2000)
                    or False,
                }
            )
        )
        return prediction, None

    @api.model
    def _apply_model_version(self, ts, data, cache):
        sensor = self._sensor(_text(data, "tag"), cache)
        version = _text(data, "version", max_length=64)
        active = data.get("active")
        if active is not None and not isinstance(active, bool):
            raise ItemRejected("data.active must be true or false")
        vals = {
            "sensor_id": sensor.id,
            "version": version,
            "trained_at": _time(data, "trained_at"),
            "trained_by": _text(data, "trained_by", required=False, max_length=128) or False,
            "windows_used": _number(
                data, "windows_used", integer=True, minimum=0, required=False, default=0
            ),
            "contamination": _number(
                data, "contamination", required=False, default=0.0, above=0, maximum=0.5
            ),
            "feature_set_version": _text(data, "feature_set_version", required=False, max_length=64)
            or False,
            "metrics": _object(data, "metrics"),
        }
        Model = self.env["cmms.model.version"].sudo()
        model = Model.search([("sensor_id", "=", sensor.id), ("version", "=", version)], limit=1)
        if model:
            model.write(vals)
        else:
            model = Model.create(vals)
        if active is not None:
            model.is_active = active
        return model, None

    @api.model
    def _apply_job_update(self, ts, data, cache):
        job_id = _number(data, "job_id", integer=True, minimum=1)
        job = self.env["cmms.connector.job"].sudo().browse(job_id).exists()
        if not job:
            raise ItemRejected(f"no connector job {job_id}")
        state = _choice(data.get("state"), dict(JOB_STATES), "data.state")
        if state not in ("running", "done", "failed"):
            raise ItemRejected("data.state must be running, done or failed")
        attempt = _number(data, "attempt", integer=True, minimum=1)
        progress = _number(data, "progress", required=False, default=0.0, minimum=0, maximum=100)
        note = _text(data, "message", required=False, max_length=255)
        error = _text(data, "error", required=False, max_length=2000)
        result = _object(data, "result")
        if state == "failed" and not error:
            raise ItemRejected("data.error is missing: a failed job says why")
        if job.state in ("done", "failed", "cancelled") or state == "running":
            return job, job._report(attempt, state, progress, note, result, error, ts)
        if state == "done":
            if job.job_type == "predict_duration":
                prediction = _object(data, "prediction", required=True)
                record, _computed = self._apply_prediction(ts, prediction, cache)
                job.prediction_id = record
            else:
                version = _object(data, "model_version", required=True)
                if version.get("tag") != job.sensor_id.tag:
                    raise ItemRejected("data.model_version.tag is not the job's sensor")
                record, _computed = self._apply_model_version(ts, version, cache)
                job.model_version_id = record
        return job, job._report(attempt, state, progress, note, result, error, ts)

    @api.model
    def _apply_meter_reading(self, ts, data, cache):
        machine = self._equipment(_text(data, "machine"), cache, "machine")
        code = _text(data, "meter", max_length=64)
        meter = (
            self.env["cmms.meter"]
            .sudo()
            .search([("equipment_id", "=", machine.id), ("code", "=", code)], limit=1)
        )
        if not meter:
            raise ItemRejected(f"no meter {code!r} on data.machine {data['machine']!r}")
        value = _number(data, "value", required=False, minimum=0)
        increment = _number(data, "increment", required=False, minimum=0)
        if (value is None) == (increment is None):
            raise ItemRejected("give data.value or data.increment, not both")
        # A meter going backwards is refused (ValidationError: rejected).
        reading = meter._cmms_add_reading(ts, value=value, increment=increment, source="connector")
        return reading, {"value": meter.value, "total": meter.total_value}
