# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from odoo import http
from odoo.http import request


def _hmd_labels(env):
    """The words of the display's script, in the user's language."""
    _ = env._
    return {
        "start": _("Enter: start the work"),
        "in_progress": _("In progress · → steps"),
        "expected": _("Expected"),
        "type_value": _("Type the value, Enter to record"),
        "confirm_step": _("Enter: done · X: not OK"),
        "ok": _("✔ Done"),
        "failed": _("✘ Not OK"),
        "out_of_tolerance": _("✘ Out of tolerance"),
        "completed": _("✔ Completed"),
        "complete_title": _("Complete the task"),
        "not_recorded": _("Steps not recorded yet: %(count)s"),
        "notes": _("Done from the AR glasses."),
        "time_spent": _("Time spent: %(hours)s h"),
        "enter_complete": _("Enter: complete"),
        "in_stock": _("in stock: %(quantity)s"),
        "steps": _("steps"),
        "type_first": _("Type the measured value first."),
    }


class CmmsArController(http.Controller):
    @http.route("/cmms/ar/tasks", type="http", auth="user", website=False)
    def ar_tasks(self, **kwargs):
        """A task list sized for a head-mounted display."""
        tasks = request.env["cmms.ar.api"].my_tasks()
        return request.render(
            "cmms_ar_bridge.ar_tasks_page", {"tasks": tasks, "user": request.env.user}
        )

    @http.route("/cmms/ar/hmd", type="http", auth="user", website=False)
    def ar_hmd(self, **kwargs):
        """The head-mounted display: the task list, then one task card at a
        time (the page's script calls cmms.ar.api with the session)."""
        tasks = request.env["cmms.ar.api"].my_tasks()
        return request.render(
            "cmms_ar_bridge.ar_hmd_page",
            {"tasks": tasks, "user": request.env.user, "title": "CMMS AR"},
        )

    @http.route("/cmms/ar/hmd/task/<int:task_id>", type="http", auth="user", website=False)
    def ar_hmd_task(self, task_id, **kwargs):
        # The task's detail is read by the page itself, as the user: a task
        # that is not theirs is refused there, with the API's message.
        return request.render(
            "cmms_ar_bridge.ar_hmd_task_page",
            {
                "task_id": task_id,
                "user": request.env.user,
                "title": "CMMS AR",
                "labels": json.dumps(_hmd_labels(request.env)),
            },
        )
