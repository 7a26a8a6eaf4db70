# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Preventive plans (OCA ``maintenance_plan``) in the CMMS lifecycle.

A plan is calendar based (OCA: an interval, a planning horizon, requests
generated ahead once each by the daily scheduled job) or meter based (ours:
a first threshold and an interval of a machine meter; one request per
crossing, then the plan re-arms at the next multiple).
"""

import math
from datetime import datetime, time

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# Planned work starts at this hour (the technician's time zone).
PLANNED_HOUR = 8

TRIGGERS = [("time", "Calendar"), ("meter", "Meter")]


class MaintenancePlan(models.Model):
    _inherit = "maintenance.plan"

    trigger_type = fields.Selection(
        TRIGGERS,
        "Trigger",
        default="time",
        required=True,
        tracking=True,
        help="Calendar: every interval, generated ahead within the planning horizon. "
        "Meter: when the meter reaches the threshold, then at every meter interval.",
    )
    technician_user_id = fields.Many2one(
        "res.users",
        "Technician",
        tracking=True,
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("cmms_parfum.cmms_parfum_group_technician").ids)
        ],
        help="Assigned to the requests of this plan (default: the equipment's technician).",
    )
    meter_id = fields.Many2one(
        "cmms.meter",
        tracking=True,
        domain="[('equipment_id', '=', equipment_id)]",
        index="btree_not_null",
    )
    meter_uom = fields.Char(related="meter_id.uom", string="Meter unit")
    meter_threshold = fields.Float(
        "First at",
        tracking=True,
        help="Meter value (lifetime total) at which the first request is made.",
    )
    meter_interval = fields.Float(
        "Then every",
        tracking=True,
        help="Meter units between two requests after the first.",
    )
    meter_next_value = fields.Float(
        "Next at",
        compute="_compute_meter_next_value",
        store=True,
        readonly=False,
        tracking=True,
        help="Meter value at which the next request is made; it moves on by the interval "
        "each time a request is made.",
    )

    @api.depends("meter_threshold")
    def _compute_meter_next_value(self):
        # A new first value re-arms the plan there.
        for plan in self:
            plan.meter_next_value = plan.meter_threshold

    @api.depends(
        "interval",
        "interval_step",
        "start_maintenance_date",
        "maintenance_ids.request_date",
        "maintenance_ids.close_date",
        "trigger_type",
    )
    def _compute_next_maintenance(self):
        by_meter = self.filtered(lambda p: p.trigger_type == "meter")
        by_meter.next_maintenance_date = False
        return super(MaintenancePlan, self - by_meter)._compute_next_maintenance()

    @api.constrains(
        "trigger_type", "interval", "meter_id", "meter_interval", "meter_threshold", "equipment_id"
    )
    def _check_cmms_trigger(self):
        for plan in self:
            if plan.trigger_type == "time":
                if plan.interval <= 0 or not plan.interval_step:
                    raise ValidationError(
                        self.env._(
                            "The plan %(plan)s needs an interval (every how many days, weeks, "
                            "months or years).",
                            plan=plan.display_name,
                        )
                    )
                continue
            if not plan.meter_id:
                raise ValidationError(
                    self.env._(
                        "The meter-based plan %(plan)s needs a meter.", plan=plan.display_name
                    )
                )
            if plan.meter_interval <= 0:
                raise ValidationError(
                    self.env._(
                        "The meter-based plan %(plan)s needs an interval above 0 (every how "
                        "many %(unit)s).",
                        plan=plan.display_name,
                        unit=plan.meter_id.uom or self.env._("units"),
                    )
                )
            if plan.meter_threshold < 0:
                raise ValidationError(self.env._("A plan's first meter value cannot be negative."))
            if plan.equipment_id != plan.meter_id.equipment_id:
                raise ValidationError(
                    self.env._(
                        "The meter %(meter)s belongs to %(equipment)s: a plan uses a meter of "
                        "its own equipment.",
                        meter=plan.meter_id.display_name,
                        equipment=plan.meter_id.equipment_id.display_name,
                    )
                )

    @api.constrains("equipment_id", "active")
    def _check_no_core_recurrence(self):
        """Odoo's copy-on-close recurrence and plans never plan the same machine."""
        Request = self.env["maintenance.request"].sudo()
        for plan in self.filtered(lambda p: p.active and p.equipment_id):
            recurring = Request.search(
                [
                    ("equipment_id", "=", plan.equipment_id.id),
                    ("recurring_maintenance", "=", True),
                    ("cmms_state", "not in", ("closed", "cancelled")),
                ],
                limit=1,
            )
            if recurring:
                raise ValidationError(
                    self.env._(
                        "%(equipment)s already repeats %(request)s with Odoo's recurrence: "
                        "turn that recurrence off before planning the equipment with plans.",
                        equipment=plan.equipment_id.display_name,
                        request=recurring.name,
                    )
                )

    def unlink(self):
        if self.sudo().maintenance_ids:
            raise UserError(
                self.env._("A plan that made requests is kept for their history: archive it.")
            )
        return super().unlink()

    def button_manual_request_generation(self):
        if self.filtered(lambda p: p.trigger_type == "meter"):
            raise UserError(
                self.env._("A meter-based plan makes its requests when the meter reaches them.")
            )
        return super().button_manual_request_generation()

    # ------------------------------------------------------------------
    # Meter-based plans
    # ------------------------------------------------------------------
    def _cmms_fire_meter(self, reading):
        """Make one request for each plan whose next value ``reading`` reached.

        The plan then re-arms at its next multiple of the interval above the
        meter's total: readings between two crossings make nothing, and a
        jump over several intervals makes one request, not one per interval.
        """
        requests = self.env["maintenance.request"]
        total = reading.total_value
        for plan in self.filtered(
            lambda p: p.active and p.trigger_type == "meter" and p.meter_interval > 0
        ):
            if total < plan.meter_next_value:
                continue
            crossed = plan.meter_next_value
            day = fields.Date.context_today(plan, reading.read_at)
            vals = plan.equipment_id._prepare_request_from_plan(plan, fields.Date.add(day, days=1))
            vals["request_date"] = day
            vals["requested_at"] = fields.Datetime.now()
            vals["description"] = self.env._(
                "%(meter)s reached %(total)s %(unit)s (due at %(due)s).",
                meter=plan.meter_id.display_name,
                total=round(total, 2),
                unit=plan.meter_id.uom or "",
                due=round(crossed, 2),
            )
            requests |= self.env["maintenance.request"].sudo().create(vals)
            steps = math.floor((total - crossed) / plan.meter_interval) + 1
            plan.sudo().meter_next_value = crossed + steps * plan.meter_interval
        return requests

    def _cmms_schedule_at(self, day, user_id=None):
        """08:00 on ``day`` in the technician's time zone, as naive UTC."""
        user = self.env["res.users"].sudo().browse(user_id) if user_id else self.env.user
        tz = pytz.timezone(user.tz or self.env.user.tz or "UTC")
        local = tz.localize(datetime.combine(day, time(PLANNED_HOUR)))
        return local.astimezone(pytz.utc).replace(tzinfo=None)
