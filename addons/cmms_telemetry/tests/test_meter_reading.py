# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError

from .common import TelemetryCommon


class TestMeterReadings(TelemetryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Meter = cls.env["cmms.meter"]
        cls.hours = Meter.create(
            {"name": "Run hours", "code": "run_hours", "uom": "h", "equipment_id": cls.machine.id}
        )
        cls.units = Meter.create(
            {
                "name": "Produced units",
                "code": "produced_units",
                "kind": "units",
                "uom": "units",
                "equipment_id": cls.machine.id,
            }
        )

    def meter_item(self, key, ts="2026-11-22T08:00:00Z", **data):
        return self.item(key, "meter_reading", {"machine": "FLX-T1", **data}, ts=ts)

    def test_increments_and_values_once_each(self):
        items = [
            self.meter_item("m:1", meter="run_hours", increment=0.25),
            self.meter_item("m:2", meter="produced_units", increment=1200),
            self.meter_item("m:3", ts="2026-11-22T08:15:00Z", meter="run_hours", increment=0.25),
        ]
        reply = self.api.ingest(items)
        self.assertEqual(self.statuses(reply), ["accepted"] * 3)
        self.assertEqual(reply["results"][2]["computed"], {"value": 0.5, "total": 0.5})
        # A replayed batch changes nothing.
        reply = self.api.ingest(items)
        self.assertEqual(self.statuses(reply), ["duplicate"] * 3)
        self.assertEqual((self.hours.value, self.units.value), (0.5, 1200.0))
        self.assertEqual(set(self.hours.reading_ids.mapped("source")), {"connector"})
        self.assertEqual(str(self.hours.last_read_at), "2026-11-22 08:15:00")
        reply = self.api.ingest([self.meter_item("m:4", meter="run_hours", value=10.0)])
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(self.hours.value, 10.0)

    def test_bad_meter_readings_are_rejected_nothing_written(self):
        self.api.ingest([self.meter_item("g:1", meter="run_hours", value=100.0)])
        bad = [
            self.meter_item("b:neg", meter="run_hours", value=-1.0),
            self.meter_item("b:neg-inc", meter="run_hours", increment=-0.5),
            self.meter_item("b:back", meter="run_hours", value=99.0),
            self.meter_item("b:both", meter="run_hours", value=120.0, increment=1.0),
            self.meter_item("b:none", meter="run_hours"),
            self.meter_item("b:meter", meter="cycles", increment=1.0),
            self.meter_item("b:machine", machine="NOPE-1", meter="run_hours", increment=1.0),
            self.meter_item("b:str", meter="run_hours", value="101"),
        ]
        reply = self.api.ingest(bad)
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad))
        reasons = self.reasons(reply)
        self.assertIn("data.value must be at least 0", reasons[0])
        self.assertIn("data.increment must be at least 0", reasons[1])
        self.assertIn("go backwards", reasons[2])
        self.assertIn("not both", reasons[3])
        self.assertIn("no meter 'cycles'", reasons[5])
        self.assertIn("NOPE-1", reasons[6])
        self.assertEqual(self.hours.value, 100.0)
        self.assertEqual(len(self.hours.reading_ids), 1)
        # A rejected key is not consumed: the corrected item goes through.
        reply = self.api.ingest([self.meter_item("b:back", meter="run_hours", value=101.0)])
        self.assertEqual(self.statuses(reply), ["accepted"])

    def test_meter_plan_fires_once_from_connector_readings(self):
        kind = self.env["maintenance.kind"].create({"name": "Telemetry test bearing check"})
        plan = self.env["maintenance.plan"].create(
            {
                "name": "Bearings every 100 h",
                "equipment_id": self.machine.id,
                "maintenance_kind_id": kind.id,
                "trigger_type": "meter",
                "meter_id": self.hours.id,
                "meter_threshold": 100.0,
                "meter_interval": 100.0,
            }
        )
        items = [self.meter_item(f"p:{n}", meter="run_hours", increment=30.0) for n in range(8)]
        self.api.ingest(items)
        requests = self.env["maintenance.request"].search([("maintenance_plan_id", "=", plan.id)])
        # 240 h: crossed 100 and 200, once each.
        self.assertEqual(len(requests), 2)
        self.assertEqual(set(requests.mapped("source")), {"plan"})
        self.assertEqual(plan.meter_next_value, 300.0)

    def test_only_the_connector_sends_meter_readings(self):
        api = self.env["cmms.telemetry.api"].with_user(self.technician)
        with self.assertRaises(AccessError):
            api.ingest([self.meter_item("x:1", meter="run_hours", increment=1.0)])
        self.assertFalse(self.hours.reading_ids)
