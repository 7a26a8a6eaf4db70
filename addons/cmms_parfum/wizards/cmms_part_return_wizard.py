# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero


class CmmsPartReturnWizard(models.TransientModel):
    """Puts unused spare parts of a work order back into stock."""

    _name = "cmms.part.return.wizard"
    _description = "Return unused parts"

    request_id = fields.Many2one("maintenance.request", required=True, readonly=True)
    line_ids = fields.One2many("cmms.part.return.wizard.line", "wizard_id", "Parts")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        request = self.env["maintenance.request"].browse(res.get("request_id"))
        if request and "line_ids" in fields_list:
            request._cmms_check_can_return_parts()
            res["line_ids"] = [
                Command.create({"part_line_id": line.id, "quantity": 0.0})
                for line in request.sudo().part_line_ids.filtered("product_id")
                if line.qty_consumed > 0
            ]
        return res

    def action_confirm(self):
        self.ensure_one()
        request = self.request_id
        request._cmms_check_can_return_parts()
        returned = False
        for line in self.line_ids:
            part = line.part_line_id.sudo()
            if part.request_id != request:
                raise UserError(self.env._("A returned part must belong to this work order."))
            rounding = part.product_id.uom_id.rounding
            if float_compare(line.quantity, 0.0, precision_rounding=rounding) < 0:
                raise UserError(self.env._("A returned quantity cannot be negative."))
            if float_is_zero(line.quantity, precision_rounding=rounding):
                continue
            if float_compare(line.quantity, part.qty_consumed, precision_rounding=rounding) > 0:
                raise UserError(
                    self.env._(
                        "%(part)s: at most %(max)s can be returned.",
                        part=part.name,
                        max=part.qty_consumed,
                    )
                )
            part.quantity_returned += line.quantity
            returned = True
        if not returned:
            raise UserError(self.env._("Give the quantity of at least one part to return."))
        request.sudo()._cmms_sync_part_moves(cancel=request.cmms_state == "cancelled")
        request.sudo().message_post(
            body=self.env._(
                "Unused parts returned to stock: %(parts)s.",
                parts=", ".join(
                    f"{line.part_line_id.name} x {line.quantity:g}"
                    for line in self.line_ids
                    if line.quantity
                ),
            )
        )
        return {"type": "ir.actions.act_window_close"}


class CmmsPartReturnWizardLine(models.TransientModel):
    _name = "cmms.part.return.wizard.line"
    _description = "Part to return"

    wizard_id = fields.Many2one("cmms.part.return.wizard", required=True, ondelete="cascade")
    part_line_id = fields.Many2one("cmms.request.part", "Part", required=True, readonly=True)
    consumed = fields.Float(related="part_line_id.qty_consumed", string="Taken")
    quantity = fields.Float("To return", digits="Product Unit of Measure")
