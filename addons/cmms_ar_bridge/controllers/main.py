# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import http
from odoo.http import request


class CmmsArController(http.Controller):
    @http.route("/cmms/ar/tasks", type="http", auth="user", website=False)
    def ar_tasks(self, **kwargs):
        """A task list sized for a head-mounted display."""
        tasks = request.env["cmms.ar.api"].my_tasks()
        return request.render(
            "cmms_ar_bridge.ar_tasks_page", {"tasks": tasks, "user": request.env.user}
        )
