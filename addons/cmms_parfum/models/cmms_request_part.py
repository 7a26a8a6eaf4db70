# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

COST_GROUPS = "cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager"


class CmmsRequestPart(models.Model):
    """A spare part used on a work order.

    A line with a product is a stocked spare part: completing the work order
    consumes it from the company's maintenance location by validated stock
    moves (``move_ids``). A line without a product is a non-stock item with
    a description and a hand-typed cost.
    """

    _name = "cmms.request.part"
    _description = "Part used on a work order"
    _check_company_auto = True

    request_id = fields.Many2one(
        "maintenance.request", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    product_id = fields.Many2one(
        "product.product",
        "Spare part",
        index="btree_not_null",
        check_company=True,
        domain="[('cmms_is_spare_part', '=', True)]",
        help="A stocked spare part; leave empty for a non-stock item.",
    )
    name = fields.Char(
        "Part", required=True, compute="_compute_name", store=True, readonly=False, precompute=True
    )
    part_number = fields.Char(compute="_compute_name", store=True, readonly=False, precompute=True)
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    quantity_returned = fields.Float(
        "Returned",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="Unused quantity put back into stock after the work order took it.",
    )
    uom = fields.Char("Unit", compute="_compute_name", store=True, readonly=False, precompute=True)
    qty_available = fields.Float(
        "On hand",
        compute="_compute_qty_available",
        digits="Product Unit of Measure",
        help="Quantity on hand in the maintenance location.",
    )
    qty_consumed = fields.Float(
        "Consumed",
        compute="_compute_qty_consumed",
        digits="Product Unit of Measure",
        help="Net quantity taken out of stock by this line (consumed minus returned).",
    )
    move_ids = fields.One2many("stock.move", "cmms_part_line_id", "Stock moves", readonly=True)
    unit_cost = fields.Float(
        digits="Product Price",
        groups=COST_GROUPS,
        help="Cost of a non-stock item; a stocked part is valued by its stock moves.",
    )
    cost = fields.Float(
        compute="_compute_cost", store=True, groups=COST_GROUPS, digits="Product Price"
    )

    @api.depends("product_id")
    def _compute_name(self):
        for line in self.filtered("product_id"):
            line.name = line.product_id.name
            line.part_number = line.product_id.default_code or False
            line.uom = line.product_id.uom_id.name

    @api.depends("product_id", "request_id.company_id")
    def _compute_qty_available(self):
        for line in self:
            if not line.product_id:
                line.qty_available = 0.0
                continue
            location = line.request_id.company_id._cmms_parts_location()
            line.qty_available = (
                line.product_id.sudo().with_context(location=location.id).qty_available
                if location
                else 0.0
            )

    @api.depends("move_ids.state", "move_ids.quantity")
    def _compute_qty_consumed(self):
        for line in self:
            line.qty_consumed = line._cmms_net_quantity()

    @api.depends(
        "quantity",
        "unit_cost",
        "product_id",
        "move_ids.state",
        "move_ids.quantity",
        "move_ids.price_unit",
    )
    def _compute_cost(self):
        for line in self:
            if line.product_id:
                moves = line.sudo().move_ids
                out = moves.filtered(lambda m: not m._cmms_is_return())
                back = moves - out
                line.cost = out._cmms_value() - back._cmms_value()
            else:
                line.cost = line.quantity * line.unit_cost

    def _cmms_net_quantity(self):
        self.ensure_one()
        done = self.sudo().move_ids.filtered(lambda m: m.state == "done")
        out = sum(m.product_qty for m in done if not m._cmms_is_return())
        back = sum(m.product_qty for m in done if m._cmms_is_return())
        return out - back

    @api.constrains("quantity", "quantity_returned")
    def _check_quantity(self):
        for line in self:
            if line.quantity <= 0:
                raise ValidationError(self.env._("A part's quantity must be positive."))
            if line.quantity_returned < 0 or line.quantity_returned > line.quantity:
                raise ValidationError(
                    self.env._("A part cannot be returned more than it was used.")
                )

    def unlink(self):
        for line in self:
            if line.sudo().move_ids.filtered(lambda m: m.state == "done"):
                raise UserError(
                    self.env._(
                        "%(part)s was already taken from stock: return it instead of "
                        "removing the line.",
                        part=line.name,
                    )
                )
        return super().unlink()

    @api.constrains("product_id")
    def _check_product(self):
        for line in self.filtered("product_id"):
            if not line.product_id.cmms_is_spare_part:
                raise ValidationError(
                    self.env._(
                        "%(product)s is not a spare part.", product=line.product_id.display_name
                    )
                )
            if line.move_ids and line.move_ids.product_id != line.product_id:
                raise ValidationError(
                    self.env._("A part already taken from stock cannot change to another part.")
                )
