# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class StockMove(models.Model):
    _name = "stock.move"
    _inherit = ["cmms.undeletable.mixin", "stock.move"]

    cmms_part_line_id = fields.Many2one(
        "cmms.request.part",
        "Work-order part",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        self.env["stock.warehouse.orderpoint"]._cmms_check_low_stock(moves.product_id)
        return moves

    def _cmms_value(self):
        """The value of done moves: Odoo's stock valuation when stock_account
        is installed, else the unit cost stamped on the move at consumption."""
        total = 0.0
        for move in self.filtered(lambda m: m.state == "done"):
            if "stock_valuation_layer_ids" in move._fields and move.stock_valuation_layer_ids:
                total += abs(sum(move.stock_valuation_layer_ids.mapped("value")))
            else:
                total += move.quantity * move.price_unit
        return total

    def _cmms_is_return(self):
        """A work-order part move back into stock (a return of unused parts)."""
        self.ensure_one()
        return self.location_dest_id.usage == "internal"

    def _check_cmms_unlink(self):
        # A draft move has moved nothing yet: it goes with its draft transfer.
        moved = self.filtered(lambda move: move.state != "draft")
        return super(StockMove, moved)._check_cmms_unlink()

    def _cmms_unlink_way_out(self):
        return self.env._(
            "cancel the move, or correct the stock with a new inventory adjustment, instead."
        )
