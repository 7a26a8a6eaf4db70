# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Work orders of preventive plans and the schedules people see."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime

# Operators hear of planned work on their machines this long before it starts.
NOTICE_AHEAD = timedelta(hours=24)
PLANNED_TYPES = ("preventive", "predictive")
UPCOMING_STATES = ("requested", "approved", "in_progress")


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    in_my_area = fields.Boolean(
        "In my plant area",
        compute="_compute_in_my_area",
        search="_search_in_my_area",
        help="On a machine of the plant area of the current user.",
    )
    equipment_process_area = fields.Char(related="equipment_id.process_area", string="Plant area")
    area_notified = fields.Boolean(
        "Plant area notified",
        copy=False,
        readonly=True,
        help="The operators of the plant area were told the day before.",
    )

    @api.depends_context("uid")
    @api.depends("equipment_id.process_area")
    def _compute_in_my_area(self):
        area = (self.env.user.cmms_process_area or "").strip().lower()
        for request in self:
            own = (request.equipment_id.process_area or "").strip().lower()
            request.in_my_area = bool(area) and own == area

    def _search_in_my_area(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search 'In my plant area' with = or != and a boolean."))
        area = (self.env.user.cmms_process_area or "").strip()
        mine = [("equipment_id.process_area", "=ilike", area)] if area else [("id", "=", False)]
        if (operator == "=") == value:
            return mine
        return ["!", *mine]

    @api.constrains("recurring_maintenance", "equipment_id")
    def _check_no_recurrence_on_planned_equipment(self):
        """Odoo's copy-on-close recurrence and plans never plan the same machine."""
        Plan = self.env["maintenance.plan"].sudo()
        for request in self.filtered(lambda r: r.recurring_maintenance and r.equipment_id):
            if request.maintenance_plan_id or Plan.search_count(
                [("equipment_id", "=", request.equipment_id.id)], limit=1
            ):
                raise ValidationError(
                    self.env._(
                        "%(equipment)s is planned by its preventive plans: add a plan "
                        "rather than repeating this work order.",
                        equipment=request.equipment_id.display_name,
                    )
                )

    def write(self, vals):
        if "schedule_date" in vals:
            # A rescheduled job is announced again.
            vals = {**vals, "area_notified": False}
        return super().write(vals)

    @api.model
    def _cron_notify_planned_work(self):
        """Tell the operators of a machine's plant area, once, about planned
        work starting within the next day."""
        now = fields.Datetime.now()
        requests = self.sudo().search(
            [
                ("maintenance_type", "in", PLANNED_TYPES),
                ("cmms_state", "in", ("approved", "in_progress")),
                ("area_notified", "=", False),
                ("schedule_date", ">", now),
                ("schedule_date", "<=", now + NOTICE_AHEAD),
                ("equipment_id.process_area", "!=", False),
            ]
        )
        operators = self.env.ref("cmms_parfum.cmms_parfum_group_operator").users.filtered(
            lambda u: u.active and u.cmms_process_area
        )
        for request in requests:
            area = request.equipment_id.process_area.strip().lower()
            audience = operators.filtered(
                lambda u, area=area, request=request: u.cmms_process_area.strip().lower() == area
                and request.company_id in u.company_ids
            )
            if audience:
                request.message_post(
                    body=self.env._(
                        "Planned work on %(equipment)s (%(area)s) starts %(date)s: %(work)s.",
                        equipment=request.equipment_id.display_name,
                        area=request.equipment_id.process_area,
                        date=format_datetime(
                            self.env, request.schedule_date, tz=audience[0].tz, dt_format="short"
                        ),
                        work=request.name,
                    ),
                    partner_ids=audience.partner_id.ids,
                    subtype_xmlid="mail.mt_comment",
                )
        requests.with_context(cmms_transition=True).write({"area_notified": True})
        return len(requests)
