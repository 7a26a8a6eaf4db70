# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .telemetry_tools import AVAILABILITY_BASES, PARAMS, get_param

# Settings stored as ir.config_parameter, by hand: Odoo's config_parameter
# drops a zero, which here is a meaningful value (no suppression, OEE only).
SETTINGS = {
    "cmms_alert_suppression_minutes": "alert_suppression_minutes",
    "cmms_health_rpn_weight": "health_rpn_weight",
    "cmms_health_oee_days": "health_oee_days",
    "cmms_oee_fault_below": "oee_fault_below",
    "cmms_oee_warning_below": "oee_warning_below",
    "cmms_oee_availability_basis": "oee_availability_basis",
    "cmms_reading_minute_days": "reading_minute_days",
    "cmms_reading_hour_days": "reading_hour_days",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cmms_alert_suppression_minutes = fields.Integer(
        "Alert suppression after a work order (min)",
        help="After a work order on an equipment is completed, its alerts are kept up to date "
        "for this long but open no work order. 0 turns suppression off.",
    )
    cmms_health_rpn_weight = fields.Float(
        "Health index: RPN weight",
        digits=(3, 2),
        help="Health index = RPN score x this weight + OEE score x (1 - this weight).",
    )
    cmms_health_oee_weight = fields.Float(
        "Health index: OEE weight", digits=(3, 2), compute="_compute_cmms_health_oee_weight"
    )
    cmms_health_oee_days = fields.Integer("Health index: OEE window (days)")
    cmms_oee_fault_below = fields.Float("OEE fault below (%)")
    cmms_oee_warning_below = fields.Float("OEE warning up to (%)")
    cmms_oee_availability_basis = fields.Selection(AVAILABILITY_BASES, "OEE availability")
    cmms_reading_minute_days = fields.Integer("Keep 1-minute readings (days)")
    cmms_reading_hour_days = fields.Integer("Keep hourly readings (days)")

    @api.depends("cmms_health_rpn_weight")
    def _compute_cmms_health_oee_weight(self):
        for settings in self:
            settings.cmms_health_oee_weight = 1.0 - settings.cmms_health_rpn_weight

    @api.constrains(
        "cmms_health_rpn_weight",
        "cmms_oee_fault_below",
        "cmms_oee_warning_below",
        "cmms_reading_minute_days",
        "cmms_reading_hour_days",
        "cmms_alert_suppression_minutes",
        "cmms_health_oee_days",
    )
    def _check_cmms_telemetry(self):
        for settings in self:
            if not 0.0 <= settings.cmms_health_rpn_weight <= 1.0:
                raise ValidationError(self.env._("The RPN weight lies between 0 and 1."))
            if not 0.0 <= settings.cmms_oee_fault_below <= settings.cmms_oee_warning_below:
                raise ValidationError(
                    self.env._("The OEE fault limit must not exceed the warning limit.")
                )
            if not 1 <= settings.cmms_reading_minute_days <= settings.cmms_reading_hour_days:
                raise ValidationError(
                    self.env._(
                        "Keep 1-minute readings at least a day, and hourly readings at least "
                        "as long."
                    )
                )
            if settings.cmms_alert_suppression_minutes < 0 or settings.cmms_health_oee_days < 1:
                raise ValidationError(
                    self.env._(
                        "The suppression window cannot be negative and the OEE window lasts at "
                        "least a day."
                    )
                )

    @api.model
    def get_values(self):
        res = super().get_values()
        for field, name in SETTINGS.items():
            res[field] = get_param(self.env, name)
        return res

    def set_values(self):
        res = super().set_values()
        params = self.env["ir.config_parameter"].sudo()
        oee_changed = False
        for field, name in SETTINGS.items():
            value = self[field]
            if get_param(self.env, name) != value:
                params.set_param(PARAMS[name][0], str(value))
                oee_changed |= name.startswith("oee_")
        if oee_changed:
            self.env["cmms.oee.record"]._recompute_all()
        return res
