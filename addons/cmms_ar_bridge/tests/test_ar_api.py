# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestArApi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.technician = new_test_user(
            cls.env, "ar_tech", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        cls.other = new_test_user(
            cls.env, "ar_tech2", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        cls.pump = cls.env["maintenance.equipment"].create(
            {"name": "AR pump", "cmms_tag": "P-AR1", "criticality": "high"}
        )
        Request = cls.env["maintenance.request"]
        cls.low = Request.create(
            {"name": "Grease bearings", "equipment_id": cls.pump.id,
             "user_id": cls.technician.id, "cmms_priority": "low"}
        )  # fmt: skip
        cls.urgent = Request.create(
            {"name": "Seal leaking", "equipment_id": cls.pump.id,
             "user_id": cls.technician.id, "cmms_priority": "urgent"}
        )  # fmt: skip
        cls.foreign = Request.create(
            {"name": "Not yours", "equipment_id": cls.pump.id, "user_id": cls.other.id}
        )

    def test_my_tasks_only_mine_most_urgent_first(self):
        tasks = self.env["cmms.ar.api"].with_user(self.technician).my_tasks()
        self.assertEqual([t["id"] for t in tasks], [self.urgent.id, self.low.id])
        self.assertEqual(tasks[0]["tag"], "P-AR1")
        self.assertEqual(tasks[0]["priority"], "urgent")

    def test_lookup_by_tag(self):
        api = self.env["cmms.ar.api"].with_user(self.technician)
        found = api.lookup_equipment(" p-ar1 ")
        self.assertEqual(found["id"], self.pump.id)
        self.assertEqual(found["criticality"], "high")
        self.assertFalse(api.lookup_equipment("NOPE"))
        with self.assertRaises(UserError):
            api.lookup_equipment("")

    def test_over_json_rpc_with_the_users_credentials(self):
        self.authenticate("ar_tech", "ar_tech")
        tasks = self.make_jsonrpc_request(
            "/web/dataset/call_kw/cmms.ar.api/my_tasks",
            {"model": "cmms.ar.api", "method": "my_tasks", "args": [], "kwargs": {}},
        )
        self.assertEqual({t["id"] for t in tasks}, {self.urgent.id, self.low.id})

    def test_hmd_page_lists_tasks(self):
        self.authenticate("ar_tech", "ar_tech")
        response = self.url_open("/cmms/ar/tasks")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Seal leaking", response.text)
        self.assertNotIn("Not yours", response.text)
