# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from .auditlog_log import ACTIONS


class AuditlogLogLineView(models.Model):
    """One row per logged value: the audit trail list supervisors export."""

    _inherit = "auditlog.log.line.view"

    cmms_action = fields.Selection(ACTIONS, "Action", compute="_compute_cmms_action")

    @api.depends("method")
    def _compute_cmms_action(self):
        for line in self:
            line.cmms_action = line.method
