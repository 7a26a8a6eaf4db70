from . import models, report, wizards


def uninstall_hook(env):
    """Give Odoo's own request rule its domain and its access rows their deletion back."""
    for xmlid in (
        "maintenance.access_maintenance_system_user",
        "maintenance.access_equipment_admin_user",
    ):
        access = env.ref(xmlid, raise_if_not_found=False)
        if access:
            access.perm_unlink = True
    rule = env.ref("maintenance.equipment_request_rule_user", raise_if_not_found=False)
    if rule:
        rule.domain_force = (
            "['|', '|', ('owner_user_id', '=', user.id), "
            "('message_partner_ids', 'in', [user.partner_id.id]), ('user_id', '=', user.id)]"
        )
