# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user

from .common import TelemetryCommon


class TestSuppressionWindow(TelemetryCommon):
    def complete_work_order(self, equipment):
        request = self.env["maintenance.request"].create(
            {"name": "Replace transmitter", "equipment_id": equipment.id}
        )
        self.assertFalse(request.cmms_done_at)
        request.stage_id = self.env.ref("maintenance.stage_3")  # Repaired: done
        self.assertTrue(request.cmms_done_at)
        return request.cmms_done_at

    def at(self, moment):
        return fields.Datetime.to_string(moment)

    def test_alerts_after_a_completed_work_order_open_no_work_order(self):
        done_at = self.complete_work_order(self.equipment)
        reply = self.api.ingest(
            [self.alert_item("s:1", ts=self.at(done_at + timedelta(minutes=10)))]
        )
        self.assertEqual(self.statuses(reply), ["accepted"])
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(len(alert), 1, "the alert record is kept up to date")
        self.assertFalse(alert.request_id, "critical x critical, but inside the window")
        self.assertEqual(alert.suppressed_until, done_at + timedelta(minutes=60))
        self.assertFalse(alert.supervisors_notified)
        self.api.ingest([
            self.alert_item("s:2", kind="alert_active", value=21.0,
                            ts=self.at(done_at + timedelta(minutes=59))),
        ])  # fmt: skip
        self.assertEqual(alert.last_value, 21.0)
        self.assertEqual(alert.occurrence_count, 1)
        self.assertFalse(alert.request_id)
        # The condition outlives the window: the next report applies the policy.
        self.api.ingest([
            self.alert_item("s:3", kind="alert_active",
                            ts=self.at(done_at + timedelta(minutes=61))),
        ])  # fmt: skip
        self.assertEqual(alert.request_id.cmms_priority, "urgent")
        self.assertTrue(alert.supervisors_notified)

    def test_reopened_work_order_and_disabled_window(self):
        done_at = self.complete_work_order(self.low_equipment)
        # Reports from before the completion are not suppressed.
        self.api.ingest([
            self.alert_item("w:1", tag="LT-T02", ts=self.at(done_at - timedelta(minutes=5))),
        ])  # fmt: skip
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.low_equipment.id)])
        self.assertEqual(alert.request_id.cmms_priority, "medium", "critical x low")
        self.env["res.config.settings"].create({"cmms_alert_suppression_minutes": 0}).execute()
        done_at = self.complete_work_order(self.equipment)
        self.api.ingest([self.alert_item("w:2", ts=self.at(done_at + timedelta(minutes=1)))])
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertTrue(alert.request_id, "0 minutes turns suppression off")

    def test_done_at_follows_the_stage(self):
        request = self.env["maintenance.request"].create(
            {"name": "Check", "equipment_id": self.equipment.id}
        )
        request.stage_id = self.env.ref("maintenance.stage_3")
        self.assertTrue(request.cmms_done_at)
        request.stage_id = self.env.ref("maintenance.stage_1")
        self.assertFalse(request.cmms_done_at, "a reopened work order opens no window")


class TestSupervisorNotification(TelemetryCommon):
    def test_supervisors_of_the_company_are_told_once(self):
        other_company = self.env["res.company"].create({"name": "Other plant"})
        other_supervisor = new_test_user(
            self.env,
            "t_sup_other",
            groups="cmms_parfum.cmms_parfum_group_supervisor",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.api.ingest([self.alert_item("n:1", severity="warning", tag="LT-T02")])
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.low_equipment.id)])
        self.assertFalse(alert.request_id, "warning x low opens no work order, still notifies")
        notes = alert.message_ids.filtered(lambda m: self.supervisor.partner_id in m.partner_ids)
        self.assertEqual(len(notes), 1)
        self.assertIn("LT-T02", notes.body)
        self.assertNotIn(other_supervisor.partner_id, notes.partner_ids)
        self.assertNotIn(self.technician.partner_id, notes.partner_ids)
        self.assertTrue(alert.supervisors_notified)
        self.api.ingest([self.alert_item("n:2", kind="alert_active", tag="LT-T02")])
        notes = alert.message_ids.filtered(lambda m: self.supervisor.partner_id in m.partner_ids)
        self.assertEqual(len(notes), 1, "told once per alert")
        # The supervisor finds it in their inbox.
        self.assertTrue(
            self.env["mail.notification"].search(
                [("mail_message_id", "=", notes.id),
                 ("res_partner_id", "=", self.supervisor.partner_id.id)]
            )
        )  # fmt: skip


