# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CmmsRequestPart(models.Model):
    """A spare part used on a work order."""

    _name = "cmms.request.part"
    _description = "Part used on a work order"

    request_id = fields.Many2one(
        "maintenance.request", required=True, index=True, ondelete="cascade"
    )
    name = fields.Char("Part", required=True)
    part_number = fields.Char()
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    uom = fields.Char("Unit", default="pcs")
    unit_cost = fields.Float(
        digits="Product Price",
        groups="cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager",
    )

    @api.constrains("quantity")
    def _check_quantity(self):
        for line in self:
            if line.quantity <= 0:
                raise ValidationError(self.env._("A part's quantity must be positive."))
