# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tools import mute_logger

from .common import TelemetryCommon


class TestInstrumentRegister(TelemetryCommon):
    """Tag, unit and range are kept once, on the instrument; the sensor reads them."""

    def settings(self, tag="PT-T01"):
        config = self.api.get_connector_config()
        return next(s for s in config["sensors"] if s["tag"] == tag), config["version"]

    def test_the_connector_reads_the_instrument_register(self):
        before, version = self.settings()
        self.assertEqual((before["unit"], before["signal_high"]), ("bar", 16.0))
        self.equipment.with_user(self.supervisor).write(
            {"range_high": 25.0, "instrument_unit": "barg", "nominal_value": 7.0}
        )
        self.env.flush_all()
        # write_date is the transaction time: make the change visible in it.
        self.env.cr.execute(
            "UPDATE cmms_sensor SET write_date = write_date + interval '1 second' WHERE id = %s",
            [self.sensor.id],
        )
        after, new_version = self.settings()
        self.assertEqual(
            (after["unit"], after["signal_high"], after["nominal"]), ("barg", 25.0, 7.0)
        )
        self.assertNotEqual(version, new_version)
        # Renaming the instrument renames its signal.
        self.equipment.cmms_tag = "PT-T01A"
        self.assertEqual(self.sensor.tag, "PT-T01A")

    def test_writing_the_sensor_writes_the_instrument(self):
        self.sensor.with_user(self.supervisor).write({"signal_low": -1.0, "unit": "kPa"})
        self.assertEqual((self.equipment.range_low, self.equipment.instrument_unit), (-1.0, "kPa"))
        self.equipment.invalidate_recordset()
        self.env.cr.execute(
            "SELECT range_low, instrument_unit FROM maintenance_equipment WHERE id = %s",
            [self.equipment.id],
        )
        self.assertEqual(self.env.cr.fetchone(), (-1.0, "kPa"))

    def test_one_sensor_per_instrument_and_a_valid_range(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self.env["cmms.sensor"].create(
                {"tag": "PT-T01B", "equipment_id": self.equipment.id, "unit": "bar"}
            )
        with self.assertRaises(ValidationError):
            self.equipment.write({"range_low": 20.0})
        self.assertEqual(self.equipment.range_low, 0.0)
        bare = self.env["maintenance.equipment"].create({"name": "No tag yet"})
        with self.assertRaises(ValidationError):
            self.env["cmms.sensor"].create({"equipment_id": bare.id})
