# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Calibration records: test points, as-found / as-left results, signatures.

draft -> signed (by the technician who performed it) -> approved (by a
supervisor or manager); a signed record is never edited or deleted: a
correction is a new version (``previous_id``) that supersedes it once
approved. Both signatures ask for the signer's password again (Odoo's
identity check) and store who, when and what the signature means.
"""

import hashlib
import json
import math

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .calibration_tools import RESULTS, point_result, worst
from .cmms_calibration_standard import is_planner
from .maintenance_equipment import TOLERANCE_MODES

STATES = [
    ("draft", "Draft"),
    ("signed", "Signed"),
    ("approved", "Approved"),
    ("superseded", "Superseded"),
    ("cancelled", "Cancelled"),
]
# Test points offered for a new record: % of range, rising then falling.
DEFAULT_POINTS = [(0, "up"), (25, "up"), (50, "up"), (75, "up"), (100, "up"),
                  (75, "down"), (50, "down"), (25, "down"), (0, "down")]  # fmt: skip
# A value further than this share of the span outside the calibrated range
# is a typing mistake (a 4-20 mA loop reads 2.4-21.6 mA at the very most).
RANGE_MARGIN = 0.10
# Test uncertainty ratios below this are flagged (ANSI/NCSL Z540.3 practice).
MIN_TUR = 4.0
# Fields a signed record still takes: its lifecycle, set by the methods below.
CHATTER_PREFIXES = ("message_", "activity_")
GROUP_TECHNICIAN = "cmms_parfum.cmms_parfum_group_technician"


class CmmsCalibration(models.Model):
    _name = "cmms.calibration"
    _description = "Calibration record"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "calibration_date desc, id desc"

    name = fields.Char(readonly=True, copy=False, default="/", index=True)
    state = fields.Selection(
        STATES, default="draft", required=True, readonly=True, tracking=True, index=True, copy=False
    )
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Instrument",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        domain="[('cmms_kind', '=', 'instrument'), ('calibration_interval_days', '>', 0)]",
    )
    equipment_tag = fields.Char(related="equipment_id.cmms_tag", string="Tag")
    company_id = fields.Many2one(related="equipment_id.company_id", store=True, index=True)
    request_id = fields.Many2one(
        "maintenance.request",
        "Work order",
        index="btree_not_null",
        tracking=True,
        domain="[('equipment_id', '=', equipment_id)]",
    )
    technician_id = fields.Many2one(
        "res.users",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="Who performed the calibration; only they may sign it.",
    )
    calibration_date = fields.Datetime(
        "Calibrated on", required=True, default=fields.Datetime.now, tracking=True
    )
    standard_ids = fields.Many2many(
        "cmms.calibration.standard",
        "cmms_calibration_standard_rel",
        "calibration_id",
        "standard_id",
        "Reference standards",
    )
    ambient_conditions = fields.Char(help="Optional, e.g. 23 degC, 45 %RH.")
    adjusted = fields.Boolean(
        help="The instrument was adjusted: enter the as-left readings. Otherwise as-left is "
        "as-found."
    )
    point_ids = fields.One2many("cmms.calibration.point", "calibration_id", "Test points")
    notes = fields.Text()
    # The instrument's specification when it was calibrated, kept with the
    # record: a later change of range or tolerance does not rewrite history.
    unit = fields.Char(compute="_compute_specification", store=True, readonly=False)
    range_low = fields.Float(compute="_compute_specification", store=True, readonly=False)
    range_high = fields.Float(compute="_compute_specification", store=True, readonly=False)
    tolerance_mode = fields.Selection(
        TOLERANCE_MODES, compute="_compute_specification", store=True, readonly=False
    )
    adjust_limit = fields.Float(compute="_compute_specification", store=True, readonly=False)
    fail_limit = fields.Float(compute="_compute_specification", store=True, readonly=False)
    # Results.
    as_found_result = fields.Selection(RESULTS, compute="_compute_results", store=True)
    as_left_result = fields.Selection(RESULTS, compute="_compute_results", store=True)
    as_found_max_error_pct = fields.Float(
        "Largest as-found error (% span)", compute="_compute_results", store=True, digits=(16, 3)
    )
    as_left_max_error_pct = fields.Float(
        "Largest as-left error (% span)", compute="_compute_results", store=True, digits=(16, 3)
    )
    as_found_ratio = fields.Float(
        "As-found error / tolerance",
        compute="_compute_results",
        store=True,
        digits=(16, 3),
        help="Largest as-found error divided by the fail limit: 1.0 is at the limit.",
    )
    tur = fields.Float(
        "Test uncertainty ratio",
        compute="_compute_tur",
        store=True,
        digits=(16, 2),
        help="Tolerance (fail limit, in units) divided by the expanded uncertainty of the "
        "standards in the instrument's unit (root sum of squares); 0 when no standard is "
        "in that unit.",
    )
    tur_low = fields.Boolean("TUR below 4:1", compute="_compute_tur", store=True)
    # Versions and signatures.
    version = fields.Integer(default=1, readonly=True, copy=False)
    previous_id = fields.Many2one(
        "cmms.calibration", "Replaces", readonly=True, copy=False, index="btree_not_null"
    )
    next_version_ids = fields.One2many("cmms.calibration", "previous_id", readonly=True)
    superseded_by_id = fields.Many2one(
        "cmms.calibration", compute="_compute_superseded_by_id", store=True
    )
    signed_by_id = fields.Many2one("res.users", "Signed by", readonly=True, copy=False)
    signed_at = fields.Datetime(readonly=True, copy=False)
    signature_meaning = fields.Char(readonly=True, copy=False)
    approved_by_id = fields.Many2one("res.users", "Approved by", readonly=True, copy=False)
    approved_at = fields.Datetime(readonly=True, copy=False)
    approval_meaning = fields.Char(readonly=True, copy=False)
    content_hash = fields.Char(
        readonly=True,
        copy=False,
        help="SHA-256 of the signed content; approval checks it is unchanged.",
    )
    corrective_request_id = fields.Many2one(
        "maintenance.request", "Corrective work order", readonly=True, copy=False
    )

    @api.depends("equipment_id")
    def _compute_specification(self):
        for record in self:
            equipment = record.equipment_id
            record.unit = equipment.instrument_unit
            record.range_low = equipment.range_low
            record.range_high = equipment.range_high
            record.tolerance_mode = equipment.tolerance_mode or "span"
            record.adjust_limit = equipment.adjust_limit
            record.fail_limit = equipment.fail_limit

    @api.depends(
        "point_ids.as_found_result",
        "point_ids.as_left_result",
        "point_ids.as_found_error_pct",
        "point_ids.as_left_error_pct",
        "point_ids.as_found_error",
    )
    def _compute_results(self):
        for record in self:
            points = record.point_ids
            record.as_found_result = worst(points.mapped("as_found_result"))
            record.as_left_result = worst(points.mapped("as_left_result"))
            record.as_found_max_error_pct = max(
                [abs(e) for e in points.mapped("as_found_error_pct")] or [0.0]
            )
            record.as_left_max_error_pct = max(
                [abs(e) for e in points.mapped("as_left_error_pct")] or [0.0]
            )
            errors = [abs(p._error_in_tolerance_unit(p.as_found_error)) for p in points]
            record.as_found_ratio = (
                max(errors) / record.fail_limit if errors and record.fail_limit else 0.0
            )

    @api.depends(
        "standard_ids.uncertainty",
        "standard_ids.uncertainty_unit",
        "unit",
        "fail_limit",
        "tolerance_mode",
        "range_low",
        "range_high",
    )
    def _compute_tur(self):
        for record in self:
            same_unit = record.standard_ids.filtered(
                lambda s, r=record: (s.uncertainty_unit or "").strip() == (r.unit or "").strip()
            )
            uncertainty = math.sqrt(sum(s.uncertainty**2 for s in same_unit))
            tolerance = record._limit_in_units(record.fail_limit)
            record.tur = tolerance / uncertainty if uncertainty and tolerance else 0.0
            record.tur_low = bool(record.tur) and round(record.tur, 9) < MIN_TUR

    @api.depends("next_version_ids.state")
    def _compute_superseded_by_id(self):
        for record in self:
            record.superseded_by_id = record.next_version_ids.filtered(
                lambda c: c.state == "approved"
            )[:1]

    @api.depends("name", "version")
    def _compute_display_name(self):
        for record in self:
            record.display_name = f"{record.name} v{record.version}"

    @api.constrains("standard_ids", "calibration_date")
    def _check_standards(self):
        for record in self:
            for standard in record.standard_ids:
                reason = standard._refusal(record.calibration_date)
                if reason:
                    raise ValidationError(
                        self.env._(
                            "%(record)s cannot be recorded: %(reason)s.",
                            record=record.display_name,
                            reason=reason,
                        )
                    )

    @api.onchange("equipment_id")
    def _onchange_equipment_id(self):
        if self.equipment_id and not self.point_ids:
            self.point_ids = [fields.Command.create(vals) for vals in self._default_points()]
        if self.equipment_id and not self.request_id:
            self.request_id = self.equipment_id._open_calibration_request()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not self.env.su:
                # A record starts as a draft of its performer.
                for name in ("state", "signed_by_id", "approved_by_id", "version", "previous_id"):
                    vals.pop(name, None)
            if "request_id" not in vals and vals.get("equipment_id"):
                equipment = self.env["maintenance.equipment"].browse(vals["equipment_id"])
                vals["request_id"] = equipment._open_calibration_request().id
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("cmms.calibration") or "/"
        records = super().create(vals_list)
        for record in records.filtered(lambda r: not r.point_ids and r.state == "draft"):
            record.point_ids = [fields.Command.create(v) for v in record._default_points()]
        return records

    def write(self, vals):
        if not self.env.context.get("cmms_calibration_lifecycle"):
            fields_written = {name for name in vals if not name.startswith(CHATTER_PREFIXES)}
            if fields_written:
                self._check_editable()
        return super().write(vals)

    def unlink(self):
        for record in self:
            if record.state != "draft" or record.previous_id:
                raise UserError(
                    self.env._(
                        "%(record)s cannot be deleted: calibration records are kept. Cancel a "
                        "draft instead.",
                        record=record.display_name,
                    )
                )
        return super().unlink()

    def _check_editable(self):
        for record in self:
            if record.state != "draft":
                raise UserError(
                    self.env._(
                        "%(record)s is %(state)s: a signed record is never changed. Create a "
                        "new version to correct it.",
                        record=record.display_name,
                        state=dict(STATES)[record.state].lower(),
                    )
                )

    def _limit_in_units(self, limit):
        self.ensure_one()
        if self.tolerance_mode == "span":
            return limit / 100.0 * (self.range_high - self.range_low)
        return limit

    def _default_points(self):
        self.ensure_one()
        equipment = self.equipment_id
        low, span = equipment.range_low, equipment.range_high - equipment.range_low
        return [
            {
                "sequence": index,
                "percent": percent,
                "direction": direction,
                "reference_value": low + span * percent / 100.0,
            }
            for index, (percent, direction) in enumerate(DEFAULT_POINTS)
        ]

    def _content(self):
        """What a signature covers, as canonical JSON."""
        self.ensure_one()
        return json.dumps(
            {
                "name": self.name,
                "version": self.version,
                "equipment": self.equipment_id.cmms_tag,
                "technician": self.technician_id.login,
                "date": fields.Datetime.to_string(self.calibration_date),
                "standards": sorted(self.standard_ids.mapped("serial_number")),
                "spec": [
                    self.unit,
                    self.range_low,
                    self.range_high,
                    self.tolerance_mode,
                    self.adjust_limit,
                    self.fail_limit,
                ],  # fmt: skip
                "points": [
                    [p.percent, p.direction, p.reference_value, p.as_found_value, p.as_left_value]
                    for p in self.point_ids.sorted(lambda p: (p.sequence, p.id))
                ],
            },
            sort_keys=True,
        )

    def _hash(self):
        return hashlib.sha256(self._content().encode()).hexdigest()

    def _lifecycle_write(self, vals):
        return self.with_context(cmms_calibration_lifecycle=True).sudo().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_sign(self):
        """The technician signs (the dialog asks for the password)."""
        self._check_can_sign()
        return self._signature_dialog("sign")

    def action_approve(self):
        """A supervisor approves (the dialog asks for the password)."""
        self._check_can_approve()
        return self._signature_dialog("approve")

    def _signature_dialog(self, action):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Electronic signature"),
            "res_model": "cmms.calibration.sign.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_calibration_id": self.id, "default_action": action},
        }

    def _check_can_sign(self):
        for record in self:
            if record.state != "draft":
                raise UserError(
                    self.env._("%(record)s is already signed.", record=record.display_name)
                )
            if not self.env.su and record.technician_id != self.env.user:
                raise AccessError(
                    self.env._(
                        "Only %(user)s, who performed %(record)s, may sign it.",
                        user=record.technician_id.name,
                        record=record.display_name,
                    )
                )
            if not record.point_ids:
                raise UserError(
                    self.env._("%(record)s has no test points.", record=record.display_name)
                )
            if not record.standard_ids:
                raise UserError(
                    self.env._(
                        "Name the reference standards used for %(record)s.",
                        record=record.display_name,
                    )
                )
            record._check_standards()

    def _check_can_approve(self):
        if not is_planner(self.env):
            raise AccessError(self.env._("Only supervisors and managers approve calibrations."))
        for record in self:
            if record.state != "signed":
                raise UserError(
                    self.env._(
                        "%(record)s must be signed by its technician before approval.",
                        record=record.display_name,
                    )
                )
            if not self.env.su and record.signed_by_id == self.env.user:
                raise AccessError(
                    self.env._(
                        "%(record)s was signed by you: another person approves it.",
                        record=record.display_name,
                    )
                )
            if record.content_hash != record._hash():
                raise UserError(
                    self.env._(
                        "%(record)s changed after it was signed: it cannot be approved.",
                        record=record.display_name,
                    )
                )
            record._check_standards()

    def _sign(self, meaning):
        """Sign as the performer; the caller has checked the password."""
        self._check_can_sign()
        now = fields.Datetime.now()
        for record in self:
            record._lifecycle_write(
                {
                    "state": "signed",
                    "signed_by_id": self.env.uid,
                    "signed_at": now,
                    "signature_meaning": meaning,
                    "content_hash": record._hash(),
                }
            )
            record.message_post(
                body=self.env._(
                    "Signed by %(user)s: %(meaning)s", user=self.env.user.name, meaning=meaning
                )
            )
            record._ask_approval()
        return True

    def _approve(self, meaning):
        """Approve as a supervisor; the caller has checked the password."""
        self._check_can_approve()
        now = fields.Datetime.now()
        for record in self:
            record._lifecycle_write(
                {
                    "state": "approved",
                    "approved_by_id": self.env.uid,
                    "approved_at": now,
                    "approval_meaning": meaning,
                }
            )
            if record.previous_id:
                record.previous_id._lifecycle_write({"state": "superseded"})
            record.message_post(
                body=self.env._(
                    "Approved by %(user)s: %(meaning)s", user=self.env.user.name, meaning=meaning
                )
            )
            record.sudo().activity_feedback(["mail.mail_activity_data_todo"])
            if record.as_found_result == "fail":
                record._open_corrective_request()
            record.equipment_id._on_calibration_approved(record)
        return True

    def action_new_version(self):
        """Correct a signed record: a new draft version that will replace it."""
        self.ensure_one()
        if self.state not in ("signed", "approved"):
            raise UserError(
                self.env._(
                    "Only a signed or approved record is corrected by a new version; edit "
                    "the draft %(record)s itself.",
                    record=self.display_name,
                )
            )
        if self.search_count([("previous_id", "=", self.id), ("state", "!=", "cancelled")]):
            raise UserError(
                self.env._("%(record)s already has a newer version.", record=self.display_name)
            )
        new = self.create(
            {
                "name": self.name,
                "equipment_id": self.equipment_id.id,
                "request_id": self.request_id.id,
                "calibration_date": self.calibration_date,
                "standard_ids": [fields.Command.set(self.standard_ids.ids)],
                "ambient_conditions": self.ambient_conditions,
                "adjusted": self.adjusted,
                "notes": self.notes,
                "point_ids": [
                    fields.Command.create(
                        {
                            "sequence": p.sequence,
                            "percent": p.percent,
                            "direction": p.direction,
                            "reference_value": p.reference_value,
                            "as_found_value": p.as_found_value,
                            "as_left_value": p.as_left_value,
                        }
                    )
                    for p in self.point_ids
                ],
            }
        )
        spec = {
            name: self[name]
            for name in (
                "unit",
                "range_low",
                "range_high",
                "tolerance_mode",
                "adjust_limit",
                "fail_limit",
            )  # fmt: skip
        }
        new._lifecycle_write({"version": self.version + 1, "previous_id": self.id, **spec})
        return {
            "type": "ir.actions.act_window",
            "res_model": "cmms.calibration",
            "res_id": new.id,
            "view_mode": "form",
        }

    def action_cancel(self):
        for record in self:
            if record.state != "draft":
                raise UserError(
                    self.env._(
                        "%(record)s is signed: correct it with a new version instead.",
                        record=record.display_name,
                    )
                )
        self._lifecycle_write({"state": "cancelled"})
        return True

    def action_print_certificate(self):
        return self.env.ref("cmms_parfum.cmms_calibration_report_certificate").report_action(self)

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _ask_approval(self):
        """A to-do for a supervisor of the instrument's company."""
        self.ensure_one()
        group = self.env.ref("cmms_parfum.cmms_parfum_group_supervisor")
        supervisors = group.users.filtered(
            lambda u: u.active
            and u != self.signed_by_id
            and (not self.company_id or self.company_id in u.company_ids)
        )
        if supervisors:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=supervisors[0].id,
                summary=self.env._("Approve calibration %(record)s", record=self.display_name),
            )

    def _open_corrective_request(self):
        """A failed as-found opens a corrective work order (once per record chain)."""
        self.ensure_one()
        request = self.previous_id.corrective_request_id
        if not request:
            equipment = self.equipment_id
            request = (
                self.env["maintenance.request"]
                .sudo()
                .create(
                    {
                        "name": self.env._(
                            "%(tag)s: failed as-found calibration (%(record)s)",
                            tag=equipment.cmms_tag or equipment.name,
                            record=self.display_name,
                        ),
                        "equipment_id": equipment.id,
                        "maintenance_type": "corrective",
                        "cmms_priority": "high",
                        "source": "calibration",
                        "description": self.env._(
                            "The instrument was found out of tolerance (largest as-found "
                            "error %(error).3f %% of span). Investigate its cause and the "
                            "effect on the product since the previous calibration.",
                            error=self.as_found_max_error_pct,
                        ),
                    }
                )
            )
        self._lifecycle_write({"corrective_request_id": request.id})
        return request


