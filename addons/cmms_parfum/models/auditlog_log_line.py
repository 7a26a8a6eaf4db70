# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from .auditlog_log import _refuse_change


class AuditlogLogLine(models.Model):
    """The values of the audit log: append-only, like the log itself."""

    _inherit = "auditlog.log.line"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            _refuse_change(self.env)
        return super().create(vals_list)

    def write(self, vals):
        _refuse_change(self.env)  # always raises
        return super().write(vals)

    def unlink(self):
        _refuse_change(self.env)  # always raises
        return super().unlink()
