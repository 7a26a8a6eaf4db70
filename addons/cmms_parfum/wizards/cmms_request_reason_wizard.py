# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CmmsRequestReasonWizard(models.TransientModel):
    """Asks the reason of a rejection at verification or of a cancellation."""

    _name = "cmms.request.reason.wizard"
    _description = "Reason of a rejection or cancellation"

    request_ids = fields.Many2many("maintenance.request", required=True)
    action = fields.Selection([("reject", "Reject"), ("cancel", "Cancel")], required=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        method = getattr(self.request_ids, f"action_{self.action}")
        method(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
