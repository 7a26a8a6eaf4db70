# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CmmsCalibrationSignWizard(models.TransientModel):
    """Electronic signature of a calibration record (21 CFR Part 11 manner).

    Odoo's identity check (``res.users.identitycheck``) asks for the password
    again; this copy of it also shows and stores what the signature means.
    Unlike the ``check_identity`` decorator it does not skip the question for
    ten minutes after a previous check: every signature asks for the password.
    """

    _name = "cmms.calibration.sign.wizard"
    _inherit = "res.users.identitycheck"
    _description = "Calibration signature"

    calibration_id = fields.Many2one("cmms.calibration", required=True, ondelete="cascade")
    action = fields.Selection([("sign", "Sign"), ("approve", "Approve")], required=True)
    meaning = fields.Char(compute="_compute_meaning")

    @api.depends("action")
    def _compute_meaning(self):
        for wizard in self:
            if wizard.action == "approve":
                wizard.meaning = self.env._(
                    "Approved: I reviewed this calibration record and approve its results."
                )
            else:
                wizard.meaning = self.env._(
                    "Performed: I performed this calibration; the recorded results are true "
                    "and complete."
                )

    def action_confirm(self):
        """Check the password again, then sign or approve."""
        self.ensure_one()
        try:
            self._check_identity()
        finally:
            self.password = False
        calibration = self.calibration_id
        if self.action == "approve":
            calibration._approve(self.meaning)
        else:
            calibration._sign(self.meaning)
        return {"type": "ir.actions.act_window_close"}
