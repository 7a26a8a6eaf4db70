# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import float_compare

GROUP_SUPERVISOR = "cmms_parfum.cmms_parfum_group_supervisor"


class StockWarehouseOrderpoint(models.Model):
    """The minimum quantity of a spare part is Odoo's reordering rule."""

    _inherit = "stock.warehouse.orderpoint"

    cmms_low_notified = fields.Boolean(
        "Low stock notified",
        copy=False,
        readonly=True,
        help="Set when the supervisors were told that the part fell below its "
        "minimum; cleared when the stock is back at the minimum (re-armed).",
    )

    @api.model
    def _cmms_check_low_stock(self, products):
        """Tell the supervisors, once per crossing, that a spare part is low.

        A part below the minimum of one of its reordering rules notifies the
        supervisors when that rule was not yet notified; a part at or above
        the minimum re-arms the rule. Called after stock moves are done.
        """
        parts = products.filtered(lambda p: p.product_tmpl_id.cmms_is_spare_part)
        if not parts:
            return self.browse()
        rules = self.sudo().search(
            [("product_id", "in", parts.ids), ("trigger", "in", ("auto", "manual"))]
        )
        crossed = self.browse()
        for rule in rules:
            on_hand = rule.product_id.with_context(location=rule.location_id.id).qty_available
            below = (
                float_compare(
                    on_hand,
                    rule.product_min_qty,
                    precision_rounding=rule.product_uom.rounding,
                )
                < 0
            )
            if below and not rule.cmms_low_notified:
                crossed |= rule
                rule._cmms_notify_low(on_hand)
            elif not below and rule.cmms_low_notified:
                rule.cmms_low_notified = False
        crossed.cmms_low_notified = True
        return crossed

    def _cmms_notify_low(self, on_hand):
        self.ensure_one()
        supervisors = self.env.ref(GROUP_SUPERVISOR).sudo().users.filtered("active")
        template = self.product_id.product_tmpl_id.sudo()
        template.message_post(
            body=self.env._(
                "Low stock: %(part)s has %(on_hand)s %(uom)s in %(location)s, below its "
                "minimum of %(minimum)s. The replenishment view proposes the order.",
                part=self.product_id.display_name,
                on_hand=on_hand,
                uom=self.product_uom.name,
                location=self.location_id.display_name,
                minimum=self.product_min_qty,
            ),
            partner_ids=supervisors.partner_id.ids,
            subtype_xmlid="mail.mt_comment",
        )
