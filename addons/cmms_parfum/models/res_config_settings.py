# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cmms_sla_hours_low = fields.Float(related="company_id.cmms_sla_hours_low", readonly=False)
    cmms_sla_hours_medium = fields.Float(related="company_id.cmms_sla_hours_medium", readonly=False)
    cmms_sla_hours_high = fields.Float(related="company_id.cmms_sla_hours_high", readonly=False)
    cmms_sla_hours_urgent = fields.Float(related="company_id.cmms_sla_hours_urgent", readonly=False)
    cmms_labor_rate = fields.Float(related="company_id.cmms_labor_rate", readonly=False)
    cmms_pm_grace_days = fields.Float(related="company_id.cmms_pm_grace_days", readonly=False)
    cmms_parts_location_id = fields.Many2one(
        related="company_id.cmms_parts_location_id", readonly=False
    )
    cmms_allow_negative_stock = fields.Boolean(
        related="company_id.cmms_allow_negative_stock", readonly=False
    )
    cmms_calibration_notice_days = fields.Integer(
        related="company_id.cmms_calibration_notice_days", readonly=False
    )
    cmms_calibration_reliability = fields.Float(
        related="company_id.cmms_calibration_reliability", readonly=False
    )
