# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CmmsBudget(models.Model):
    """The maintenance budget of a period, owned by managers."""

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
        "maintenance.equipment.category", help="Empty: the whole maintenance budget."
    )
    note = fields.Text()
    active = fields.Boolean(default=True, tracking=True)

    @api.constrains("date_from", "date_to", "amount")
    def _check_budget(self):
        for budget in self:
            if budget.date_to < budget.date_from:
                raise ValidationError(self.env._("A budget ends after it starts."))
            if budget.amount < 0:
                raise ValidationError(self.env._("A budget cannot be negative."))
