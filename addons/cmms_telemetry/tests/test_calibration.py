# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError

from .common import TelemetryCommon


class TestCalibration(TelemetryCommon):
    """The calibration register (cmms_parfum) seen from telemetry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.equipment.write(
            {
                "tolerance_mode": "span",
                "adjust_limit": 0.25,
                "fail_limit": 0.5,
                "calibration_interval_days": 180,
            }  # fmt: skip
        )
        cls.standard = cls.env["cmms.calibration.standard"].create(
            {
                "name": "Pressure calibrator",
                "serial_number": "PC-T1",
                "certificate_number": "LAB-T1",
                "calibrated_on": "2024-01-01",
                "due_date": "2030-12-31",
                "uncertainty": 0.01,
                "uncertainty_unit": "bar",
            }
        )

    def config_of(self, tag):
        config = self.api.get_connector_config()
        return next(s for s in config["sensors"] if s["tag"] == tag), config["version"]

    def calibrate(self, when):
        """Record, sign and approve a calibration of PT-T01 at ``when``."""
        Wizard = self.env["cmms.calibration.sign.wizard"]
        with freeze_time(when):
            record = (
                self.env["cmms.calibration"]
                .with_user(self.technician)
                .create(
                    {
                        "equipment_id": self.equipment.id,
                        "standard_ids": [fields.Command.set(self.standard.ids)],
                    }
                )
            )
            for point in record.point_ids:
                point.as_found_value = point.reference_value
            for user, action in ((self.technician, "sign"), (self.supervisor, "approve")):
                password = user.login + "x" * (8 - len(user.login))
                Wizard.with_user(user).create(
                    {"calibration_id": record.id, "action": action, "password": password}
                ).action_confirm()
        return record

    def test_the_job_run_twice_raises_one_alert_and_one_work_order(self):
        self.calibrate("2025-12-01 08:00:00")
        Alert, Request = self.env["cmms.alert"], self.env["maintenance.request"]
        cron = self.env.ref("cmms_parfum.ir_cron_cmms_calibration_due")
        with freeze_time("2026-06-01 06:00:00"):
            cron.method_direct_trigger()
        with freeze_time("2026-06-02 06:00:00"):
            cron.method_direct_trigger()
        alerts = Alert.search(
            [("equipment_id", "=", self.equipment.id), ("alert_type", "=", "calibration_overdue")]
        )
        requests = Request.search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(len(alerts), 1)
        self.assertEqual(len(requests), 1)
        self.assertEqual(alerts.request_id, requests)
        self.assertTrue(requests.cmms_calibration)
        self.assertEqual(alerts.severity, "critical")
        self.assertFalse(alerts.sensor_id)
        self.assertIn("2026-05-30", alerts.message)
        self.assertEqual(str(alerts.last_seen), "2026-06-02 06:00:00")
        # Calibrating the instrument resolves the alert; the record closes the work order.
        record = self.calibrate("2026-06-03 09:00:00")
        self.assertEqual(record.request_id, requests)
        self.assertEqual(alerts.state, "resolved")
        self.assertIn(record.display_name, alerts.resolution_note)
        with freeze_time("2026-06-04 06:00:00"):
            cron.method_direct_trigger()
        self.assertEqual(
            Alert.search_count(
                [("equipment_id", "=", self.equipment.id), ("state", "!=", "resolved")]
            ),
            0,
        )

    def test_approving_resets_the_connectors_cusum(self):
        before, version = self.config_of("PT-T01")
        self.assertIs(before["last_calibration_at"], False)
        record = self.calibrate("2026-11-22 08:30:00")
        self.assertEqual(record.state, "approved")
        after, new_version = self.config_of("PT-T01")
        self.assertEqual(after["last_calibration_at"], "2026-11-22T08:30:00Z")
        self.assertNotEqual(version, new_version)
        other, _ = self.config_of("LT-T02")
        self.assertIs(other["last_calibration_at"], False)
        # A signed record not yet approved tells the connector nothing.
        self.assertEqual(str(self.sensor.last_calibration_at), "2026-11-22 08:30:00")

    def test_who_opens_the_recording_dialog_from_the_sensor(self):
        for user in (self.technician, self.supervisor, self.manager):
            action = self.sensor.with_user(user).action_record_calibration()
            self.assertEqual(action["res_model"], "cmms.calibration", user.login)
            self.assertEqual(action["context"]["default_equipment_id"], self.equipment.id)
        for user in (self.operator, self.connector):
            with self.assertRaises(AccessError, msg=user.login):
                self.sensor.with_user(user).action_record_calibration()
        # Nobody sets the sensor's calibration time directly.
        with self.assertRaises(AccessError):
            self.sensor.with_user(self.technician).write(
                {"last_calibration_at": "2026-11-22 08:00:00"}
            )
        self.assertFalse(self.sensor.last_calibration_at)

    def test_the_version_stamp_counts_calibrations(self):
        # Even if write_date did not move (same transaction second), the
        # calibration digest changes the stamp.
        _, version = self.config_of("PT-T01")
        self.env.cr.execute(
            "UPDATE cmms_sensor SET last_calibration_at = %s WHERE id = %s",
            ("2026-11-22 08:00:00", self.sensor.id),
        )
        self.sensor.invalidate_recordset()
        _, new_version = self.config_of("PT-T01")
        self.assertNotEqual(version, new_version)

    def test_interval_analysis_uses_the_connectors_drift_rate(self):
        for day in ("2024-01-01", "2024-06-29", "2024-12-26", "2025-06-24"):
            self.calibrate(f"{day} 08:00:00")
        # The records above are exact (error 0): drift from the history is 0,
        # the suggestion doubles the interval; telemetry says otherwise.
        reply = self.api.ingest(
            [
                self.item(
                    "drift-1",
                    "alert_raised",
                    {
                        "tag": "PT-T01",
                        "alert_type": "drift",
                        "severity": "warning",
                        "value": 6.3,
                        "drift_rate": 0.0008,
                    },  # fmt: skip
                    ts="2025-08-01T00:00:00Z",
                )
            ]
        )
        self.assertEqual(self.statuses(reply), ["accepted"])
        # 0.0008 bar/day over a fail limit of 0.08 bar: 0.01 limits per day -> 100 days.
        self.assertAlmostEqual(self.equipment._calibration_drift_rate(), 0.01)
        self.equipment.with_user(self.technician).action_analyse_interval()
        self.assertEqual(self.equipment.suggested_interval_days, 100)
        self.assertIn("Telemetry", self.equipment.interval_analysis)
        bad = self.api.ingest(
            [self.item("drift-2", "alert_raised",
                       {"tag": "PT-T01", "alert_type": "drift", "drift_rate": "fast"})]
        )  # fmt: skip
        self.assertEqual(self.reasons(bad), ["data.drift_rate must be a number"])
