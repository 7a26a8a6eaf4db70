# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError, UserError

from .common import TelemetryCommon


class TestIngest(TelemetryCommon):
    def test_config_lists_sensors_with_limits(self):
        config = self.api.get_connector_config()
        by_tag = {s["tag"]: s for s in config["sensors"]}
        pt = by_tag["PT-T01"]
        self.assertEqual(pt["signal_high"], 16.0)
        self.assertEqual(pt["high_critical"], 10.0)
        self.assertIs(pt["low_critical"], False, "an unset limit reads as false")
        self.assertEqual(pt["equipment_id"], self.equipment.id)
        self.assertIn("version", config)

    def test_config_names_the_machine_of_each_sensor(self):
        by_tag = {s["tag"]: s for s in self.api.get_connector_config()["sensors"]}
        self.assertIs(by_tag["PT-T01"]["machine"], False, "an instrument without a parent")
        self.equipment.parent_id = self.machine
        by_tag = {s["tag"]: s for s in self.api.get_connector_config()["sensors"]}
        self.assertEqual(by_tag["PT-T01"]["machine"], "FLX-T1")

    def test_config_version_changes_with_settings(self):
        before = self.api.get_connector_config()["version"]
        self.sensor.high_critical = 11.0
        self.env.flush_all()
        # write_date is the transaction time: make the change visible in it.
        self.env.cr.execute(
            "UPDATE cmms_sensor SET write_date = write_date + interval '1 second' WHERE id = %s",
            [self.sensor.id],
        )
        after = self.api.get_connector_config()["version"]
        self.assertNotEqual(before, after)
        spare = self.env["maintenance.equipment"].create(
            {"name": "Spare transmitter", "cmms_tag": "PT-T99", "cmms_kind": "instrument"}
        )
        self.sensor.copy({"equipment_id": spare.id, "unit": "bar"})
        self.assertNotEqual(after, self.api.get_connector_config()["version"])

    def test_only_connector_may_call(self):
        for user in (self.operator, self.technician, self.supervisor):
            api = self.env["cmms.telemetry.api"].with_user(user)
            with self.assertRaises(AccessError):
                api.get_connector_config()
            with self.assertRaises(AccessError):
                api.ingest([self.alert_item("k-denied")])
        self.assertFalse(self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)]))

    def test_raise_then_repeats_make_one_alert_and_one_urgent_request(self):
        items = [self.alert_item("pt:1:raised")] + [
            self.alert_item(f"pt:1:active:{n}", kind="alert_active", ts=f"2026-11-22T08:0{n}:00Z")
            for n in range(1, 4)
        ]
        reply = self.api.ingest(items)
        self.assertEqual(self.statuses(reply), ["accepted"] * 4)
        alerts = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(len(alerts), 1, "one open alert per equipment and type")
        self.assertEqual(alerts.alert_type, "instrument_fault")
        self.assertEqual(alerts.severity, "critical")
        self.assertEqual(alerts.condition, "active")
        self.assertEqual(str(alerts.last_seen), "2026-11-22 08:03:00")
        request = alerts.request_id
        self.assertTrue(request, "critical x critical opens a work order by the default policy")
        self.assertEqual(request.cmms_priority, "urgent")
        self.assertEqual(request.source, "alert")
        self.assertEqual(request.alert_id, alerts)
        self.assertEqual(request.maintenance_type, "corrective")
        self.assertEqual(request.user_id, self.technician)
        self.assertEqual(
            self.env["maintenance.request"].search_count([("alert_id", "=", alerts.id)]), 1
        )
        # It is in the technician's task list, seen with their own rights.
        tasks = (
            self.env["maintenance.request"]
            .with_user(self.technician)
            .search([("user_id", "=", self.technician.id)])
        )
        self.assertIn(request, tasks)
        self.assertNotIn(
            request,
            self.env["maintenance.request"].with_user(self.other_technician).search([]),
        )

    def test_second_raise_counts_occurrence(self):
        self.api.ingest([self.alert_item("a")])
        self.api.ingest([self.alert_item("b", kind="alert_cleared")])
        self.api.ingest([self.alert_item("c", ts="2026-11-22T09:00:00Z")])
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.occurrence_count, 2)
        self.assertEqual(alert.condition, "active")
        self.assertEqual(len(alert.request_id), 1)

    def test_replayed_batch_changes_nothing(self):
        batch = [
            self.alert_item("r:1"),
            self.alert_item("r:2", kind="alert_active", ts="2026-11-22T08:01:00Z"),
            {"key": "hb:1", "type": "heartbeat", "ts": "2026-11-22T08:01:00Z",
             "data": {"connector_id": "c1", "mqtt_connected": True, "backlog": 3}},
        ]  # fmt: skip
        first = self.api.ingest(batch)
        self.assertEqual(self.statuses(first), ["accepted"] * 3)
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        snapshot = alert.read(["occurrence_count", "last_seen", "condition", "severity"])
        requests = self.env["maintenance.request"].search_count([])
        keys = self.env["cmms.ingest.key"].search_count([])
        second = self.api.ingest(batch)
        self.assertEqual(self.statuses(second), ["duplicate"] * 3)
        self.assertEqual(
            alert.read(["occurrence_count", "last_seen", "condition", "severity"]), snapshot
        )
        self.assertEqual(self.env["maintenance.request"].search_count([]), requests)
        self.assertEqual(self.env["cmms.ingest.key"].search_count([]), keys)
        # The same key twice inside one batch is applied once.
        third = self.api.ingest([self.alert_item("r:3"), self.alert_item("r:3")])
        self.assertEqual(self.statuses(third), ["accepted", "duplicate"])

    def test_bad_items_rejected_good_items_accepted(self):
        bad = [
            "not an object",
            {"type": "alert_raised", "ts": "2026-11-22T08:00:00Z", "data": {}},
            self.alert_item("x:unknown-tag", tag="NOPE-1"),
            self.alert_item("x:bad-type", alert_type="meteor"),
            self.alert_item("x:bad-severity", severity="apocalyptic"),
            self.alert_item("x:bad-ts", ts="yesterday"),
            self.alert_item("x:nan", value=float("nan")),
            {"key": "x:kind", "type": "teleport", "ts": 0, "data": {}},
            {"key": "x" * 300, "type": "heartbeat", "ts": 0, "data": {"connector_id": "c"}},
            {"key": "x:hb", "type": "heartbeat", "ts": 0, "data": {}},
        ]
        reply = self.api.ingest([*bad, self.alert_item("x:good")])
        results = reply["results"]
        self.assertEqual(len(results), len(bad) + 1)
        for result in results[:-1]:
            self.assertEqual(result["status"], "rejected")
            self.assertTrue(result["reason"])
        self.assertIn("NOPE-1", results[2]["reason"])
        self.assertEqual(results[-1]["status"], "accepted")
        self.assertEqual(
            self.env["cmms.alert"].search_count([("equipment_id", "=", self.equipment.id)]), 1
        )
        # A rejected key was not consumed: the fixed item is accepted later.
        fixed = self.api.ingest([self.alert_item("x:bad-ts")])
        self.assertEqual(self.statuses(fixed), ["accepted"])

    def test_malformed_and_oversized_batches_change_nothing(self):
        with self.assertRaises(UserError):
            self.api.ingest({"key": "not-a-list"})
        oversized = [self.alert_item(f"o:{n}") for n in range(5001)]
        with self.assertRaises(UserError):
            self.api.ingest(oversized)
        self.assertFalse(self.env["cmms.ingest.key"].search([("key", "like", "o:%")]))
        self.assertFalse(self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)]))

    def test_cleared_keeps_alert_open_for_people(self):
        self.api.ingest([self.alert_item("c:1")])
        self.api.ingest(
            [self.alert_item("c:2", kind="alert_cleared", ts="2026-11-22T08:05:00Z", value=6.0)]
        )
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(alert.condition, "cleared")
        self.assertEqual(alert.state, "raised")
        self.assertEqual(str(alert.cleared_at), "2026-11-22 08:05:00")
        # It still shows the fault: the value and time it was last seen active.
        self.assertEqual(alert.last_value, 20.5)
        self.assertEqual(str(alert.last_seen), "2026-11-22 08:00:00")

    def test_policy_low_criticality_warning_opens_no_request(self):
        reply = self.api.ingest(
            [self.alert_item("l:1", tag="LT-T02", alert_type="rule_violation", severity="warning")]
        )
        self.assertEqual(self.statuses(reply), ["accepted"])
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.low_equipment.id)])
        self.assertEqual(alert.alert_type, "rule_violation")
        self.assertFalse(alert.request_id)
        # Escalation to critical applies the policy again (critical x low opens one).
        self.api.ingest(
            [self.alert_item("l:2", tag="LT-T02", alert_type="rule_violation", severity="critical")]
        )
        self.assertEqual(alert.severity, "critical")
        self.assertEqual(alert.request_id.cmms_priority, "medium")

    def test_heartbeat_updates_connector(self):
        self.api.ingest([
            {"key": "h1", "type": "heartbeat", "ts": "2026-11-22T08:00:00Z",
             "data": {"connector_id": "edge-1", "mqtt_connected": True, "backlog": 12,
                      "readings_per_s": 40.5, "dead_letters": 2}},
            {"key": "h0", "type": "heartbeat", "ts": "2026-11-22T07:00:00Z",
             "data": {"connector_id": "edge-1", "mqtt_connected": False, "backlog": 99}},
        ])  # fmt: skip
        connector = self.env["cmms.connector"].search([("name", "=", "edge-1")])
        self.assertEqual(connector.backlog, 12, "an older heartbeat does not overwrite")
        self.assertTrue(connector.mqtt_connected)
        self.assertEqual(connector.readings_per_s, 40.5)
        self.assertEqual(connector.dead_letters, 2)

    def test_epoch_timestamps(self):
        reply = self.api.ingest([self.alert_item("e:1", ts=1795334400)])
        self.assertEqual(self.statuses(reply), ["accepted"])
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(str(alert.first_seen), "2026-11-22 08:00:00")
