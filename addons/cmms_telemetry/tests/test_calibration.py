# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.exceptions import AccessError

from .common import TelemetryCommon


class TestCalibration(TelemetryCommon):
    def config_of(self, tag):
        config = self.api.get_connector_config()
        return next(s for s in config["sensors"] if s["tag"] == tag), config["version"]

    def test_technician_supervisor_and_manager_record_a_calibration(self):
        # The set-up's records were created untracked: finish that first.
        self.env.cr.precommit.run()
        for moment, user in (
            ("2026-11-22 08:00:00", self.technician),
            ("2026-11-22 09:00:00", self.supervisor),
            ("2026-11-22 10:00:00", self.manager),
        ):
            tracked = self.sensor.with_context(tracking_disable=False, mail_notrack=False)
            with freeze_time(moment):
                tracked.with_user(user).action_record_calibration()
                self.env.flush_all()
                self.env.cr.precommit.run()  # tracking values are written here
            self.sensor.invalidate_recordset()
            self.assertEqual(str(self.sensor.last_calibration_at), moment, user.login)
            note = self.sensor.message_ids.filtered(
                lambda m, u=user: "Calibration recorded" in (m.body or "")
                and m.author_id == u.partner_id
            )
            self.assertEqual(len(note), 1, user.login)
            values = self.sensor.message_ids.tracking_value_ids.filtered(
                lambda t: t.field_id.name == "last_calibration_at"
            )
            self.assertIn(moment, values.mapped(lambda t: str(t.new_value_datetime)), user.login)

    def test_operator_and_connector_may_not_record_a_calibration(self):
        for user in (self.operator, self.connector):
            with self.assertRaises(AccessError, msg=user.login):
                self.sensor.with_user(user).action_record_calibration()
        self.assertFalse(self.sensor.last_calibration_at)
        # Nobody but sensor writers sets the field directly.
        with self.assertRaises(AccessError):
            self.sensor.with_user(self.technician).write(
                {"last_calibration_at": "2026-11-22 08:00:00"}
            )

    def test_calibration_reaches_the_connector_config(self):
        before, version = self.config_of("PT-T01")
        self.assertIs(before["last_calibration_at"], False)
        with freeze_time("2026-11-22 08:30:00"):
            self.sensor.with_user(self.technician).action_record_calibration()
        after, new_version = self.config_of("PT-T01")
        self.assertEqual(after["last_calibration_at"], "2026-11-22T08:30:00Z")
        self.assertNotEqual(version, new_version)
        other, _ = self.config_of("LT-T02")
        self.assertIs(other["last_calibration_at"], False)

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
