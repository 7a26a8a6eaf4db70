# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class StockMove(models.Model):
    _name = "stock.move"
    _inherit = ["cmms.undeletable.mixin", "stock.move"]

    def _check_cmms_unlink(self):
        # A draft move has moved nothing yet: it goes with its draft transfer.
        moved = self.filtered(lambda move: move.state != "draft")
        return super(StockMove, moved)._check_cmms_unlink()

    def _cmms_unlink_way_out(self):
        return self.env._(
            "cancel the move, or correct the stock with a new inventory adjustment, instead."
        )
