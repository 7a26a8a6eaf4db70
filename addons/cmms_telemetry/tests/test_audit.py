# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import TelemetryCommon

KEPT = ("cmms.alert", "cmms.reading", "cmms.health.snapshot", "cmms.oee.record")


# post_install: OCA auditlog hooks its rules into the models once every
# addon is loaded.
@tagged("post_install", "-at_install")
class TestTelemetryAudit(TelemetryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env, "t_admin", groups="base.group_system,cmms_parfum.cmms_parfum_group_manager"
        )
        cls.roles = (cls.operator, cls.technician, cls.supervisor, cls.manager, cls.connector)
        cls.api.ingest(
            [
                cls.alert_item("au:alert"),
                cls.item("au:agg", "reading_agg", {"tag": "PT-T01",
                         "period_start": "2026-11-22T08:00:00Z",
                         "min": 1, "max": 2, "mean": 1.5, "last": 2, "count": 3}),
                cls.item("au:health", "health_snapshot", {"tag": "FLX-T1-PR", "score": 88}),
                cls.item("au:oee", "oee_record", {"machine": "FLX-T1",
                         "period_start": "2026-11-22T06:00:00Z",
                         "period_end": "2026-11-22T07:00:00Z", "run_min": 50,
                         "downtime_min": 10, "produced": 100, "good": 90,
                         "design_speed": 2, "actual_speed": 2}),
            ]
        )  # fmt: skip
        cls.kept = {
            "cmms.alert": cls.equipment.alert_ids,
            "cmms.reading": cls.env["cmms.reading"].search([("sensor_id", "=", cls.sensor.id)]),
            "cmms.health.snapshot": cls.printing.health_snapshot_ids,
            "cmms.oee.record": cls.env["cmms.oee.record"].search(
                [("equipment_id", "=", cls.machine.id)]
            ),
        }

    def logs(self, records, method):
        return self.env["auditlog.log"].search(
            [
                ("model_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("method", "=", method),
            ]
        )

    def test_nobody_but_the_administrator_deletes_telemetry_records(self):
        ways_out = {
            "cmms.alert": "resolve the alert",
            "cmms.reading": "readings are kept as measured",
            "cmms.health.snapshot": "kept as the equipment's history",
            "cmms.oee.record": "correct its figures",
        }
        for model, records in self.kept.items():
            self.assertEqual(len(records), 1, model)
            for user in self.roles:
                self.assertFalse(self.env[model].with_user(user).has_access("unlink"))
                with self.assertRaises(AccessError, msg=f"{user.login} {model}") as caught:
                    records.with_user(user).unlink()
                self.assertIn(ways_out[model], str(caught.exception))
                self.assertIn("Only the administrator may delete them", str(caught.exception))
            self.assertTrue(records.exists())
        # A sensor is archived, not deleted: its readings would go with it.
        for user in (self.supervisor, self.manager):
            with self.assertRaises(AccessError) as caught:
                self.sensor.with_user(user).unlink()
            self.assertIn("archive the sensor instead", str(caught.exception))
        self.sensor.with_user(self.supervisor).action_archive()
        self.assertFalse(self.sensor.active)

    def test_administrator_deletions_are_logged_with_the_values(self):
        for model, records in self.kept.items():
            ids = records.ids
            records.with_user(self.admin).unlink()
            self.assertFalse(self.env[model].browse(ids).exists())
            log = self.logs(records, "unlink")
            self.assertEqual(log.user_id, self.admin, model)
            self.assertTrue(log.line_ids, f"the deleted values of {model}")
        log = self.logs(self.kept["cmms.reading"], "unlink")
        values = {line.field_name: line.old_value_text for line in log.line_ids}
        self.assertEqual(values["sample_count"], "3")
        self.assertEqual(values["mean_value"], "1.5")

    def test_bulk_telemetry_is_not_audited(self):
        # Created in bulk by the connector: neither the records nor the health
        # it carries to the equipment fill the audit log.
        for model, records in self.kept.items():
            self.assertFalse(self.logs(records, "create"), model)
        self.assertEqual(self.printing.health_score, 88)
        self.assertFalse(self.logs(self.printing, "write"))

    def test_settings_changes_are_logged(self):
        self.sensor.with_user(self.supervisor).write({"high_warning": 8.5})
        threshold = self.env["cmms.health.threshold"].search([], limit=1)
        old_critical = threshold.critical
        threshold.with_user(self.manager).write({"critical": old_critical + 1})
        policy = self.env["cmms.alert.policy"].search([], limit=1)
        policy.with_user(self.manager).write({"create_request": not policy.create_request})
        for records, user, field, old in (
            (self.sensor, self.supervisor, "high_warning", "9.0"),
            (threshold, self.manager, "critical", str(old_critical)),
            (policy, self.manager, "create_request", "No" if policy.create_request else "Yes"),
        ):
            log = self.logs(records, "write")
            self.assertEqual(log.user_id, user)
            line = log.line_ids.filtered(lambda line, name=field: line.field_name == name)
            self.assertEqual(line.old_value_text, old, field)
