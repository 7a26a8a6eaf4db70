# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

PLANNER_GROUPS = (
    "cmms_parfum.cmms_parfum_group_supervisor",
    "cmms_parfum.cmms_parfum_group_manager",
)
STANDARD_STATES = [
    ("valid", "Valid"),
    ("expiring", "Expiring soon"),
    ("expired", "Expired"),
    ("out_of_tolerance", "Out of tolerance"),
]


def is_planner(env):
    """Supervisors, managers and the superuser."""
    return env.su or any(env.user.has_group(group) for group in PLANNER_GROUPS)


class CmmsCalibrationStandard(models.Model):
    """A reference standard (calibrator, test gauge, reference thermometer).

    Its own calibration is attested by a certificate, valid until its due
    date; its expanded uncertainty (k = 2) sets the test uncertainty ratio
    of the calibrations it takes part in.
    """

    _name = "cmms.calibration.standard"
    _description = "Calibration reference standard"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    serial_number = fields.Char(required=True, tracking=True)
    manufacturer = fields.Char()
    certificate_number = fields.Char(required=True, tracking=True)
    certificate_file = fields.Binary(attachment=True, copy=False)
    certificate_filename = fields.Char()
    certificate_issuer = fields.Char(
        "Calibrated by", help="The accredited laboratory that issued the certificate."
    )
    calibrated_on = fields.Date(
        "Last good calibration",
        required=True,
        tracking=True,
        help="Date of the standard's own calibration, as on its certificate.",
    )
    due_date = fields.Date(required=True, tracking=True, index=True)
    uncertainty = fields.Float(
        "Expanded uncertainty (k=2)",
        digits=(16, 5),
        required=True,
        tracking=True,
        help="Expanded uncertainty of the standard (coverage factor 2), in its unit.",
    )
    uncertainty_unit = fields.Char(
        "Unit",
        required=True,
        help="Unit of the uncertainty; calibrations of instruments in this unit use it "
        "for the test uncertainty ratio.",
    )
    out_of_tolerance = fields.Boolean(readonly=True, tracking=True, copy=False)
    out_of_tolerance_on = fields.Date(readonly=True, copy=False)
    out_of_tolerance_note = fields.Text(tracking=True, copy=False)
    state = fields.Selection(STANDARD_STATES, compute="_compute_state")
    calibration_ids = fields.Many2many(
        "cmms.calibration",
        "cmms_calibration_standard_rel",
        "standard_id",
        "calibration_id",
        "Calibrations",
        readonly=True,
        copy=False,
    )
    calibration_count = fields.Integer(compute="_compute_calibration_count")
    notes = fields.Text()

    @api.depends("due_date", "out_of_tolerance")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for standard in self:
            days = (standard.company_id or self.env.company).cmms_calibration_notice_days
            if standard.out_of_tolerance:
                standard.state = "out_of_tolerance"
            elif standard.due_date and standard.due_date < today:
                standard.state = "expired"
            elif standard.due_date and standard.due_date <= today + timedelta(days=days):
                standard.state = "expiring"
            else:
                standard.state = "valid"

    def _compute_calibration_count(self):
        for standard in self:
            standard.calibration_count = len(standard.calibration_ids)

    @api.constrains("calibrated_on", "due_date", "uncertainty")
    def _check_dates(self):
        for standard in self:
            if standard.due_date < standard.calibrated_on:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the due date cannot precede the calibration date.",
                        name=standard.name,
                    )
                )
            if standard.uncertainty <= 0:
                raise ValidationError(
                    self.env._("%(name)s: the uncertainty must be positive.", name=standard.name)
                )

    def _refusal(self, when):
        """Why this standard may not be used on ``when`` (a datetime), or False."""
        self.ensure_one()
        if self.out_of_tolerance:
            return self.env._(
                "the reference standard %(name)s (%(serial)s) was found out of tolerance",
                name=self.name,
                serial=self.serial_number,
            )
        if self.due_date < fields.Date.to_date(when):
            return self.env._(
                "the reference standard %(name)s (%(serial)s) expired on %(date)s",
                name=self.name,
                serial=self.serial_number,
                date=fields.Date.to_string(self.due_date),
            )
        return False

    def _affected_calibrations(self):
        """Signed and approved calibrations this standard took part in since its
        last good calibration."""
        self.ensure_one()
        return self.calibration_ids.filtered(
            lambda c: c.state in ("signed", "approved")
            and fields.Date.to_date(c.calibration_date) >= self.calibrated_on
        )

    def action_report_out_of_tolerance(self):
        """The standard was found out of tolerance: trace every instrument it touched
        since its last good calibration and flag them for review."""
        if not is_planner(self.env):
            raise AccessError(
                self.env._("Only supervisors and managers report a standard out of tolerance.")
            )
        for standard in self:
            if standard.out_of_tolerance:
                raise UserError(
                    self.env._("%(name)s is already out of tolerance.", name=standard.name)
                )
            if not (standard.out_of_tolerance_note or "").strip():
                raise UserError(
                    self.env._(
                        "Describe what was found in the out-of-tolerance note of %(name)s.",
                        name=standard.name,
                    )
                )
        today = fields.Date.context_today(self)
        for standard in self:
            standard.write({"out_of_tolerance": True, "out_of_tolerance_on": today})
            calibrations = standard._affected_calibrations()
            for equipment in calibrations.equipment_id:
                names = ", ".join(
                    calibrations.filtered(lambda c, e=equipment: c.equipment_id == e).mapped(
                        "display_name"
                    )
                )
                equipment.sudo()._flag_calibration_review(
                    self.env._(
                        "Reference standard %(name)s (%(serial)s) found out of tolerance on "
                        "%(date)s; it was used in %(records)s.",
                        name=standard.name,
                        serial=standard.serial_number,
                        date=fields.Date.to_string(today),
                        records=names,
                    )
                )
            standard.message_post(
                body=self.env._(
                    "Reported out of tolerance; %(count)s instrument(s) flagged for review.",
                    count=len(calibrations.equipment_id),
                )
            )
        return self.action_view_calibrations()

    def action_return_to_service(self):
        """A standard recalibrated after being out of tolerance is usable again."""
        if not is_planner(self.env):
            raise AccessError(
                self.env._("Only supervisors and managers return a standard to service.")
            )
        for standard in self:
            if standard.out_of_tolerance and standard.calibrated_on <= (
                standard.out_of_tolerance_on or standard.calibrated_on
            ):
                raise UserError(
                    self.env._(
                        "Enter the new certificate of %(name)s (a calibration after it was "
                        "found out of tolerance) first.",
                        name=standard.name,
                    )
                )
        self.write({"out_of_tolerance": False})
        return True

    def action_view_calibrations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cmms_parfum.cmms_calibration_action"
        )
        action["domain"] = [("standard_ids", "in", self.ids)]
        action["context"] = {}
        return action
