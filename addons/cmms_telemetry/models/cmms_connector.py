# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models

from . import ingest_validation as ingest

DEFAULT_HEARTBEAT_INTERVAL_S = 60.0


class CmmsConnector(models.Model):
    """A telemetry connector as its heartbeats describe it.

    A connector that sends no heartbeat for twice its heartbeat interval is
    silent: a cron raises a ``data_gap`` alert on its gateway equipment,
    and the next heartbeat clears the alert's condition.
    """

    _name = "cmms.connector"
    _description = "Telemetry connector"
    _order = "name"

    name = fields.Char("Connector id", required=True, index=True)
    last_heartbeat = fields.Datetime(readonly=True)
    mqtt_connected = fields.Boolean("MQTT connected", readonly=True)
    backlog = fields.Integer(readonly=True, help="Items waiting in its outbox.")
    readings_per_s = fields.Float("Readings per second", readonly=True)
    dead_letters = fields.Integer(readonly=True)
    heartbeat_interval_s = fields.Float(
        "Heartbeat interval (s)",
        default=DEFAULT_HEARTBEAT_INTERVAL_S,
        readonly=True,
        help="As the connector reports it; silence for twice this raises a data gap alert.",
    )
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Gateway equipment",
        ondelete="set null",
        help="The asset that stands for this connector: its data gap alerts are raised on it.",
    )
    is_silent = fields.Boolean("Silent", readonly=True)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A connector id must be unique."),
    ]

    @api.model
    def _heartbeat(self, name, ts, vals):
        """Record a heartbeat; a connector seen the first time gets its gateway equipment."""
        connector = self.search([("name", "=", name)], limit=1)
        if not connector:
            connector = self.create({"name": name, **vals, "last_heartbeat": ts})
        elif not connector.last_heartbeat or connector.last_heartbeat <= ts:
            connector.write({**vals, "last_heartbeat": ts})
        else:
            return connector
        if not connector.equipment_id:
            connector.equipment_id = connector._gateway_equipment()
        if connector.is_silent:
            connector.is_silent = False
            self.env["cmms.alert"]._report(connector.equipment_id, "data_gap", "alert_cleared", ts)
        return connector

    def _gateway_equipment(self):
        self.ensure_one()
        tag = f"CONN-{self.name}"
        Equipment = self.env["maintenance.equipment"]
        return Equipment.search([("cmms_tag", "=", tag)], limit=1) or Equipment.create(
            {
                "name": self.env._("Telemetry connector %(name)s", name=self.name),
                "cmms_tag": tag,
                "cmms_kind": "utility",
                "criticality": "high",
            }
        )

    @api.model
    def _cron_check_silent(self, now=None):
        """Raise a data gap alert for each connector silent for 2x its interval.

        Parameters
        ----------
        now : datetime, optional
            The reference time (UTC, naive); the current time by default.
        """
        now = now or fields.Datetime.now()
        for connector in self.sudo().search([("last_heartbeat", "!=", False)]):
            interval = connector.heartbeat_interval_s or DEFAULT_HEARTBEAT_INTERVAL_S
            if now - connector.last_heartbeat <= timedelta(seconds=2 * interval):
                continue
            if not connector.equipment_id:
                connector.equipment_id = connector._gateway_equipment()
            connector._report_silence(now, interval)

    def _report_silence(self, now, interval):
        self.ensure_one()
        silent_s = int((now - self.last_heartbeat).total_seconds())
        message = self.env._(
            "Connector %(name)s is silent: no heartbeat for %(silent)s s (expected every "
            "%(interval)s s).",
            name=self.name,
            silent=silent_s,
            interval=round(interval, 1),
        )
        self.env["cmms.alert"]._report(
            self.equipment_id,
            "data_gap",
            "alert_active" if self.is_silent else "alert_raised",
            now,
            severity="warning",
            value=silent_s,
            message=message,
        )
        self.is_silent = True

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_heartbeat(self, ts, data, batch):
        """Apply one ``heartbeat`` item."""
        name = ingest.text(data, "connector_id")
        vals = {"mqtt_connected": bool(data.get("mqtt_connected"))}
        for field, kind in (
            ("backlog", int),
            ("readings_per_s", float),
            ("dead_letters", int),
        ):
            if field in data:
                number = ingest.number(data, field, maximum=ingest.MAX_INT if kind is int else None)
                vals[field] = kind(number)
        interval = ingest.number(data, "heartbeat_interval_s", required=False, above=0)
        if interval is not None:
            vals["heartbeat_interval_s"] = interval
        return self.sudo()._heartbeat(name, ts, vals), None
