# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    alert_id = fields.Many2one(
        "cmms.alert",
        "Originating alert",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
    )
