# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import AccessError


class MailTrackingValue(models.Model):
    """Tracked old and new values are never rewritten or deleted on their own."""

    _inherit = "mail.tracking.value"

    def write(self, vals):
        self._check_cmms_history()
        return super().write(vals)

    def unlink(self):
        self._check_cmms_history()
        return super().unlink()

    def _check_cmms_history(self):
        if self and not self.env.su:
            raise AccessError(
                self.env._(
                    "Tracked values are part of the record's history: they cannot be changed "
                    "or deleted."
                )
            )
