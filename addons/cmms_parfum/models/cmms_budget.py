# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time

from odoo import api, fields, models
from odoo.exceptions import ValidationError

GROUP_MANAGER = "cmms_parfum.cmms_parfum_group_manager"
COST_STATES = ("done", "closed")


class CmmsBudget(models.Model):
    """The maintenance budget of a period, owned by managers.

    Its actual is the total cost of the work orders completed in the period
    (done or closed), for the whole plant or for one equipment category or
    plant area.
    """

    _name = "cmms.budget"
    _description = "Maintenance budget"
    _inherit = ["cmms.undeletable.mixin", "mail.thread"]
    _order = "date_from desc"

    name = fields.Char(required=True, tracking=True)
    date_from = fields.Date(required=True, tracking=True)
    date_to = fields.Date(required=True, tracking=True)
    amount = fields.Monetary(required=True, tracking=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    category_id = fields.Many2one(
        "maintenance.equipment.category",
        help="Empty: every category.",
        tracking=True,
    )
    process_area = fields.Char(
        "Plant area", help="Empty: every area. Compared with the equipment's area.", tracking=True
    )
    note = fields.Text()
    active = fields.Boolean(default=True, tracking=True)
    actual_amount = fields.Monetary("Actual", compute="_compute_actuals")
    remaining_amount = fields.Monetary("Remaining", compute="_compute_actuals")
    variance_amount = fields.Monetary(
        "Variance", compute="_compute_actuals", help="Budget minus actual: negative when over."
    )
    consumed_pct = fields.Float("Consumed (%)", compute="_compute_actuals", digits=(16, 1))
    notified_90 = fields.Boolean("90 % notified", readonly=True, copy=False)
    notified_100 = fields.Boolean("100 % notified", readonly=True, copy=False)

    @api.constrains("date_from", "date_to", "amount")
    def _check_budget(self):
        for budget in self:
            if budget.date_to < budget.date_from:
                raise ValidationError(self.env._("A budget ends after it starts."))
            if budget.amount < 0:
                raise ValidationError(self.env._("A budget cannot be negative."))

    def _work_order_domain(self):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("cmms_state", "in", COST_STATES),
            ("completed_at", ">=", datetime.combine(self.date_from, time.min)),
            ("completed_at", "<=", datetime.combine(self.date_to, time.max)),
        ]
        if self.category_id:
            domain.append(("equipment_id.category_id", "=", self.category_id.id))
        if self.process_area:
            domain.append(("equipment_id.process_area", "=ilike", self.process_area.strip()))
        return domain

    @api.depends("amount", "date_from", "date_to", "category_id", "process_area", "company_id")
    def _compute_actuals(self):
        Request = self.env["maintenance.request"].sudo()
        for budget in self:
            actual = 0.0
            if budget.date_from and budget.date_to and budget.company_id:
                [[actual]] = Request._read_group(
                    budget._work_order_domain(), aggregates=["total_cost:sum"]
                )
            budget.actual_amount = actual or 0.0
            budget.remaining_amount = budget.amount - budget.actual_amount
            budget.variance_amount = budget.remaining_amount
            budget.consumed_pct = (
                100.0 * budget.actual_amount / budget.amount if budget.amount else 0.0
            )

    def action_view_work_orders(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Work orders of %(budget)s", budget=self.name),
            "res_model": "maintenance.request",
            "view_mode": "list,form",
            "domain": self._work_order_domain(),
            "context": {"create": False},
        }

    @api.model
    def _cmms_check_consumption(self):
        """Tell the managers, once each, when a running budget reaches 90 %
        and 100 % of its amount."""
        today = fields.Date.context_today(self)
        budgets = self.sudo().search(
            [
                ("date_from", "<=", today),
                "|",
                ("notified_90", "=", False),
                ("notified_100", "=", False),
            ]
        )
        managers = (
            self.env.ref(GROUP_MANAGER).sudo().users.filtered(lambda u: u.active and not u.share)
        )
        for budget in budgets:
            pct = budget.consumed_pct
            for level, field in ((100, "notified_100"), (90, "notified_90")):
                if pct >= level and not budget[field]:
                    budget.message_post(
                        body=self.env._(
                            "Budget %(budget)s has reached %(pct)s %% (%(actual)s of "
                            "%(amount)s).",
                            budget=budget.name,
                            pct=round(pct, 1),
                            actual=round(budget.actual_amount, 2),
                            amount=round(budget.amount, 2),
                        ),
                        partner_ids=managers.partner_id.ids,
                        subtype_xmlid="mail.mt_comment",
                    )
                    updates = (
                        {"notified_100": True, "notified_90": True}
                        if level == 100
                        else {"notified_90": True}
                    )
                    budget.write(updates)
                    break
        return budgets
