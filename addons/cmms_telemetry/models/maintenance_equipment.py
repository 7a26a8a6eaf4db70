# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    sensor_ids = fields.One2many("cmms.sensor", "equipment_id")
    alert_ids = fields.One2many("cmms.alert", "equipment_id")
    open_alert_count = fields.Integer(compute="_compute_open_alert_count")

    @api.depends("alert_ids.state")
    def _compute_open_alert_count(self):
        groups = self.env["cmms.alert"]._read_group(
            [("equipment_id", "in", self.ids), ("state", "!=", "resolved")],
            ["equipment_id"],
            ["__count"],
        )
        counts = {equipment.id: count for equipment, count in groups}
        for equipment in self:
            equipment.open_alert_count = counts.get(equipment.id, 0)

    def action_view_open_alerts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("cmms_telemetry.cmms_alert_action")
        action["domain"] = [("equipment_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action
