# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon


class TestRoles(BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator = new_test_user(
            cls.env, "r_op", groups="cmms_parfum.cmms_parfum_group_operator"
        )
        cls.technician = new_test_user(
            cls.env, "r_tech", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        cls.technician2 = new_test_user(
            cls.env, "r_tech2", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        cls.supervisor = new_test_user(
            cls.env, "r_sup", groups="cmms_parfum.cmms_parfum_group_supervisor"
        )
        cls.manager = new_test_user(
            cls.env, "r_mgr", groups="cmms_parfum.cmms_parfum_group_manager"
        )
        cls.machine = cls.env["maintenance.equipment"].create(
            {"name": "Rotary filler", "cmms_tag": "FL-T1", "criticality": "critical"}
        )

    def test_every_role_sees_equipment_only_supervisor_and_manager_edit(self):
        Equipment = self.env["maintenance.equipment"]
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            self.assertIn(self.machine, Equipment.with_user(user).search([]))
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                Equipment.with_user(user).create({"name": "Nope"})
            with self.assertRaises(AccessError):
                self.machine.with_user(user).write({"criticality": "low"})
        for user in (self.supervisor, self.manager):
            created = Equipment.with_user(user).create({"name": f"Pump of {user.login}"})
            self.assertTrue(created)

    def test_operator_sees_own_requests_technician_sees_assigned(self):
        Request = self.env["maintenance.request"]
        own = Request.with_user(self.operator).create(
            {"name": "Filler leaks", "equipment_id": self.machine.id}
        )
        other = Request.with_user(self.supervisor).create(
            {
                "name": "Planned check",
                "equipment_id": self.machine.id,
                "user_id": self.technician.id,
            }
        )
        seen = Request.with_user(self.operator).search([])
        self.assertIn(own, seen)
        self.assertNotIn(other, seen)
        self.assertIn(other, Request.with_user(self.technician).search([]))
        self.assertNotIn(other, Request.with_user(self.technician2).search([]))
        self.assertEqual(
            Request.with_user(self.supervisor).search([("id", "in", (own | other).ids)]),
            own | other,
        )

    def test_priority_mirrors_odoo_stars(self):
        request = self.env["maintenance.request"].create(
            {"name": "Check", "equipment_id": self.machine.id, "cmms_priority": "urgent"}
        )
        self.assertEqual(request.priority, "3")
        request.cmms_priority = "low"
        self.assertEqual(request.priority, "0")
        self.assertEqual(request.source, "person")

    def test_equipment_found_by_tag(self):
        found = self.env["maintenance.equipment"].name_search("FL-T1")
        self.assertEqual([r[0] for r in found], [self.machine.id])
        self.assertIn("FL-T1", self.machine.display_name)
