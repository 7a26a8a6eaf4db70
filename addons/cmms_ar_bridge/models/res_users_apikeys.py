# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    def unlink(self):
        """A revoked key stops working at once.

        Odoo caches each successful (uid, key) check of the external API
        (``res.users.check`` is an ormcache); removing a key does not clear
        it, so a revoked key of the glasses kept working in every worker that
        had seen it. Clearing the cache (signalled to the other workers) ends
        that.
        """
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
