# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The steps of one work order, copied from the templates at its creation."""

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare

from .maintenance_request import GROUP_SUPERVISOR

RESULTS = [
    ("todo", "To do"),
    ("ok", "Done"),
    ("failed", "Not OK"),
    ("out_of_tolerance", "Out of tolerance"),
]
RESULT_FIELDS = {"result", "measured_value", "note", "photo", "done_by_id", "done_at"}


class CmmsRequestStep(models.Model):
    _name = "cmms.request.step"
    _description = "Work order step"
    _order = "request_id, sequence, id"

    request_id = fields.Many2one(
        "maintenance.request", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    template_id = fields.Many2one("cmms.step.template", readonly=True, ondelete="set null")
    name = fields.Char("Step", required=True)
    instruction = fields.Text()
    expects_value = fields.Boolean("Measured value")
    expected_value = fields.Float()
    tolerance = fields.Float()
    unit = fields.Char()
    image = fields.Image(max_width=1280, max_height=1280)
    result = fields.Selection(RESULTS, default="todo", required=True, readonly=True, copy=False)
    measured_value = fields.Float(readonly=True, copy=False)
    note = fields.Text(readonly=True, copy=False)
    photo = fields.Image(max_width=1920, max_height=1920, readonly=True, copy=False)
    done_by_id = fields.Many2one("res.users", "Done by", readonly=True, copy=False)
    done_at = fields.Datetime(readonly=True, copy=False)

    @api.constrains("tolerance")
    def _check_tolerance(self):
        for step in self:
            if step.tolerance < 0:
                raise ValidationError(self.env._("A tolerance cannot be negative."))

    def write(self, vals):
        # Results are recorded through action_record; the step itself is
        # the supervisors' to edit, before the work starts.
        if not self.env.su and not self.env.context.get("cmms_step_record"):
            if not self.env["maintenance.request"]._is_planner():
                raise AccessError(self.env._("Record a step's result from its work order."))
            if set(vals) & RESULT_FIELDS:
                raise AccessError(self.env._("Record a step's result from its work order."))
        return super().write(vals)

    def _is_out_of_tolerance(self, value):
        self.ensure_one()
        return (
            float_compare(abs(value - self.expected_value), self.tolerance, precision_digits=6) > 0
        )

    def action_record(self, ok=None, value=None, note=None, photo=None):
        """Record the result of this step: ``ok`` (True / False) for a check,
        ``value`` for a measured step (checked against the tolerance). Only the
        technician assigned to the work order, while it is in progress."""
        self.ensure_one()
        request = self.request_id
        if not (request.user_id == self.env.user or request._is_planner()):
            raise AccessError(
                self.env._(
                    "Only the technician assigned to %(request)s records its steps.",
                    request=request.name,
                )
            )
        if request.cmms_state != "in_progress":
            raise UserError(
                self.env._(
                    "%(request)s is %(state)s: start it before recording its steps.",
                    request=request.name,
                    state=request._state_label(),
                )
            )
        if ok is not None and not isinstance(ok, bool):
            raise ValidationError(self.env._("'ok' is true, false or empty."))
        if note is not None and not isinstance(note, str):
            raise ValidationError(self.env._("A note is text."))
        vals = {
            "note": (note or "").strip() or False,
            "done_by_id": self.env.uid,
            "done_at": fields.Datetime.now(),
        }
        if self.expects_value:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(
                    self.env._(
                        "Step %(step)s needs a measured value (a number, in %(unit)s).",
                        step=self.name,
                        unit=self.unit or "-",
                    )
                )
            vals["measured_value"] = float(value)
            out = self._is_out_of_tolerance(float(value))
            vals["result"] = "out_of_tolerance" if out else ("failed" if ok is False else "ok")
        else:
            if value is not None and value is not False:
                raise ValidationError(
                    self.env._("Step %(step)s takes no measured value.", step=self.name)
                )
            vals["result"] = "failed" if ok is False else "ok"
        if photo:
            self.env["cmms.request.photo"]._validate_image(photo)
            vals["photo"] = photo
        self.with_context(cmms_step_record=True).write(vals)
        if self.result in ("failed", "out_of_tolerance"):
            self._flag_to_supervisor()
        return True

    def _flag_to_supervisor(self):
        """A message to the supervisors of the equipment's plant area (all
        supervisors when none has that area) and a to-do for one of them."""
        self.ensure_one()
        request = self.request_id.sudo()
        supervisors = self.env.ref(GROUP_SUPERVISOR).sudo().users.filtered("active")
        area = request.equipment_id.process_area
        local = supervisors.filtered(lambda u: area and u.cmms_process_area == area)
        supervisors = local or supervisors
        if self.result == "out_of_tolerance":
            summary = self.env._(
                "Out of tolerance: %(step)s measured %(value)s %(unit)s "
                "(expected %(expected)s ± %(tolerance)s).",
                step=self.name,
                value=self.measured_value,
                unit=self.unit or "",
                expected=self.expected_value,
                tolerance=self.tolerance,
            )
        else:
            summary = self.env._("Step not OK: %(step)s.", step=self.name)
        body = escape(summary)
        if self.note:
            body += Markup("<br/>") + escape(self.note)
        request.message_post(
            body=body,
            partner_ids=supervisors.partner_id.ids,
            subtype_xmlid="mail.mt_comment",
        )
        if supervisors:
            request.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=summary[:250],
                user_id=supervisors[0].id,
            )
