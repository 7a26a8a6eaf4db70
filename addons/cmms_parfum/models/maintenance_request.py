# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The work-order lifecycle on ``maintenance.request``.

requested -> approved (assigned to a technician, scheduled) -> in progress
-> done (awaiting verification) -> closed; verification may reject back to
in progress with a reason; cancel with a reason before closing.

Every transition is a method that checks, on the server, the state and who
may make it; the chatter tracks who, when, from and to. Each state has its
maintenance stage, so the kanban keeps working; dragging a card runs the
same checks. Users without a CMMS role keep Odoo's plain behaviour.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

PRIORITIES = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("urgent", "Urgent"),
]

# Odoo's star widget on maintenance.request keeps working: it mirrors ours.
PRIORITY_TO_STARS = {"low": "0", "medium": "1", "high": "2", "urgent": "3"}

SOURCES = [
    ("person", "Person"),
    ("plan", "Preventive plan"),
    ("alert", "Alert"),
]

STATES = [
    ("requested", "Requested"),
    ("approved", "Approved"),
    ("in_progress", "In progress"),
    ("done", "Done, awaiting verification"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = ("requested", "approved", "in_progress", "done")

STATE_STAGES = {
    "requested": "maintenance.stage_0",
    "approved": "cmms_parfum.maintenance_stage_approved",
    "in_progress": "maintenance.stage_1",
    "done": "cmms_parfum.maintenance_stage_verification",
    "closed": "maintenance.stage_3",
    "cancelled": "cmms_parfum.maintenance_stage_cancelled",
}

# name: (from states, to state, who: "planner" = supervisor or manager,
# "assignee" = the technician the work order is assigned to)
TRANSITIONS = {
    "approve": (("requested",), "approved", "planner"),
    "start": (("approved",), "in_progress", "assignee"),
    "complete": (("in_progress",), "done", "assignee"),
    "close": (("done",), "closed", "planner"),
    "reject": (("done",), "in_progress", "planner"),
    "cancel": (OPEN_STATES, "cancelled", "planner"),
}

# Fields each role may write outside transitions (planners write any).
ALWAYS_WRITABLE = {"color", "kanban_state", "message_main_attachment_id"}
REQUESTER_FIELDS = {"name", "description", "equipment_id", "cmms_priority", "photo_ids"}
TECHNICIAN_FIELDS = {
    "completion_note",
    "actual_duration",
    "part_line_ids",
    "no_parts_used",
    "photo_ids",
}

COST_GROUPS = "cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager"
GROUP_OPERATOR = "cmms_parfum.cmms_parfum_group_operator"
GROUP_TECHNICIAN = "cmms_parfum.cmms_parfum_group_technician"
GROUP_SUPERVISOR = "cmms_parfum.cmms_parfum_group_supervisor"
GROUP_MANAGER = "cmms_parfum.cmms_parfum_group_manager"


class MaintenanceRequest(models.Model):
    _name = "maintenance.request"
    _inherit = ["cmms.undeletable.mixin", "maintenance.request"]

    cmms_state = fields.Selection(
        STATES,
        "Status",
        default="requested",
        required=True,
        tracking=True,
        index=True,
        copy=False,
        readonly=True,
    )
    cmms_priority = fields.Selection(
        PRIORITIES,
        "CMMS priority",
        default="medium",
        required=True,
        tracking=True,
        index=True,
    )
    priority = fields.Selection(compute="_compute_priority", store=True, readonly=True)
    maintenance_type = fields.Selection(
        selection_add=[("predictive", "Predictive")],
        ondelete={"predictive": "set default"},
    )
    source = fields.Selection(
        SOURCES, default="person", required=True, readonly=True, tracking=True
    )
    equipment_criticality = fields.Selection(
        related="equipment_id.criticality", string="Equipment criticality"
    )
    equipment_tag = fields.Char(related="equipment_id.cmms_tag", string="Tag")
    requested_at = fields.Datetime(
        default=fields.Datetime.now, required=True, readonly=True, copy=False
    )
    sla_deadline = fields.Datetime(
        "SLA deadline", compute="_compute_sla_deadline", store=True, index=True
    )
    sla_breached = fields.Boolean(
        "SLA breached", compute="_compute_sla_breached", search="_search_sla_breached"
    )
    sla_breach_notified = fields.Boolean(copy=False, readonly=True)
    approved_at = fields.Datetime(readonly=True, copy=False)
    started_at = fields.Datetime(readonly=True, copy=False)
    completed_at = fields.Datetime(readonly=True, copy=False)
    closed_at = fields.Datetime(readonly=True, copy=False)
    verified_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    completion_note = fields.Text(tracking=True, copy=False)
    actual_duration = fields.Float(
        help="Hours actually spent, beside the estimate (Duration).", copy=False
    )
    no_parts_used = fields.Boolean(copy=False)
    part_line_ids = fields.One2many("cmms.request.part", "request_id", "Parts used", copy=False)
    photo_ids = fields.One2many("cmms.request.photo", "request_id", "Photos", copy=False)
    labor_cost = fields.Float(
        compute="_compute_costs", store=True, groups=COST_GROUPS, digits="Product Price"
    )
    parts_cost = fields.Float(
        compute="_compute_costs", store=True, groups=COST_GROUPS, digits="Product Price"
    )
    total_cost = fields.Float(
        compute="_compute_costs", store=True, groups=COST_GROUPS, digits="Product Price"
    )
    reject_reason = fields.Text(readonly=True, copy=False, tracking=True)
    cancel_reason = fields.Text(readonly=True, copy=False, tracking=True)

    @api.depends("cmms_priority")
    def _compute_priority(self):
        for request in self:
            request.priority = PRIORITY_TO_STARS.get(request.cmms_priority, "1")

    @api.depends(
        "actual_duration",
        "company_id.cmms_labor_rate",
        "part_line_ids.quantity",
        "part_line_ids.unit_cost",
    )
    def _compute_costs(self):
        for request in self:
            request.labor_cost = request.actual_duration * request.company_id.cmms_labor_rate
            request.parts_cost = sum(
                line.quantity * line.unit_cost for line in request.sudo().part_line_ids
            )
            request.total_cost = request.labor_cost + request.parts_cost

    @api.depends("cmms_priority", "requested_at", "company_id")
    def _compute_sla_deadline(self):
        for request in self:
            hours = request.company_id._cmms_sla_hours(request.cmms_priority)
            start = request.requested_at or fields.Datetime.now()
            request.sla_deadline = start + timedelta(hours=hours) if hours else False

    @api.depends("sla_deadline", "cmms_state", "completed_at")
    def _compute_sla_breached(self):
        now = fields.Datetime.now()
        for request in self:
            if not request.sla_deadline or request.cmms_state == "cancelled":
                request.sla_breached = False
            elif request.completed_at:
                request.sla_breached = request.completed_at > request.sla_deadline
            else:
                request.sla_breached = now > request.sla_deadline

    def _search_sla_breached(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search 'SLA breached' with = or != and a boolean."))
        self.flush_model(["sla_deadline", "completed_at", "cmms_state"])
        self.env.cr.execute(
            """
            SELECT id FROM maintenance_request
             WHERE cmms_state != 'cancelled'
               AND sla_deadline IS NOT NULL
               AND COALESCE(completed_at, %s) > sla_deadline
            """,
            [fields.Datetime.now()],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if (operator == "=") == value:
            return [("id", "in", ids)]
        return [("id", "not in", ids)]

    @api.constrains("actual_duration")
    def _check_actual_duration(self):
        for request in self:
            if request.actual_duration < 0:
                raise ValidationError(self.env._("The actual duration cannot be negative."))

    # ------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------
    def _cmms_user_roles(self):
        user = self.env.user
        return {
            role
            for role, group in (
                ("operator", GROUP_OPERATOR),
                ("technician", GROUP_TECHNICIAN),
                ("supervisor", GROUP_SUPERVISOR),
                ("manager", GROUP_MANAGER),
            )
            if user.has_group(group)
        }

    def _is_planner(self):
        return self.env.su or bool(self._cmms_user_roles() & {"supervisor", "manager"})

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            roles = self._cmms_user_roles()
            if roles and not roles & {"operator", "supervisor", "manager"}:
                raise AccessError(
                    self.env._("Technicians do not request work orders; ask a supervisor.")
                )
            if roles:
                for vals in vals_list:
                    # A new work order always starts as a request.
                    vals.pop("cmms_state", None)
                    vals["stage_id"] = self.env.ref(STATE_STAGES["requested"]).id
        for vals in vals_list:
            state = vals.get("cmms_state")
            if state and "stage_id" not in vals:
                vals["stage_id"] = self.env.ref(STATE_STAGES[state]).id
        return super().create(vals_list)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for request, vals in zip(self, vals_list, strict=True):
            # Odoo's recurring maintenance copies a done request into the next
            # occurrence: that one comes from the preventive plan.
            if request.recurring_maintenance and not (default or {}).get("source"):
                vals["source"] = "plan"
        return vals_list

    def write(self, vals):
        if "stage_id" in vals and not self.env.context.get("cmms_transition"):
            return self._write_stage_change(vals)
        if not self.env.su and not self.env.context.get("cmms_transition"):
            self._check_field_rights(vals)
        return super().write(vals)

    def _check_field_rights(self, vals):
        roles = self._cmms_user_roles()
        if not roles or roles & {"supervisor", "manager"}:
            return
        fields_written = set(vals) - ALWAYS_WRITABLE
        if "cmms_state" in fields_written:
            raise AccessError(self.env._("Use the work order's buttons to change its status."))
        allowed = set()
        if "technician" in roles:
            mine = self.filtered(lambda r: r.user_id == self.env.user)
            if mine == self and all(r.cmms_state == "in_progress" for r in self):
                allowed |= TECHNICIAN_FIELDS
        if "operator" in roles and all(
            r.owner_user_id == self.env.user and r.cmms_state == "requested" for r in self
        ):
            allowed |= REQUESTER_FIELDS
        forbidden = fields_written - allowed
        if forbidden:
            raise AccessError(
                self.env._(
                    "You may not change %(fields)s on these work orders.",
                    fields=", ".join(sorted(forbidden)),
                )
            )

    def _write_stage_change(self, vals):
        """A stage change (kanban drag, status bar) is a transition."""
        stage = self.env["maintenance.stage"].browse(vals["stage_id"])
        target = self._state_of_stage(stage)
        others = {k: v for k, v in vals.items() if k != "stage_id"}
        if self.env.su or not self._cmms_user_roles():
            # Odoo's plain behaviour for users without a CMMS role.
            if target:
                vals = {**vals, "cmms_state": target}
            return super(MaintenanceRequest, self.with_context(cmms_transition=True)).write(vals)
        if others:
            self.write(others)
        for request in self:
            if request.stage_id == stage:
                continue
            names = [
                name
                for name, (sources, to_state, _who) in TRANSITIONS.items()
                if to_state == target and request.cmms_state in sources
            ]
            if not names:
                raise UserError(
                    self.env._(
                        "A work order cannot move from %(from)s to %(to)s.",
                        **{"from": request._state_label(), "to": stage.name},
                    )
                )
            if names[0] in ("reject", "cancel"):
                raise UserError(
                    self.env._("Use the %(name)s button: it asks for a reason.", name=names[0])
                )
            getattr(request, f"action_{names[0]}")()
        return True

    @api.model
    def _state_of_stage(self, stage):
        for state, xmlid in STATE_STAGES.items():
            if self.env.ref(xmlid, raise_if_not_found=False) == stage:
                return state
        return False

    def _state_label(self):
        return dict(STATES).get(self.cmms_state, self.cmms_state)

    def _check_transition(self, name):
        """Raise unless every request may make transition ``name`` now."""
        sources, _to_state, who = TRANSITIONS[name]
        for request in self:
            if request.cmms_state not in sources:
                raise UserError(
                    self.env._(
                        "%(request)s is %(state)s: it cannot be %(action)s.",
                        request=request.name,
                        state=request._state_label(),
                        action=name,
                    )
                )
            if self.env.su:
                continue
            if who == "planner" and not request._is_planner():
                raise AccessError(
                    self.env._("Only a supervisor or a manager may %(action)s a work order.",
                               action=name)
                )  # fmt: skip
            if who == "assignee" and not (
                request.user_id == self.env.user and "technician" in request._cmms_user_roles()
            ):
                raise AccessError(
                    self.env._(
                        "Only the technician assigned to %(request)s may %(action)s it.",
                        request=request.name,
                        action=name,
                    )
                )

    def _set_state(self, state, **vals):
        stage = self.env.ref(STATE_STAGES[state])
        self.with_context(cmms_transition=True).sudo().write(
            {"cmms_state": state, "stage_id": stage.id, **vals}
        )

    # ------------------------------------------------------------------
    # Transitions
    # ------------------------------------------------------------------
    def action_approve(self):
        """Approve and assign: needs a technician and a scheduled date."""
        self._check_transition("approve")
        for request in self:
            if not request.user_id:
                raise UserError(
                    self.env._("Assign %(request)s to a technician first.", request=request.name)
                )
            if not request.user_id.has_group(GROUP_TECHNICIAN):
                raise UserError(
                    self.env._("%(user)s is not a technician.", user=request.user_id.display_name)
                )
            if not request.schedule_date:
                raise UserError(
                    self.env._("Schedule %(request)s before approving it.", request=request.name)
                )
        self._set_state("approved", approved_at=fields.Datetime.now())
        self._notify_assignee()
        return True

    def action_start(self):
        self._check_transition("start")
        self._set_state("in_progress", started_at=fields.Datetime.now())
        return True

    def action_complete(self):
        self._check_transition("complete")
        for request in self:
            request._check_completion()
        self._set_state("done", completed_at=fields.Datetime.now())
        self.activity_feedback(["maintenance.mail_act_maintenance_request"])
        return True

    def action_close(self):
        """Verify and close."""
        self._check_transition("close")
        self._set_state("closed", closed_at=fields.Datetime.now(), verified_by_id=self.env.uid)
        return True

    def action_reject(self, reason=None):
        """Send back to the technician, with the reason."""
        if reason is None:
            return self._reason_wizard("reject")
        self._check_transition("reject")
        self._check_reason(reason)
        self._set_state("in_progress", reject_reason=reason.strip(), completed_at=False)
        for request in self:
            request.message_post(
                body=self.env._("Rejected at verification: %(reason)s", reason=reason.strip()),
                partner_ids=request.user_id.partner_id.ids,
            )
        return True

    def action_cancel(self, reason=None):
        if reason is None:
            return self._reason_wizard("cancel")
        self._check_transition("cancel")
        self._check_reason(reason)
        self._set_state("cancelled", cancel_reason=reason.strip())
        self.activity_unlink(["maintenance.mail_act_maintenance_request"])
        return True

    def _check_reason(self, reason):
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Give a reason."))

    def _cmms_unlink_way_out(self):
        return self.env._("cancel the work order, with a reason, instead.")

    def _reason_wizard(self, action):
        # Checked before the dialog opens, and again when it is confirmed.
        self._check_transition(action)
        return {
            "type": "ir.actions.act_window",
            "res_model": "cmms.request.reason.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_request_ids": self.ids, "default_action": action},
        }

    def _check_completion(self):
        self.ensure_one()
        missing = []
        if not (self.completion_note or "").strip():
            missing.append(self.env._("completion notes"))
        if self.actual_duration <= 0:
            missing.append(self.env._("the actual duration"))
        if not self.part_line_ids and not self.no_parts_used:
            missing.append(self.env._("the parts used (or 'no parts used')"))
        if self.equipment_id.criticality in ("high", "critical") and not self.photo_ids.filtered(
            lambda p: p.stage == "completion"
        ):
            missing.append(self.env._("a completion photo (critical equipment)"))
        if missing:
            raise UserError(
                self.env._(
                    "To complete %(request)s, give %(missing)s.",
                    request=self.name,
                    missing=", ".join(missing),
                )
            )

    def _notify_assignee(self):
        """An activity for the technician, and a notification (mail when a
        server is configured, Odoo's inbox otherwise)."""
        for request in self.sudo():
            # Odoo's maintenance keeps one activity per request for the
            # assignee at the scheduled date.
            request.activity_update()
            request.message_subscribe(partner_ids=request.user_id.partner_id.ids)
            request.message_post(
                body=self.env._(
                    "Assigned to %(user)s, scheduled %(date)s.",
                    user=request.user_id.name,
                    date=fields.Datetime.to_string(request.schedule_date),
                ),
                partner_ids=request.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )

    @api.model
    def _cron_notify_sla_breaches(self):
        """Tell the supervisors, once, about each new SLA breach."""
        breached = self.search(
            [
                ("sla_breached", "=", True),
                ("sla_breach_notified", "=", False),
                ("cmms_state", "in", OPEN_STATES),
            ]
        )
        supervisors = self.env.ref(GROUP_SUPERVISOR).users.filtered("active")
        for request in breached:
            request.message_post(
                body=self.env._(
                    "SLA breached: %(request)s was due %(deadline)s.",
                    request=request.name,
                    deadline=fields.Datetime.to_string(request.sla_deadline),
                ),
                partner_ids=supervisors.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )
        breached.with_context(cmms_transition=True).write({"sla_breach_notified": True})
        return len(breached)
