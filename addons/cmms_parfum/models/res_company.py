# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    cmms_sla_hours_low = fields.Float("SLA hours, low priority", default=72.0)
    cmms_sla_hours_medium = fields.Float("SLA hours, medium priority", default=24.0)
    cmms_sla_hours_high = fields.Float("SLA hours, high priority", default=8.0)
    cmms_sla_hours_urgent = fields.Float("SLA hours, urgent priority", default=2.0)
    cmms_labor_rate = fields.Float(
        "Technician hourly cost",
        default=0.0,
        help="Default hourly cost of a technician; a technician's own hourly cost wins.",
    )
    cmms_parts_location_id = fields.Many2one(
        "stock.location",
        "Maintenance parts location",
        domain="[('usage', '=', 'internal'), ('company_id', 'in', (id, False))]",
        help="Where work orders take their spare parts from (default: the stock of "
        "the company's first warehouse).",
    )
    cmms_pm_grace_days = fields.Float(
        "PM grace window (days)",
        default=1.0,
        help="A preventive work order done within this time after its due date "
        "counts as on time for PM compliance.",
    )
    cmms_allow_negative_stock = fields.Boolean(
        "Allow consuming parts not in stock",
        help="When off, completing a work order that needs more of a part than is on "
        "hand is refused.",
    )
    cmms_calibration_notice_days = fields.Integer(
        "Calibration notice (days)",
        default=14,
        help="Supervisors are told this many days before a calibration is due.",
    )
    cmms_calibration_reliability = fields.Float(
        "Calibration target reliability (%)",
        default=95.0,
        help="Interval analysis: the probability that an instrument is still in tolerance "
        "at the end of its interval.",
    )

    @api.constrains(
        "cmms_sla_hours_low",
        "cmms_sla_hours_medium",
        "cmms_sla_hours_high",
        "cmms_sla_hours_urgent",
        "cmms_labor_rate",
        "cmms_pm_grace_days",
    )
    def _check_cmms_sla_hours(self):
        for company in self:
            for priority in ("low", "medium", "high", "urgent"):
                if company[f"cmms_sla_hours_{priority}"] < 0:
                    raise ValidationError(self.env._("SLA response times cannot be negative."))
            if company.cmms_pm_grace_days < 0:
                raise ValidationError(self.env._("The PM grace window cannot be negative."))
            if company.cmms_labor_rate < 0:
                raise ValidationError(self.env._("An hourly cost cannot be negative."))

    @api.constrains("cmms_calibration_notice_days", "cmms_calibration_reliability")
    def _check_cmms_calibration_settings(self):
        for company in self:
            if company.cmms_calibration_notice_days < 0:
                raise ValidationError(self.env._("The calibration notice cannot be negative."))
            if not 50.0 <= company.cmms_calibration_reliability < 100.0:
                raise ValidationError(
                    self.env._("The target reliability lies between 50 and 100 %% (excluded).")
                )

    def _cmms_sla_hours(self, priority):
        self.ensure_one()
        if priority not in ("low", "medium", "high", "urgent"):
            return 0.0
        return self[f"cmms_sla_hours_{priority}"]

    def _cmms_parts_location(self):
        """The internal location work orders consume spare parts from."""
        self.ensure_one()
        if self.sudo().cmms_parts_location_id:
            return self.sudo().cmms_parts_location_id
        warehouse = (
            self.env["stock.warehouse"]
            .sudo()
            .search([("company_id", "=", self.id)], order="sequence, id", limit=1)
        )
        return warehouse.lot_stock_id
