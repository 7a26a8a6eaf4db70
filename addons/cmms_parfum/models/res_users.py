# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

CMMS_GROUPS = (
    "cmms_parfum.cmms_parfum_group_operator",
    "cmms_parfum.cmms_parfum_group_technician",
    "cmms_parfum.cmms_parfum_group_supervisor",
    "cmms_parfum.cmms_parfum_group_manager",
)


class ResUsers(models.Model):
    _inherit = "res.users"

    cmms_role = fields.Selection(
        [
            ("operator", "Operator"),
            ("technician", "Technician"),
            ("supervisor", "Supervisor"),
            ("manager", "Manager"),
        ],
        "CMMS role",
        compute="_compute_cmms_role",
        search="_search_cmms_role",
    )
    cmms_hourly_cost = fields.Float(
        "Hourly cost",
        groups="cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager",
        help="What an hour of this technician costs; empty: the company's default.",
    )
    cmms_process_area = fields.Char(
        "Plant area",
        help="The plant area (as on the equipment) whose planned work this user sees "
        "and hears of the day before.",
    )

    @api.constrains("cmms_hourly_cost")
    def _check_cmms_hourly_cost(self):
        for user in self:
            if user.cmms_hourly_cost < 0:
                raise ValidationError(self.env._("An hourly cost cannot be negative."))

    @api.depends("groups_id")
    def _compute_cmms_role(self):
        refs = [(xmlid.rsplit("_", 1)[1], self.env.ref(xmlid)) for xmlid in CMMS_GROUPS]
        for user in self:
            user.cmms_role = next(
                (role for role, group in reversed(refs) if group in user.groups_id), False
            )

    def _search_cmms_role(self, operator, value):
        if operator == "!=" and value is False:
            groups = [self.env.ref(x).id for x in CMMS_GROUPS]
            return [("groups_id", "in", groups)]
        if operator == "=" and value in ("operator", "technician", "supervisor", "manager"):
            return [("groups_id", "in", self.env.ref(f"cmms_parfum.cmms_parfum_group_{value}").id)]
        raise UserError(self.env._("Search the CMMS role with = a role, or != False."))

    def write(self, vals):
        if "cmms_process_area" in vals:
            # Record rules read the plant area: their cached domains go.
            self.env.registry.clear_cache()
        # Supervisors and managers keep CMMS users' hourly cost (for labour
        # costs) and plant area; they have no other right to write users.
        if (
            vals
            and set(vals) <= {"cmms_hourly_cost", "cmms_process_area"}
            and not self.env.su
            and self._cmms_is_planner()
            and all(user.cmms_role for user in self.sudo())
        ):
            return super(ResUsers, self.sudo()).write(vals)
        return super().write(vals)

    def _cmms_is_planner(self):
        user = self.env.user
        return user.has_group("cmms_parfum.cmms_parfum_group_supervisor") or user.has_group(
            "cmms_parfum.cmms_parfum_group_manager"
        )

    def action_cmms_deactivate(self):
        """Supervisors and managers deactivate CMMS users; history stays."""
        registrar = self.env.user
        if not (
            registrar.has_group("cmms_parfum.cmms_parfum_group_supervisor")
            or registrar.has_group("cmms_parfum.cmms_parfum_group_manager")
        ):
            raise AccessError(self.env._("Only supervisors and managers deactivate users."))
        for user in self:
            if user == registrar:
                raise UserError(self.env._("You cannot deactivate yourself."))
            if user._is_admin() or user._is_system() or not user.cmms_role:
                raise AccessError(
                    self.env._("%(user)s is not a CMMS user you may deactivate.", user=user.name)
                )
        self.sudo().write({"active": False})
        return True
