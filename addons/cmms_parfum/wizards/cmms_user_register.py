# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Supervisors and managers register plant users with one CMMS role.

The wizard is the only way they create users: it grants exactly one CMMS
role group (which implies Odoo's internal user and nothing more), so no
path through it leads to administration rights.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

# Where each role lands after logging in.
ROLE_HOMES = {
    "operator": "cmms_parfum.maintenance_request_action_my_requests",
    "technician": "cmms_parfum.maintenance_request_action_my_tasks",
    "supervisor": "cmms_parfum.maintenance_request_action_verification",
    "manager": "cmms_parfum.maintenance_request_action_kpi",
}
ROLE_GROUPS = {
    "operator": "cmms_parfum.cmms_parfum_group_operator",
    "technician": "cmms_parfum.cmms_parfum_group_technician",
    "supervisor": "cmms_parfum.cmms_parfum_group_supervisor",
    "manager": "cmms_parfum.cmms_parfum_group_manager",
}


class CmmsUserRegister(models.TransientModel):
    _name = "cmms.user.register"
    _description = "Register a CMMS user"

    name = fields.Char(required=True)
    login = fields.Char(required=True)
    email = fields.Char()
    role = fields.Selection(
        [
            ("operator", "Operator"),
            ("technician", "Technician"),
            ("supervisor", "Supervisor"),
            ("manager", "Manager"),
        ],
        required=True,
        default="operator",
    )
    password = fields.Char(help="Leave empty to send an invitation by mail.")

    @api.model
    def _check_registrar(self):
        user = self.env.user
        if not (
            user.has_group("cmms_parfum.cmms_parfum_group_supervisor")
            or user.has_group("cmms_parfum.cmms_parfum_group_manager")
        ):
            raise AccessError(self.env._("Only supervisors and managers register users."))

    def action_register(self):
        self.ensure_one()
        self._check_registrar()
        login = (self.login or "").strip()
        if not login:
            raise UserError(self.env._("Give a login."))
        Users = self.env["res.users"].sudo().with_context(active_test=False)
        if Users.search_count([("login", "=", login)]):
            raise UserError(self.env._("The login %(login)s is taken.", login=login))
        vals = {
            "name": self.name,
            "login": login,
            "email": self.email or False,
            "groups_id": [fields.Command.set([self.env.ref(ROLE_GROUPS[self.role]).id])],
            "action_id": self.env.ref(ROLE_HOMES[self.role]).id,
        }
        if self.password:
            vals["password"] = self.password
        user = Users.with_context(no_reset_password=bool(self.password)).create(vals)
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.users",
            "res_id": user.id,
            "view_mode": "form",
            "views": [(self.env.ref("cmms_parfum.res_users_view_form_cmms").id, "form")],
        }
