# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import AccessError


class MailMessage(models.Model):
    """Tracking messages are part of the record's history.

    Odoo lets anyone who may edit a record delete its chatter messages, and
    an administrator delete any. The field changes the chatter tracks stay:
    a message carrying tracking values is deleted only with its record (by
    the administrator, logged by the audit); on audited records, only the
    administrator deletes other messages.
    """

    _inherit = "mail.message"

    def unlink(self):
        if self and not self.env.su:
            messages = self.sudo()
            if messages.filtered("tracking_value_ids"):
                raise AccessError(
                    self.env._(
                        "Chatter messages that record field changes cannot be deleted: they "
                        "are part of the record's history."
                    )
                )
            if not self.env.user._is_system():
                rules = self.env["auditlog.rule"].sudo().search([("state", "=", "subscribed")])
                audited = set(rules.mapped("model_id.model"))
                if messages.filtered(lambda message: message.model in audited):
                    raise AccessError(
                        self.env._(
                            "Chatter messages of audited records are part of their history: "
                            "only the administrator may delete them."
                        )
                    )
        return super().unlink()
