# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

PRIORITIES = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("urgent", "Urgent"),
]

# Odoo's star widget on maintenance.request keeps working: it mirrors ours.
PRIORITY_TO_STARS = {"low": "0", "medium": "1", "high": "2", "urgent": "3"}

SOURCES = [
    ("person", "Person"),
    ("plan", "Preventive plan"),
    ("alert", "Alert"),
]


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    cmms_priority = fields.Selection(
        PRIORITIES,
        "CMMS priority",
        default="medium",
        required=True,
        tracking=True,
        index=True,
    )
    priority = fields.Selection(compute="_compute_priority", store=True, readonly=True)
    source = fields.Selection(
        SOURCES, default="person", required=True, readonly=True, tracking=True
    )
    equipment_criticality = fields.Selection(
        related="equipment_id.criticality", string="Equipment criticality"
    )
    equipment_tag = fields.Char(related="equipment_id.cmms_tag", string="Tag")

    @api.depends("cmms_priority")
    def _compute_priority(self):
        for request in self:
            request.priority = PRIORITY_TO_STARS.get(request.cmms_priority, "1")