class CmmsCalibrationPoint(models.Model):
    _name = "cmms.calibration.point"
    _description = "Calibration test point"
    _order = "calibration_id, sequence, id"

    calibration_id = fields.Many2one(
        "cmms.calibration", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    percent = fields.Float("% of range", digits=(5, 1))
    direction = fields.Selection(
        [("up", "Rising"), ("down", "Falling")], default="up", required=True
    )
    reference_value = fields.Float(
        "Reference", digits=(16, 4), help="The value applied, read on the reference standard."
    )
    as_found_value = fields.Float("As found", digits=(16, 4))
    as_left_value = fields.Float(
        "As left",
        digits=(16, 4),
        compute="_compute_as_left_value",
        store=True,
        readonly=False,
        precompute=True,
    )
    as_found_error = fields.Float(compute="_compute_errors", store=True, digits=(16, 4))
    as_found_error_pct = fields.Float(
        "As-found error (% span)", compute="_compute_errors", store=True, digits=(16, 3)
    )
    as_found_result = fields.Selection(RESULTS, compute="_compute_errors", store=True)
    as_left_error = fields.Float(compute="_compute_errors", store=True, digits=(16, 4))
    as_left_error_pct = fields.Float(
        "As-left error (% span)", compute="_compute_errors", store=True, digits=(16, 3)
    )
    as_left_result = fields.Selection(RESULTS, compute="_compute_errors", store=True)

    @api.depends("as_found_value", "calibration_id.adjusted")
    def _compute_as_left_value(self):
        for point in self:
            if not point.calibration_id.adjusted:
                point.as_left_value = point.as_found_value
            else:
                point.as_left_value = point.as_left_value

    @api.depends(
        "reference_value",
        "as_found_value",
        "as_left_value",
        "calibration_id.range_low",
        "calibration_id.range_high",
        "calibration_id.tolerance_mode",
        "calibration_id.adjust_limit",
        "calibration_id.fail_limit",
    )
    def _compute_errors(self):
        for point in self:
            record = point.calibration_id
            span = record.range_high - record.range_low
            for prefix, value in (("as_found", point.as_found_value),
                                  ("as_left", point.as_left_value)):  # fmt: skip
                error = value - point.reference_value
                point[f"{prefix}_error"] = error
                point[f"{prefix}_error_pct"] = error / span * 100.0 if span else 0.0
                point[f"{prefix}_result"] = point_result(
                    point._error_in_tolerance_unit(error), record.adjust_limit, record.fail_limit
                )

    def _error_in_tolerance_unit(self, error):
        """An error in the unit of the record's limits (% of span or units)."""
        record = self.calibration_id
        if record.tolerance_mode == "span":
            span = record.range_high - record.range_low
            return error / span * 100.0 if span else 0.0
        return error

    @api.constrains("percent", "reference_value", "as_found_value", "as_left_value")
    def _check_values(self):
        labels = {
            "reference_value": self.env._("reference"),
            "as_found_value": self.env._("as-found"),
            "as_left_value": self.env._("as-left"),
        }
        for point in self:
            record = point.calibration_id
            if not 0.0 <= point.percent <= 100.0:
                raise ValidationError(
                    self.env._(
                        "%(record)s: a test point lies between 0 and 100 %% of the range.",
                        record=record.display_name,
                    )
                )
            span = record.range_high - record.range_low
            low = record.range_low - RANGE_MARGIN * span
            high = record.range_high + RANGE_MARGIN * span
            for name, label in labels.items():
                if not low <= point[name] <= high:
                    raise ValidationError(
                        self.env._(
                            "%(record)s, point %(percent)s %%: the %(label)s value %(value)s "
                            "%(unit)s lies outside the range %(low)s to %(high)s %(unit)s "
                            "(calibrated range with a 10 %% margin).",
                            record=record.display_name,
                            percent=f"{point.percent:g}",
                            label=label,
                            value=f"{point[name]:g}",
                            unit=record.unit or "",
                            low=f"{low:g}",
                            high=f"{high:g}",
                        )
                    )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if not (self.env.su or self.env.context.get("cmms_calibration_lifecycle")):
            records.calibration_id._check_editable()
        return records

    def write(self, vals):
        if not self.env.context.get("cmms_calibration_lifecycle"):
            self.calibration_id._check_editable()
        return super().write(vals)

    def unlink(self):
        self.calibration_id._check_editable()
        return super().unlink()
