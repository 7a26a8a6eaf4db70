# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import mute_logger

from .common import TelemetryCommon


class TestAlert(TelemetryCommon):
    def _alert(self, **vals):
        return self.env["cmms.alert"].create(
            {
                "equipment_id": self.low_equipment.id,
                "alert_type": "drift",
                "severity": "warning",
                **vals,
            }
        )

    def test_lifecycle_acknowledge_then_resolve_with_note(self):
        alert = self._alert().with_user(self.technician)
        alert.action_acknowledge()
        self.assertEqual(alert.state, "acknowledged")
        self.assertEqual(alert.acknowledged_by_id, self.technician)
        with self.assertRaises(UserError):
            alert.action_acknowledge()
        with self.assertRaises(UserError, msg="resolving needs a note"):
            alert.action_resolve()
        alert.resolution_note = "Impulse line cleaned."
        alert.action_resolve()
        self.assertEqual(alert.state, "resolved")
        self.assertEqual(alert.resolved_by_id, self.technician)
        with self.assertRaises(UserError):
            alert.action_resolve()

    def test_one_open_alert_per_equipment_and_type_in_database(self):
        self._alert()
        with (
            self.assertRaises(psycopg2.IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._alert()
            self.env.flush_all()

    def test_resolved_alert_allows_a_new_one(self):
        first = self._alert(resolution_note="done")
        first.action_resolve()
        second = self._alert()
        self.assertNotEqual(first, second)

    def test_work_order_by_button_links_both_ways(self):
        alert = self._alert()
        action = alert.with_user(self.supervisor).action_create_request()
        request = self.env["maintenance.request"].browse(action["res_id"])
        self.assertEqual(alert.request_id, request)
        self.assertEqual(request.alert_id, alert)
        self.assertEqual(request.source, "alert")
        # A second press does not open a second work order.
        alert.with_user(self.supervisor).action_create_request()
        self.assertEqual(
            self.env["maintenance.request"].search_count([("alert_id", "=", alert.id)]), 1
        )

    def test_operator_cannot_change_alerts(self):
        alert = self._alert()
        with self.assertRaises(AccessError):
            alert.with_user(self.operator).action_acknowledge()
        with self.assertRaises(AccessError):
            self.env["cmms.alert"].with_user(self.operator).create(
                {"equipment_id": self.equipment.id, "alert_type": "drift", "severity": "warning"}
            )

    def test_sensor_settings_are_validated(self):
        with self.assertRaises(ValidationError):
            self.sensor.write({"signal_low": 20.0})
        with self.assertRaises(ValidationError):
            self.sensor.write({"use_low_critical": True, "low_critical": 12.0})
        with self.assertRaises(ValidationError):
            self.sensor.write({"interval_s": 0})
        with self.assertRaises(AccessError):
            self.sensor.with_user(self.technician).write({"high_critical": 12.0})


class TestAlertPolicyApproval(TelemetryCommon):
    """A breakdown the policy approves at once goes straight to the technician."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["cmms.alert.policy"]._for("critical", "critical")
        cls.policy.approve_request = True

    def _critical(self, equipment):
        alert = self.env["cmms.alert"].create(
            {"equipment_id": equipment.id, "alert_type": "instrument_fault", "severity": "critical"}
        )
        alert._apply_policy()
        return alert.request_id

    def test_critical_alert_on_critical_equipment_is_approved_and_assigned(self):
        request = self._critical(self.equipment)
        self.assertEqual(request.cmms_state, "approved")
        self.assertEqual(request.user_id, self.technician)
        self.assertTrue(request.schedule_date)
        self.assertEqual(request.cmms_priority, "urgent")
        # The technician sees it among the work they can act on, and may start it.
        request.with_user(self.technician).action_start()
        self.assertEqual(request.cmms_state, "in_progress")

    def test_policy_without_approval_leaves_it_to_the_planner(self):
        self.policy.approve_request = False
        request = self._critical(self.equipment)
        self.assertEqual(request.cmms_state, "requested")

    def test_no_technician_no_approval(self):
        self.equipment.technician_user_id = False
        self.equipment.category_id.technician_user_id = False
        request = self._critical(self.equipment)
        self.assertEqual(request.cmms_state, "requested")
        self.assertTrue(
            any(
                "Not approved at once" in (body or "")
                for body in request.message_ids.mapped("body")
            )
        )
