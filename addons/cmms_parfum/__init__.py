from . import models, report, wizards


def uninstall_hook(env):
    """Give Odoo's own request rule its domain back."""
    rule = env.ref("maintenance.equipment_request_rule_user", raise_if_not_found=False)
    if rule:
        rule.domain_force = (
            "['|', '|', ('owner_user_id', '=', user.id), "
            "('message_partner_ids', 'in', [user.partner_id.id]), ('user_id', '=', user.id)]"
        )