class TestSilentConnector(TelemetryCommon):
    def heartbeat(self, key, ts, interval=30.0, name="edge-9"):
        return self.item(
            key,
            "heartbeat",
            {"connector_id": name, "mqtt_connected": True, "backlog": 0,
             "heartbeat_interval_s": interval},
            ts=fields.Datetime.to_string(ts),
        )  # fmt: skip

    def test_silence_raises_then_heartbeat_clears_a_data_gap(self):
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=1)
        self.api.ingest([self.heartbeat("hb:1", start)])
        connector = self.env["cmms.connector"].search([("name", "=", "edge-9")])
        self.assertEqual(connector.heartbeat_interval_s, 30.0)
        gateway = connector.equipment_id
        self.assertEqual(gateway.cmms_tag, "CONN-edge-9")
        Connector = self.env["cmms.connector"]
        Connector._cron_check_silent(now=start + timedelta(seconds=60))
        self.assertFalse(gateway.alert_ids, "2 x 30 s is not silent yet")
        Connector._cron_check_silent(now=start + timedelta(seconds=61))
        alert = gateway.alert_ids
        self.assertEqual(alert.alert_type, "data_gap")
        self.assertEqual(alert.severity, "warning")
        self.assertIn("edge-9", alert.message)
        self.assertTrue(connector.is_silent)
        self.assertEqual(alert.request_id.cmms_priority, "medium", "warning x high by policy")
        Connector._cron_check_silent(now=start + timedelta(seconds=300))
        self.assertEqual(len(gateway.alert_ids), 1)
        self.assertEqual(alert.occurrence_count, 1)
        self.assertEqual(alert.last_value, 300)
        self.api.ingest([self.heartbeat("hb:2", start + timedelta(seconds=310))])
        self.assertFalse(connector.is_silent)
        self.assertEqual(alert.condition, "cleared")

    def test_scheduled_action_checks_connectors(self):
        long_ago = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=2)
        self.api.ingest([self.heartbeat("hb:old", long_ago, interval=60.0, name="edge-10")])
        self.api.ingest([self.heartbeat("hb:new", fields.Datetime.now(), name="edge-11")])
        self.env.ref("cmms_telemetry.cmms_connector_cron_check_silent").method_direct_trigger()
        connectors = self.env["cmms.connector"].search([("name", "in", ("edge-10", "edge-11"))])
        self.assertEqual(connectors.filtered("is_silent").mapped("name"), ["edge-10"])
        self.assertEqual(connectors.equipment_id.alert_ids.mapped("alert_type"), ["data_gap"])

    def test_a_heartbeat_without_interval_uses_60_s(self):
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=1)
        self.api.ingest([
            self.item("hb:plain", "heartbeat", {"connector_id": "edge-12"},
                      ts=fields.Datetime.to_string(start)),
            self.item("hb:bad", "heartbeat", {"connector_id": "edge-12", "heartbeat_interval_s": 0},
                      ts=fields.Datetime.to_string(start)),
        ])  # fmt: skip
        connector = self.env["cmms.connector"].search([("name", "=", "edge-12")])
        self.assertEqual(connector.heartbeat_interval_s, 60.0)
        self.env["cmms.connector"]._cron_check_silent(now=start + timedelta(seconds=119))
        self.assertFalse(connector.is_silent)
