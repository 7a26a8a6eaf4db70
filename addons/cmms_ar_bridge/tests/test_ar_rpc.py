# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The external API as the glasses use it: XML-RPC and JSON-RPC with API keys,
through the test server; the seed's own calls; the reference client."""

import json
import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import Transport, get_db_name

from ..tools import ar_client
from .common import ArCommon, approved


@tagged("post_install", "-at_install")
class TestArRpc(ArCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = approved(cls, "Seal leaking", cls.technician, "urgent")
        cls.foreign = approved(cls, "Not yours", cls.technician2)
        cls.user_admin = new_test_user(
            cls.env,
            "ar_useradmin",
            groups="base.group_user,base.group_erp_manager,base.group_partner_manager",
        )
        cls.db = get_db_name()

    def key_of(self, user, name="glasses"):
        return self.env["res.users.apikeys"].with_user(user).sudo()._generate(None, name, None)

    def execute(self, uid, key, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.db, uid, key, model, method, list(args), kwargs)

    def assertFault(self, message, *call):
        with self.assertRaises(xmlrpc.client.Fault) as caught, self.assertLogs(level="WARNING"):
            self.execute(*call)
        self.assertIn(message, caught.exception.faultString)

    def test_seed_calls_as_technician(self):
        key = self.key_of(self.technician)
        uid = self.xmlrpc_common.authenticate(self.db, self.technician.login, key, {})
        self.assertEqual(uid, self.technician.id)
        users = self.execute(uid, key, "res.users", "search_read", [], fields=["name", "login"])
        self.assertIn(self.technician2.login, [u["login"] for u in users])
        requests = self.execute(uid, key, "maintenance.request", "search_read", [], fields=[])
        self.assertEqual([r["id"] for r in requests], [self.mine.id])
        when = {"schedule_date": "2030-01-02 09:00:00"}
        self.assertTrue(
            self.execute(uid, key, "maintenance.request", "write", [self.mine.id], when)
        )
        self.assertEqual(str(self.mine.schedule_date), "2030-01-02 09:00:00")
        more = {"schedule_date": "2030-01-03 09:00:00", "name": "x"}
        self.assertFault("name", uid, key, "maintenance.request", "write", [self.mine.id], more)
        self.assertFault("", uid, key, "maintenance.request", "write", [self.foreign.id], when)
        new_user = {"name": "New", "login": "new_glasses", "password": "x" * 12}
        self.assertFault("", uid, key, "res.users", "create", new_user)
        self.assertFault("", uid, key, "res.users", "unlink", [self.technician2.id])
        self.env.invalidate_all()
        self.assertEqual(str(self.mine.schedule_date), "2030-01-02 09:00:00")
        self.assertFalse(self.env["res.users"].search([("login", "=", "new_glasses")]))
        self.assertTrue(self.technician2.exists())

    def test_seed_calls_as_user_admin_and_admin(self):
        for user, login in (
            (self.user_admin, "ar_useradmin"),
            (self.env.ref("base.user_admin"), "admin"),
        ):
            key = self.key_of(user)
            uid = self.xmlrpc_common.authenticate(self.db, login, key, {})
            self.assertEqual(uid, user.id)
            self.assertTrue(
                self.execute(uid, key, "res.users", "search_read", [], fields=["login"])
            )
            signup = {"name": "Signup", "login": f"signup_{login}", "password": "x" * 12}
            new_id = self.execute(uid, key, "res.users", "create", signup)
            self.assertTrue(self.execute(uid, key, "res.users", "unlink", [new_id]))
        # The administrator, as in the seed, reads and reschedules any request.
        self.assertTrue(
            self.execute(uid, key, "maintenance.request", "search_read", [], fields=["name"])
        )
        self.assertTrue(
            self.execute(uid, key, "maintenance.request", "write", [self.foreign.id],
                         {"schedule_date": "2030-02-01 07:00:00"})
        )  # fmt: skip

    def test_revoked_key_is_refused(self):
        key = self.key_of(self.technician)
        uid = self.technician.id
        self.assertTrue(self.execute(uid, key, "cmms.ar.api", "my_tasks"))
        # Revoked the way the user does it (Preferences / Account Security).
        self.env["res.users.apikeys"].with_user(self.technician).search([])._remove()
        with self.assertRaises(xmlrpc.client.Fault):
            self.execute(uid, key, "cmms.ar.api", "start_task", self.mine.id)
        self.assertEqual(self.mine.cmms_state, "approved")
        self.assertFalse(self.xmlrpc_common.authenticate(self.db, self.technician.login, key, {}))

    def test_api_errors_are_faults_with_the_message(self):
        key = self.key_of(self.technician)
        uid = self.technician.id
        self.assertFault("not yours", uid, key, "cmms.ar.api", "start_task", self.foreign.id)
        self.assertFault("positive integer", uid, key, "cmms.ar.api", "task_detail", "abc")
        self.assertEqual(self.foreign.cmms_state, "approved")

    def test_json_rpc_with_api_key(self):
        key = self.key_of(self.technician)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, self.technician.id, key, "cmms.ar.api", "my_tasks", [], {}],
            },
        }
        response = self.url_open(
            "/jsonrpc", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        tasks = response.json()["result"]
        self.assertEqual([t["id"] for t in tasks], [self.mine.id])

    def test_reference_client_walks_the_whole_task(self):
        key = self.key_of(self.technician)
        client = ar_client.ArClient(
            self.base_url(), self.db, self.technician.login, key, transport=Transport(self.cr)
        )
        lines = []
        pressure = self.mine.step_ids.filtered("expects_value")
        final = ar_client.walk(client, self.mine.id, values={pressure.id: 2.95}, out=lines.append)
        self.assertEqual(final["state"], "done")
        self.assertEqual(self.mine.cmms_state, "done")
        self.assertTrue(any("FLAGGED" in line for line in lines))
        self.assertEqual(client.lookup("cmms:equipment:P-AR1")["id"], self.pump.id)
        with self.assertRaises(PermissionError):
            ar_client.ArClient(
                self.base_url(),
                self.db,
                self.technician.login,
                "wrong",
                transport=Transport(self.cr),
            )
