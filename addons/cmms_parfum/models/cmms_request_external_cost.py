# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CmmsRequestExternalCost(models.Model):
    """A cost of a work order paid to a vendor (contractor, hired tool...)."""

    _name = "cmms.request.external.cost"
    _description = "External cost of a work order"
    _check_company_auto = True

    request_id = fields.Many2one(
        "maintenance.request", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    vendor_id = fields.Many2one("res.partner", "Vendor", check_company=True)
    amount = fields.Monetary(required=True)
    note = fields.Char()

    @api.constrains("amount")
    def _check_amount(self):
        for cost in self:
            if cost.amount < 0:
                raise ValidationError(self.env._("An external cost cannot be negative."))
