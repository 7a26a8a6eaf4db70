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

from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

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
    external_cost_ids = fields.One2many(
        "cmms.request.external.cost",
        "request_id",
        "External costs",
        copy=False,
        groups=COST_GROUPS,
    )
    labor_cost = fields.Float(
        compute="_compute_costs", store=True, groups=COST_GROUPS, digits="Product Price"
    )
    external_cost = fields.Float(
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
        "user_id.cmms_hourly_cost",
        "company_id.cmms_labor_rate",
        "part_line_ids.cost",
        "external_cost_ids.amount",
    )
    def _compute_costs(self):
        """Labour (actual hours x the technician's hourly cost, or the company's
        default), parts (stock valuation of the consumed moves, net of returns,
        plus non-stock items) and external costs."""
        for request in self:
            sudo = request.sudo()
            rate = sudo.user_id.cmms_hourly_cost or sudo.company_id.cmms_labor_rate
            request.labor_cost = request.actual_duration * rate
            request.parts_cost = sum(sudo.part_line_ids.mapped("cost"))
            request.external_cost = sum(sudo.external_cost_ids.mapped("amount"))
            request.total_cost = request.labor_cost + request.parts_cost + request.external_cost

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
        self._cmms_sync_downtime(state)

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
        # Parts leave stock with the completion, or nothing does.
        self._cmms_sync_part_moves()
        self._set_state("done", completed_at=fields.Datetime.now())
        self.env["cmms.budget"].sudo()._cmms_check_consumption()
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
        # A cancelled work order consumes nothing: what it took goes back.
        self._cmms_sync_part_moves(cancel=True)
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

    # ------------------------------------------------------------------
    # Spare parts on stock
    # ------------------------------------------------------------------
    def _cmms_sync_part_moves(self, cancel=False):
        """Make the stock follow the part lines.

        Each stocked line must have consumed ``quantity - quantity_returned``
        (nothing when ``cancel``): the difference is taken from the company's
        maintenance location by a validated consumption picking of OCA
        maintenance_stock, or put back by a validated return. A shortage is
        refused before anything is written, unless the company allows
        negative stock.
        """
        for request in self:
            deltas = []
            for line in request.sudo().part_line_ids.filtered("product_id"):
                want = 0.0 if cancel else line.quantity - line.quantity_returned
                delta = want - line._cmms_net_quantity()
                if not float_is_zero(delta, precision_rounding=line.product_id.uom_id.rounding):
                    deltas.append((line, delta))
            if not deltas:
                continue
            company = request.company_id
            stock = company._cmms_parts_location()
            warehouse = stock.warehouse_id
            if (
                not stock
                or not warehouse.sudo().wh_cons_loc_id
                or not warehouse.sudo().cons_type_id
            ):
                raise UserError(
                    self.env._(
                        "%(company)s has no maintenance parts location with a consumption "
                        "operation: set it in the Maintenance settings.",
                        company=company.name,
                    )
                )
            out = [(line, delta) for line, delta in deltas if delta > 0]
            back = [(line, -delta) for line, delta in deltas if delta < 0]
            if out and not company.cmms_allow_negative_stock:
                request._cmms_check_parts_on_hand(out, stock)
            warehouse = warehouse.sudo()
            if out:
                request._cmms_move_parts(
                    out, warehouse.cons_type_id, stock, warehouse.wh_cons_loc_id
                )
            if back:
                return_type = warehouse.cons_type_id.return_picking_type_id or warehouse.in_type_id
                request._cmms_move_parts(back, return_type, warehouse.wh_cons_loc_id, stock)

    def _cmms_check_parts_on_hand(self, lines, location):
        needed = defaultdict(float)
        for line, quantity in lines:
            needed[line.product_id] += quantity
        Quant = self.env["stock.quant"].sudo()
        short = []
        for product, quantity in needed.items():
            on_hand = Quant._get_available_quantity(product, location)
            if float_compare(quantity, on_hand, precision_rounding=product.uom_id.rounding) > 0:
                short.append(
                    self.env._(
                        "%(part)s: %(needed)s needed, %(on_hand)s on hand",
                        part=product.display_name,
                        needed=quantity,
                        on_hand=max(on_hand, 0.0),
                    )
                )
        if short:
            raise UserError(
                self.env._(
                    "Not enough spare parts in %(location)s for %(request)s: %(short)s. "
                    "Restock them or change the quantities.",
                    location=location.display_name,
                    request=self.name,
                    short="; ".join(short),
                )
            )

    def _cmms_move_parts(self, lines, picking_type, source, destination):
        """One validated picking moving ``lines`` [(part line, quantity)]."""
        self.ensure_one()
        picking = (
            self.env["stock.picking"]
            .sudo()
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "maintenance_request_id": self.id,
                    "origin": self.name,
                    "company_id": self.company_id.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": line.name,
                                "product_id": line.product_id.id,
                                "product_uom_qty": quantity,
                                "product_uom": line.product_id.uom_id.id,
                                "location_id": source.id,
                                "location_dest_id": destination.id,
                                "cmms_part_line_id": line.id,
                                "price_unit": line.product_id.standard_price,
                                "company_id": self.company_id.id,
                            }
                        )
                        for line, quantity in lines
                    ],
                }
            )
        )
        picking.action_confirm()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking._action_done()
        if picking.state != "done":
            raise UserError(
                self.env._(
                    "The stock moves of %(request)s could not be validated.", request=self.name
                )
            )
        return picking

    def action_cmms_return_parts(self):
        """Open the dialog that puts unused parts back into stock."""
        self.ensure_one()
        self._cmms_check_can_return_parts()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Return unused parts"),
            "res_model": "cmms.part.return.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_request_id": self.id},
        }

    def _cmms_check_can_return_parts(self):
        self.ensure_one()
        if self.env.su or self._is_planner():
            return
        if self.user_id == self.env.user and self.cmms_state in ("in_progress", "done"):
            return
        raise AccessError(
            self.env._(
                "Only the assigned technician (until the work order is closed) or a "
                "supervisor may return parts of %(request)s.",
                request=self.name,
            )
        )

    # ------------------------------------------------------------------
    # Machine status and downtime (called from _set_state)
    # ------------------------------------------------------------------
    def _cmms_sync_downtime(self, state):
        """A corrective work order in progress is downtime of its machine.

        Entering "in progress" (start, or a rejection sending it back) opens
        a work-order interval on the top machine of the equipment and puts
        the machine under maintenance; leaving it (done, cancelled) closes
        the interval, and the machine runs again when no other corrective
        work on it is in progress, unless someone set it down meanwhile.
        """
        Event = self.env["cmms.downtime.event"].sudo()
        now = fields.Datetime.now()
        for request in self.filtered(
            lambda r: r.maintenance_type == "corrective" and r.equipment_id
        ):
            machine = request.equipment_id._top_machine()
            mine = Event.search([("request_id", "=", request.id), ("end", "=", False)])
            if state == "in_progress":
                if not mine:
                    # Started now, or resumed now after a rejection.
                    resumed = Event.search_count([("request_id", "=", request.id)])
                    start = now if resumed else request.started_at or now
                    Event._open_interval(machine, "work_order", start=start, request=request)
                if machine.machine_status in ("running", "down"):
                    machine._set_machine_status("maintenance", by_work_order=True)
            elif mine:
                mine._close(now)
                others = Event.search_count(
                    [
                        ("equipment_id", "=", machine.id),
                        ("source", "=", "work_order"),
                        ("end", "=", False),
                    ]
                )
                if not others and machine.machine_status == "maintenance":
                    machine._set_machine_status("running", by_work_order=True)


