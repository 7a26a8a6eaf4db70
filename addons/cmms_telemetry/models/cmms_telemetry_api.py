# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The methods the telemetry connector calls (see docs/contracts.md)."""

import logging
import math
from datetime import UTC, datetime

import psycopg2

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .cmms_alert import ALERT_TYPES
from .cmms_alert_policy import SEVERITIES

_logger = logging.getLogger(__name__)

MAX_BATCH = 5000
MAX_KEY_LENGTH = 255
ALERT_ITEMS = ("alert_raised", "alert_active", "alert_cleared")
ITEM_TYPES = (*ALERT_ITEMS, "heartbeat")


class ItemRejected(Exception):
    """An item that cannot be applied; its message is the reason."""


def _parse_ts(value):
    """ISO 8601 or epoch seconds -> naive UTC datetime."""
    if isinstance(value, bool) or value is None:
        raise ItemRejected("ts is missing")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ItemRejected("ts is not finite")
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ItemRejected(f"ts {value!r} is not ISO 8601") from exc
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed
    raise ItemRejected("ts must be an ISO 8601 string or epoch seconds")


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
            ``{"version": str, "sensors": [...], "health_thresholds": {...}}``
            as documented in docs/contracts.md.
        """
        self._check_connector()
        sensors = self.env["cmms.sensor"].sudo().search([])
        return {
            "version": sensors._config_version(),
            "sensors": [sensor._connector_settings() for sensor in sensors],
            "health_thresholds": {},
        }

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
            ``{"results": [{"key", "status", "reason"?}, ...]}`` in the order
            of ``items``; status is accepted, duplicate or rejected.
        """
        self._check_connector()
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
        keys = [
            item.get("key")
            for item in items
            if isinstance(item, dict) and isinstance(item.get("key"), str)
        ]
        Key = self.env["cmms.ingest.key"].sudo()
        seen = set(Key.search([("key", "in", keys)]).mapped("key")) if keys else set()
        results = []
        for item in items:
            key = item.get("key") if isinstance(item, dict) else None
            result = {"key": key}
            try:
                self._validate_item(item)
                if key in seen:
                    result["status"] = "duplicate"
                else:
                    with self.env.cr.savepoint():
                        alert = self._apply_item(item)
                        Key.create(
                            {
                                "key": key,
                                "item_type": item["type"],
                                "alert_id": alert.id if alert else False,
                            }
                        )
                    seen.add(key)
                    result["status"] = "accepted"
            except ItemRejected as exc:
                result.update(status="rejected", reason=str(exc))
            except psycopg2.IntegrityError:
                # Another transaction applied the same key meanwhile.
                result["status"] = "duplicate"
            except (UserError, ValidationError) as exc:
                result.update(status="rejected", reason=str(exc))
            results.append(result)
        rejected = sum(1 for r in results if r["status"] == "rejected")
        if rejected:
            _logger.info("ingest: %s of %s items rejected", rejected, len(items))
        return {"results": results}

    @api.model
    def _validate_item(self, item):
        if not isinstance(item, dict):
            raise ItemRejected("an item must be an object")
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            raise ItemRejected("key is missing")
        if len(key) > MAX_KEY_LENGTH:
            raise ItemRejected(f"key is longer than {MAX_KEY_LENGTH} characters")
        if item.get("type") not in ITEM_TYPES:
            raise ItemRejected(f"unknown item type {item.get('type')!r}")
        if not isinstance(item.get("data"), dict):
            raise ItemRejected("data must be an object")
        item["_ts"] = _parse_ts(item.get("ts"))

    @api.model
    def _apply_item(self, item):
        if item["type"] in ALERT_ITEMS:
            return self._apply_alert(item["type"], item["_ts"], item["data"])
        if item["type"] == "heartbeat":
            self._apply_heartbeat(item["_ts"], item["data"])
        return None

    @api.model
    def _apply_alert(self, kind, ts, data):
        tag = data.get("tag")
        if not isinstance(tag, str) or not tag:
            raise ItemRejected("data.tag is missing")
        alert_type = data.get("alert_type")
        if alert_type not in dict(ALERT_TYPES):
            raise ItemRejected(f"unknown alert_type {alert_type!r}")
        severity = data.get("severity", "warning")
        if severity not in dict(SEVERITIES):
            raise ItemRejected(f"unknown severity {severity!r}")
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

        sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
        sensor = sensor.search([("tag", "=", tag)], limit=1)
        if sensor:
            equipment = sensor.equipment_id
        else:
            equipment = (
                self.env["maintenance.equipment"].sudo().search([("cmms_tag", "=", tag)], limit=1)
            )
        if not equipment:
            raise ItemRejected(f"no sensor or equipment with tag {tag!r}")

        Alert = self.env["cmms.alert"].sudo()
        alert = Alert.search(
            [
                ("equipment_id", "=", equipment.id),
                ("alert_type", "=", alert_type),
                ("state", "!=", "resolved"),
            ],
            limit=1,
        )
        if kind == "alert_cleared":
            # The alert keeps the value and time of the fault it reports.
            if alert and alert.condition != "cleared":
                alert.write({"condition": "cleared", "cleared_at": ts})
            return alert
        vals = {"last_seen": ts}
        if value is not None:
            vals["last_value"] = value
        if message:
            vals["message"] = message[:500]
        if alert:
            if kind == "alert_raised" or alert.condition == "cleared":
                vals["occurrence_count"] = alert.occurrence_count + 1
            vals["condition"] = "active"
            alert.write(vals)
            alert._escalate(severity)
        else:
            alert = Alert.create(
                {
                    **vals,
                    "equipment_id": equipment.id,
                    "sensor_id": sensor.id or False,
                    "alert_type": alert_type,
                    "severity": severity,
                    "first_seen": ts,
                }
            )
        alert._apply_policy()
        return alert

    @api.model
    def _apply_heartbeat(self, ts, data):
        name = data.get("connector_id")
        if not isinstance(name, str) or not name:
            raise ItemRejected("data.connector_id is missing")
        vals = {"last_heartbeat": ts, "mqtt_connected": bool(data.get("mqtt_connected"))}
        for field, kind in (
            ("backlog", int),
            ("readings_per_s", float),
            ("dead_letters", int),
        ):
            if field in data:
                number = data[field]
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise ItemRejected(f"data.{field} must be a number")
                vals[field] = kind(number)
        Connector = self.env["cmms.connector"].sudo()
        connector = Connector.search([("name", "=", name)], limit=1)
        if connector:
            if not connector.last_heartbeat or connector.last_heartbeat <= ts:
                connector.write(vals)
        else:
            Connector.create({"name": name, **vals})
