# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CmmsCommon


# post_install: OCA auditlog hooks its rules into the models once every
# addon is loaded.
@tagged("post_install", "-at_install")
class TestAudit(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            "c_admin",
            groups="base.group_system,cmms_parfum.cmms_parfum_group_manager",
        )
        cls.Log = cls.env["auditlog.log"]

    def logs(self, records, method):
        return self.Log.search(
            [
                ("model_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("method", "=", method),
            ]
        )

    def assertRefused(self, records, user, message, operation="unlink", *args):
        """The operation is refused with that message (and rolled back)."""
        with self.assertRaises(AccessError, msg=user.login) as caught:
            getattr(records.with_user(user), operation)(*args)
        self.assertIn(message, str(caught.exception), user.login)

    def values(self, log):
        return {
            line.field_name: (line.old_value_text, line.new_value_text) for line in log.line_ids
        }

    def test_roles_cannot_delete_work_orders(self):
        # As op_lina did over XML-RPC: create a request, then delete it.
        request = self.request_as_operator()
        self.assertRefused(request, self.operator, "cancel the work order, with a reason")
        self.assertTrue(request.exists())
        assigned = self.approved()
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            self.assertRefused(assigned, user, "cancel the work order")
        self.assertTrue(assigned.exists())
        self.assertFalse(self.logs(request | assigned, "unlink"))
        # The way out: cancel, with a reason.
        request.with_user(self.supervisor).action_cancel(reason="Duplicate request")
        self.assertEqual(request.cmms_state, "cancelled")

    def test_roles_cannot_delete_equipment_budgets_stock_moves(self):
        budget = self.env["cmms.budget"].create(
            {"name": "2026", "date_from": "2026-01-01", "date_to": "2026-12-31", "amount": 1000}
        )
        product = self.env["product.product"].create({"name": "Seal", "is_storable": True})
        stock = self.env.ref("stock.stock_location_stock")
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create({"product_id": product.id, "location_id": stock.id, "inventory_quantity": 3})
        )
        quant.action_apply_inventory()
        move = self.env["stock.move"].search([("product_id", "=", product.id)])
        self.assertEqual(move.state, "done")
        move.state = "cancel"  # Odoo itself refuses to delete a done move
        cases = [
            (self.machine, (self.operator, self.technician, self.supervisor, self.manager),
             "archive them instead"),
            (budget, (self.manager,), "archive them instead"),
            (move, (self.supervisor, self.manager), "new inventory adjustment"),
        ]  # fmt: skip
        for records, users, way_out in cases:
            for user in users:
                self.assertRefused(records, user, way_out)
            self.assertTrue(records.exists())
        budget.with_user(self.manager).action_archive()
        self.assertFalse(budget.active)
        self.machine.with_user(self.supervisor).action_archive()
        self.assertFalse(self.machine.active)

    def test_rights_no_longer_offer_deletion(self):
        for model in ("maintenance.request", "maintenance.equipment", "cmms.budget"):
            for user in (self.operator, self.technician, self.supervisor, self.manager):
                self.assertFalse(
                    self.env[model].with_user(user).has_access("unlink"), f"{user.login} {model}"
                )
            self.assertTrue(self.env[model].with_user(self.admin).has_access("unlink"))

    def test_administrator_deletion_is_logged_with_the_values(self):
        request = self.request_as_operator(description="Oil on the floor")
        request.with_user(self.admin).unlink()
        self.assertFalse(request.exists())
        log = self.logs(request, "unlink")
        self.assertEqual(log.user_id, self.admin)
        self.assertEqual(log.name, "Filler leaks")
        values = self.values(log)
        self.assertEqual(values["name"][0], "Filler leaks")
        self.assertIn("Oil on the floor", values["description"][0])
        self.assertEqual(values["equipment_id"][0], self.machine.display_name)

    def test_creation_and_change_logged_with_old_and_new_values(self):
        request = self.request_as_operator()
        created = self.logs(request, "create")
        self.assertEqual(created.user_id, self.operator)
        self.assertEqual(self.values(created)["name"], (False, "Filler leaks"))
        self.assertNotIn("close_date", self.values(created), "empty values are not logged")
        request.with_user(self.supervisor).write(
            {"cmms_priority": "urgent", "user_id": self.technician.id}
        )
        changed = self.logs(request, "write")
        self.assertEqual(changed.user_id, self.supervisor)
        values = self.values(changed)
        self.assertEqual(values["cmms_priority"], ("medium", "urgent"))
        self.assertEqual(values["user_id"][1], self.technician.name)  # a name, not (id, name)
        # Fields the connector refreshes are not logged, nor binary contents.
        self.assertNotIn("message_ids", values)

    def test_group_changes_are_logged(self):
        group = self.env.ref("cmms_parfum.cmms_parfum_group_supervisor")
        self.operator.write({"groups_id": [(4, group.id)]})
        log = self.logs(self.operator, "write")
        self.assertIn("groups_id", self.values(log))

    def test_nobody_alters_or_deletes_the_log(self):
        request = self.request_as_operator()
        log = self.logs(request, "create")
        line = log.line_ids[:1]
        before = (log.name, line.new_value_text)
        for user in (self.supervisor, self.manager, self.admin):
            refused = "cannot be changed or deleted"
            self.assertRefused(log, user, refused, "write", {"name": "x"})
            self.assertRefused(line, user, refused, "write", {"new_value_text": "x"})
            self.assertRefused(log, user, refused)
            self.assertRefused(line, user, refused)
        with self.assertRaises(AccessError):
            self.Log.with_user(self.admin).create(
                {"model_id": log.model_id.id, "res_id": request.id, "method": "write"}
            )
        self.assertEqual((log.name, line.new_value_text), before)
        # Operators and technicians do not read the audit log at all.
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                self.Log.with_user(user).search([])

    def test_tracked_changes_stay_in_the_chatter(self):
        request = self.request_as_operator().with_context(
            tracking_disable=False, mail_notrack=False
        )
        self.env.cr.precommit.run()  # as if created in an earlier transaction
        request.with_user(self.supervisor).write({"user_id": self.technician.id})
        self.env.cr.precommit.run()
        tracking = self.env["mail.message"].search(
            [
                ("model", "=", request._name),
                ("res_id", "=", request.id),
                ("tracking_value_ids", "!=", False),
            ]
        )
        self.assertTrue(tracking)
        history = "part of the record's history"
        for user in (self.admin, self.supervisor, self.operator):
            self.assertRefused(tracking, user, history)
        values = tracking.tracking_value_ids
        self.assertRefused(values, self.admin, history, "write", {"old_value_char": "x"})
        self.assertRefused(values, self.admin, history)
        note = request.with_user(self.operator).message_post(body="Leak is worse")
        self.assertRefused(note, self.operator, "only the administrator")
        self.assertTrue(tracking.exists() and note.exists())

    def test_audit_report_per_period_and_record(self):
        request = self.request_as_operator()
        request.with_user(self.supervisor).write({"cmms_priority": "high"})
        other = self.request_as_operator(name="Other job")
        today = fields.Date.context_today(request)
        wizard = (
            self.env["cmms.audit.report.wizard"]
            .with_user(self.supervisor)
            .create(
                {
                    "date_from": today,
                    "date_to": today,
                    "record_ref": f"{request._name},{request.id}",
                }
            )
        )
        action = wizard.action_print()
        self.assertEqual(action["report_name"], "cmms_parfum.report_auditlog_log")
        self.assertEqual(sorted(action["data"]["log_ids"]), sorted(self.Log.search([
            ("model_model", "=", request._name), ("res_id", "=", request.id)]).ids))  # fmt: skip
        html = str(
            self.env["ir.actions.report"]
            .with_user(self.supervisor)
            ._render_qweb_html("cmms_parfum.auditlog_log_report", None, data=action["data"])[0]
        )
        self.assertIn("Filler leaks", html)
        self.assertIn("medium", html)
        self.assertIn("high", html)
        self.assertNotIn("Other job", html)
        # The same selection as a list to export.
        lines_action = wizard.action_open_lines()
        Lines = self.env["auditlog.log.line.view"].with_user(self.manager)
        lines = Lines.search(lines_action["domain"])
        fields_ = ["name", "cmms_action", "field_name", "old_value_text", "new_value_text"]
        rows = lines.export_data(fields_)["datas"]
        self.assertIn(["Filler leaks", "Changed", "cmms_priority", "medium", "high"], rows)
        self.assertNotIn(other.id, lines.mapped("res_id"))
        # A period without anything logged says so.
        empty = wizard.copy({"date_from": "2000-01-01", "date_to": "2000-01-02"})
        with self.assertRaisesRegex(UserError, "Nothing was logged"):
            empty.action_print()
