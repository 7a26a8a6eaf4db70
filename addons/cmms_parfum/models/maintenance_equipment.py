# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

CRITICALITY = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("critical", "Critical"),
]

EQUIPMENT_KINDS = [
    ("machine", "Machine"),
    ("component", "Component"),
    ("instrument", "Instrument"),
    ("utility", "Utility"),
]

INSTRUMENT_TYPES = [
    ("pressure", "Pressure"),
    ("temperature", "Temperature"),
    ("flow", "Flow"),
    ("level", "Level"),
    ("other", "Other"),
]
TOLERANCE_MODES = [
    ("span", "% of span"),
    ("units", "Units"),
]


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    cmms_tag = fields.Char(
        "Tag",
        index=True,
        copy=False,
        tracking=True,
        help="Plant tag of the asset (PT-101, FLX-104...). Instruments are "
        "found by this tag in telemetry and on AR glasses.",
    )
    cmms_kind = fields.Selection(
        EQUIPMENT_KINDS, "Kind", default="machine", required=True, tracking=True
    )
    criticality = fields.Selection(
        CRITICALITY, default="medium", required=True, tracking=True, index=True
    )
    process_area = fields.Char()
    manufacturer = fields.Char()
    power_kw = fields.Float("Rated power (kW)", digits=(12, 2))
    capacity = fields.Char(help="Nominal capacity, with its unit.")
    commissioning_year = fields.Integer()
    specification = fields.Text(help="Technical specification of the asset.")
    # The instrument register: tag (above), unit and range are kept here
    # once; the telemetry sensor of the instrument reads them.
    instrument_type = fields.Selection(INSTRUMENT_TYPES, tracking=True)
    measured_variable = fields.Char(
        tracking=True, help="What the instrument measures, e.g. pump discharge pressure."
    )
    instrument_unit = fields.Char("Unit", tracking=True, help="Engineering unit: bar, degC...")
    range_low = fields.Float(
        "Range low", tracking=True, help="Lower end of the calibrated range (4 mA)."
    )
    range_high = fields.Float(
        "Range high",
        default=100.0,
        tracking=True,
        help="Upper end of the calibrated range (20 mA).",
    )
    nominal_value = fields.Float("Nominal value", tracking=True, help="Expected operating point.")
    tolerance_mode = fields.Selection(
        TOLERANCE_MODES,
        "Tolerances in",
        default="span",
        required=True,
        tracking=True,
    )
    adjust_limit = fields.Float(
        tracking=True,
        help="An error beyond this (and within the fail limit) passes but is adjusted.",
    )
    fail_limit = fields.Float(
        tracking=True, help="An error beyond this is out of tolerance: the point fails."
    )
    calibration_interval_days = fields.Integer(
        "Calibration interval (days)",
        tracking=True,
        help="0: the equipment is not under calibration management.",
    )

    _sql_constraints = [
        (
            "cmms_tag_company_uniq",
            "unique(cmms_tag, company_id)",
            "The tag must be unique per company.",
        ),
    ]

    @api.constrains(
        "range_low",
        "range_high",
        "adjust_limit",
        "fail_limit",
        "calibration_interval_days",
    )
    def _check_instrument(self):
        for equipment in self:
            name = equipment.cmms_tag or equipment.name
            if equipment.range_low >= equipment.range_high:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the low end of the range must be below the high end.",
                        name=name,
                    )
                )
            if equipment.adjust_limit < 0 or equipment.fail_limit < equipment.adjust_limit:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the limits must satisfy 0 <= adjust limit <= fail limit.",
                        name=name,
                    )
                )
            if equipment.calibration_interval_days < 0:
                raise ValidationError(
                    self.env._("%(name)s: the calibration interval cannot be negative.", name=name)
                )
            if equipment.calibration_interval_days and equipment.fail_limit <= 0:
                raise ValidationError(
                    self.env._(
                        "%(name)s: an instrument under calibration needs a fail limit.", name=name
                    )
                )

    @api.depends("cmms_tag")
    def _compute_display_name(self):
        res = super()._compute_display_name()
        for equipment in self.filtered("cmms_tag"):
            if not (equipment.display_name or "").startswith(equipment.cmms_tag):
                equipment.display_name = f"[{equipment.cmms_tag}] {equipment.display_name}"
        return res

    @api.model
    def _search_display_name(self, operator, value):
        domain = super()._search_display_name(operator, value)
        if operator in ("ilike", "=ilike", "=", "like") and value:
            return ["|", ("cmms_tag", operator, value), *domain]
        return domain

    def _span(self):
        self.ensure_one()
        return self.range_high - self.range_low

    def _limit_in_units(self, limit):
        """A tolerance limit of this instrument in engineering units."""
        self.ensure_one()
        if self.tolerance_mode == "span":
            return limit / 100.0 * self._span()
        return limit
