# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError

# The audit's methods, as a reader calls them.
ACTIONS = [
    ("create", "Created"),
    ("write", "Changed"),
    ("unlink", "Deleted"),
    ("read", "Read"),
    ("export_data", "Exported"),
]


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

    cmms_action = fields.Selection(ACTIONS, "Action", compute="_compute_cmms_action")

    @api.depends("method")
    def _compute_cmms_action(self):
        for log in self:
            log.cmms_action = log.method

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

    def _cmms_method_label(self):
        self.ensure_one()
        labels = dict(self._fields["cmms_action"]._description_selection(self.env))
        return labels.get(self.method, self.method or "")