# A class of its own, so that the lifecycle above and this check are edited
# independently.
class MaintenanceRequestCalibration(models.Model):
    """Calibration work orders: closing one requires its approved calibration record.

    Kept apart from the lifecycle above: every way of closing (the button,
    the status bar, a kanban drag, Odoo's plain stages) writes
    ``cmms_state`` or a stage, and is checked here first.
    """

    _inherit = "maintenance.request"  # pylint: disable=consider-merging-classes-inherited

    source = fields.Selection(
        selection_add=[("calibration", "Calibration")], ondelete={"calibration": "set default"}
    )
    cmms_calibration = fields.Boolean(
        "Calibration work order",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Opened for a calibration that is due; it closes with its approved record.",
    )
    calibration_ids = fields.One2many(
        "cmms.calibration",
        "request_id",
        "Calibration records",
        groups="cmms_parfum.cmms_parfum_group_technician,"
        "cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager",
    )

    def write(self, vals):
        target = vals.get("cmms_state")
        if not target and vals.get("stage_id"):
            target = self._state_of_stage(self.env["maintenance.stage"].browse(vals["stage_id"]))
        if target == "closed":
            self._check_calibration_record()
        return super().write(vals)

    def _check_calibration_record(self):
        for request in self.filtered("cmms_calibration"):
            if not request.sudo().calibration_ids.filtered(lambda c: c.state == "approved"):
                raise UserError(
                    self.env._(
                        "%(request)s is a calibration work order: it closes only with its "
                        "approved calibration record.",
                        request=request.name,
                    )
                )
