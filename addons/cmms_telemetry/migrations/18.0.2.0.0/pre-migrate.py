# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The telemetry connector's group becomes a portal (share) group.

Up to 18.0.1.x the group implied the internal user type: a leaked connector
key opened the whole ERP. From 18.0.2.0.0 it implies the portal user type,
and a connector user may only call ``cmms.telemetry.api``.

Runs before the module's data is loaded (the group's new ``implied_ids``
would otherwise give its internal users a second user type):

* a user of the group that holds nothing but the group and what the
  internal user type brings (the technical user ``cmms_connector`` and its
  likes) becomes a portal user holding only the group; its API keys keep
  working (same user);
* a person who also holds other rights (an administrator, a CMMS role) keeps
  them and loses the connector group: the connector needs its own user.
"""

import logging

from odoo import SUPERUSER_ID, Command, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    migrate_connector_users(env)


def migrate_connector_users(env):
    group = env.ref("cmms_telemetry.cmms_telemetry_group_connector", raise_if_not_found=False)
    if not group:
        return
    internal = env.ref("base.group_user")
    portal = env.ref("base.group_portal")
    # What the group and the internal user type bring along (by implication).
    brought = group | group.trans_implied_ids | internal | internal.trans_implied_ids
    users = group.with_context(active_test=False).users
    technical = users.filtered(lambda user: not user.groups_id - brought)
    people = users - technical
    # The group stops implying the internal user type before its users change.
    env.cr.execute("DELETE FROM res_groups_implied_rel WHERE gid = %s", [group.id])
    group.invalidate_recordset(["implied_ids"])
    if people:
        _logger.info(
            "Telemetry connector group removed from users with other rights: %s",
            ", ".join(people.mapped("login")),
        )
        people.write({"groups_id": [Command.unlink(group.id)]})
    if technical:
        _logger.info(
            "Telemetry connector users made portal users: %s",
            ", ".join(technical.mapped("login")),
        )
        technical.write({"groups_id": [Command.set([portal.id, group.id])]})
    group.write({"implied_ids": [Command.set([portal.id])]})
