# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.exceptions import AccessError


def _refuse_change(env):
    raise AccessError(
        env._(
            "The audit log cannot be changed or deleted, not even by the administrator: "
            "it is written only by the audit itself."
        )
    )


class AuditlogLog(models.Model):
    """The audit log is append-only: written by the audit (as superuser), never changed."""

    _inherit = "auditlog.log"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            _refuse_change(self.env)
        return super().create(vals_list)

    def write(self, vals):
        _refuse_change(self.env)

    def unlink(self):
        _refuse_change(self.env)

    def _cmms_method_label(self):
        self.ensure_one()
        labels = {
            "create": self.env._("Created"),
            "write": self.env._("Changed"),
            "unlink": self.env._("Deleted"),
            "read": self.env._("Read"),
            "export_data": self.env._("Exported"),
        }
        return labels.get(self.method, self.method or "")
