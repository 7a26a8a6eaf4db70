# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Step cards on work orders, and the technician's rescheduling.

Kept apart from the lifecycle in maintenance_request.py: the steps are
copied at creation, the completion needs every step recorded, and a
technician may move the schedule of their own open work order.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .maintenance_request import GROUP_TECHNICIAN

RESCHEDULABLE_STATES = ("requested", "approved", "in_progress")


class MaintenanceRequestStep(models.Model):
    _inherit = "maintenance.request"  # pylint: disable=consider-merging-classes-inherited

    step_ids = fields.One2many("cmms.request.step", "request_id", "Steps", copy=True)
    step_count = fields.Integer(compute="_compute_step_progress")
    step_done_count = fields.Integer("Steps done", compute="_compute_step_progress")
    step_progress = fields.Float(compute="_compute_step_progress")
    step_flagged = fields.Boolean("Step flagged", compute="_compute_step_progress")

    @api.depends("step_ids.result")
    def _compute_step_progress(self):
        for request in self:
            steps = request.step_ids
            done = steps.filtered(lambda s: s.result != "todo")
            request.step_count = len(steps)
            request.step_done_count = len(done)
            request.step_progress = 100.0 * len(done) / len(steps) if steps else 0.0
            request.step_flagged = any(s.result in ("failed", "out_of_tolerance") for s in steps)

    @api.model_create_multi
    def create(self, vals_list):
        requests = super().create(vals_list)
        Template = self.env["cmms.step.template"].sudo()
        for request, vals in zip(requests, vals_list, strict=True):
            if vals.get("step_ids") or request.sudo().step_ids:
                continue
            templates = Template._steps_for(
                request.equipment_id.sudo().category_id,
                request.maintenance_type,
                request.company_id,
            )
            if templates:
                self.env["cmms.request.step"].sudo().create(
                    [
                        {**step_vals, "request_id": request.id}
                        for step_vals in templates._request_step_vals()
                    ]
                )
        return requests

    def action_complete(self):
        for request in self:
            todo = request.step_ids.filtered(lambda s: s.result == "todo")
            if todo:
                raise UserError(
                    self.env._(
                        "To complete %(request)s, record its steps first: %(steps)s.",
                        request=request.name,
                        steps=", ".join(todo.mapped("name")),
                    )
                )
        return super().action_complete()

    def _check_field_rights(self, vals):
        """A technician may move the schedule of their own open work order."""
        if "schedule_date" in vals and self._cmms_may_reschedule():
            # A rescheduled job is announced again (area_notified reset).
            vals = {
                k: v
                for k, v in vals.items()
                if k != "schedule_date" and not (k == "area_notified" and not v)
            }
        return super()._check_field_rights(vals)

    def _cmms_may_reschedule(self):
        user = self.env.user
        return (
            user.has_group(GROUP_TECHNICIAN)
            and bool(self)
            and all(r.user_id == user and r.cmms_state in RESCHEDULABLE_STATES for r in self)
        )
