# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    cmms_qr_payload = fields.Char(
        "QR code",
        compute="_compute_cmms_qr_payload",
        help="What the equipment's QR label holds; cmms.ar.api.lookup resolves it.",
    )

    @api.depends("cmms_tag")
    def _compute_cmms_qr_payload(self):
        api_model = self.env["cmms.ar.api"]
        for equipment in self:
            equipment.cmms_qr_payload = api_model._qr_payload(equipment) if equipment.id else False
