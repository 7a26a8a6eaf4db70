# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import importlib.util

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user
from odoo.tools.misc import file_path

from .common import TelemetryCommon

MIGRATION = "cmms_telemetry/migrations/18.0.2.0.0/pre-migrate.py"


def load_migration():
    # A migration script's file name is not a module name (pre-migrate.py):
    # Odoo's own upgrade loads it by path too (odoo.modules.migration).
    spec = importlib.util.spec_from_file_location(
        "cmms_telemetry_pre_migrate", file_path(MIGRATION)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestConnectorUser(TelemetryCommon):
    def test_connector_user_is_a_portal_user(self):
        self.assertTrue(self.connector.share)
        self.assertTrue(self.connector._is_portal())
        self.assertFalse(self.connector.has_group("base.group_user"))
        group = self.env.ref("cmms_telemetry.cmms_telemetry_group_connector")
        self.assertEqual(group.implied_ids, self.env.ref("base.group_portal"))
        # A person cannot be made a connector: a user has one user type.
        with self.assertRaises(ValidationError):
            self.technician.groups_id = [(4, group.id)]

    def test_migration_turns_connector_users_into_portal_users(self):
        group = self.env.ref("cmms_telemetry.cmms_telemetry_group_connector")
        internal = self.env.ref("base.group_user")
        portal = self.env.ref("base.group_portal")
        old = new_test_user(self.env, "t_old_connector", groups="base.group_user,base.group_no_one")
        key = self.env["res.users.apikeys"].with_user(old).sudo()._generate(None, "old", None)
        # The 18.0.1 state: the group implies the internal user type; its users
        # are the technical user and, here, a technician given it by mistake.
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("DELETE FROM res_groups_implied_rel WHERE gid = %s", [group.id])
        cr.execute(
            "INSERT INTO res_groups_implied_rel (gid, hid) VALUES (%s, %s)", [group.id, internal.id]
        )
        cr.execute("DELETE FROM res_groups_users_rel WHERE gid = %s", [group.id])
        cr.execute(
            "INSERT INTO res_groups_users_rel (gid, uid) VALUES (%s, %s), (%s, %s)",
            [group.id, old.id, group.id, self.technician.id],
        )
        self.env.invalidate_all()
        self.assertFalse(old.share)

        load_migration().migrate_connector_users(self.env)
        self.env.invalidate_all()

        self.assertEqual(group.implied_ids, portal)
        self.assertTrue(old.share)
        self.assertIn(group, old.groups_id)
        self.assertIn(portal, old.groups_id)
        self.assertFalse(old.has_group("base.group_user"))
        self.assertNotIn(self.env.ref("base.group_no_one"), old.groups_id)
        # Its API key still authenticates it.
        self.assertEqual(
            self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key), old.id
        )
        # The person keeps their rights and loses the connector group.
        self.assertNotIn(group, self.technician.groups_id)
        self.assertTrue(self.technician.has_group("cmms_parfum.cmms_parfum_group_technician"))
        self.assertFalse(self.technician.share)
        # Run again (an interrupted upgrade): nothing changes.
        load_migration().migrate_connector_users(self.env)
        self.env.invalidate_all()
        self.assertTrue(old.share)
        self.assertEqual(group.users, old)
