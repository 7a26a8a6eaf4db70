# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import AccessError

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG


class CmmsUndeletableMixin(models.AbstractModel):
    """Records the CMMS roles cancel or archive, never delete.

    Only the administrator (Settings rights) deletes them; the audit log
    keeps the deleted values. Put the mixin first in ``_inherit`` so that the
    refusal, with its way out, comes before Odoo's access check::

        _name = "maintenance.request"
        _inherit = ["cmms.undeletable.mixin", "maintenance.request"]

    and override ``_cmms_unlink_way_out`` to say what to do instead.
    """

    _name = "cmms.undeletable.mixin"
    _description = "Records kept: cancelled or archived, never deleted"

    def unlink(self):
        self._check_cmms_unlink()
        return super().unlink()

    def _check_cmms_unlink(self):
        if (
            not self
            or self.env.su
            or self.env.user._is_system()
            or self.env.context.get(MODULE_UNINSTALL_FLAG)
        ):
            return
        raise AccessError(
            self.env._(
                "%(model)s records cannot be deleted: %(way_out)s Only the administrator "
                "may delete them, and every deletion is logged.",
                model=self.env["ir.model"]._get(self._name).name,
                way_out=self._cmms_unlink_way_out(),
            )
        )

    def _cmms_unlink_way_out(self):
        return self.env._("archive them instead.")
