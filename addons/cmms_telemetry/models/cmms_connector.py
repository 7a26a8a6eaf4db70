# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CmmsConnector(models.Model):
    """A telemetry connector as its heartbeats describe it."""

    _name = "cmms.connector"
    _description = "Telemetry connector"
    _order = "name"

    name = fields.Char("Connector id", required=True, index=True)
    last_heartbeat = fields.Datetime(readonly=True)
    mqtt_connected = fields.Boolean("MQTT connected", readonly=True)
    backlog = fields.Integer(readonly=True, help="Items waiting in its outbox.")
    readings_per_s = fields.Float("Readings per second", readonly=True)
    dead_letters = fields.Integer(readonly=True)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A connector id must be unique."),
    ]
