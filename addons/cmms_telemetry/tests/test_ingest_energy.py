# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from odoo.exceptions import AccessError

from .common import TelemetryCommon


class TestEnergyItems(TelemetryCommon):
    def energy(self, key, **data):
        values = {"machine": "FLX-T1", "period_start": "2026-11-22T08:00:00Z",
                  "period_end": "2026-11-22T09:00:00Z", "kwh": 41.25,
                  "produced": 11000}  # fmt: skip
        values.update(data)
        return self.item(key, "energy", {k: v for k, v in values.items() if v is not None})

    def readings(self, machine=None):
        return self.env["cmms.energy.reading"].search(
            [("equipment_id", "=", (machine or self.machine).id)]
        )

    def test_energy_is_stored_once_per_machine_and_period(self):
        reply = self.api.ingest([self.energy("e:1"), self.energy("e:1")])
        self.assertEqual(self.statuses(reply), ["accepted", "duplicate"])
        self.assertNotIn("computed", reply["results"][0])
        reading = self.readings()
        self.assertEqual(len(reading), 1)
        self.assertEqual(reading.period_start, datetime(2026, 11, 22, 8))
        self.assertEqual(reading.period_end, datetime(2026, 11, 22, 9))
        self.assertEqual((reading.kwh, reading.produced_units), (41.25, 11000))
        self.assertEqual(reading.source, "connector")
        key = self.env["cmms.ingest.key"].search([("key", "=", "e:1")])
        self.assertEqual((key.res_model, key.res_id), ("cmms.energy.reading", reading.id))
        # The same period under another key (a revision) replaces it.
        reply = self.api.ingest([self.energy("e:1:r1", kwh=42.0, produced=11500)])
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(self.readings(), reading)
        self.assertEqual((reading.kwh, reading.produced_units), (42.0, 11500))
        # Units are optional (a machine without a production counter); the
        # next hour is another reading; replaying changes nothing.
        batch = [
            self.energy("e:2", machine="PT-T01", produced=None, kwh=0),
            self.energy("e:3", period_start="2026-11-22T09:00:00Z",
                        period_end="2026-11-22T10:00:00Z"),
        ]  # fmt: skip
        self.assertEqual(self.statuses(self.api.ingest(batch)), ["accepted", "accepted"])
        self.assertEqual(self.readings(self.equipment).produced_units, 0)
        self.assertEqual(len(self.readings()), 2)
        self.assertEqual(self.statuses(self.api.ingest(batch)), ["duplicate", "duplicate"])
        self.assertEqual(self.env["cmms.energy.reading"].search_count([]), 3 + self.demo_count)

    @property
    def demo_count(self):
        return self.env["cmms.energy.reading"].search_count(
            [("equipment_id", "not in", (self.machine | self.equipment).ids)]
        )

    def test_bad_energy_items_are_rejected_and_nothing_written(self):
        before = self.env["cmms.energy.reading"].search_count([])
        bad = [
            self.energy("eb:machine", machine="NOPE-7"),
            self.energy("eb:period", period_end="2026-11-22T08:00:00Z"),
            self.energy("eb:long", period_end="2026-12-24T08:00:00Z"),
            self.energy("eb:neg", kwh=-0.5),
            self.energy("eb:str", kwh="41"),
            self.energy("eb:nan", kwh=float("nan")),
            self.energy("eb:units", produced=10.5),
            self.energy("eb:units-neg", produced=-1),
            self.energy("eb:missing", kwh=None),
            self.energy("eb:start", period_start="yesterday"),
        ]
        reply = self.api.ingest(bad)
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad))
        reasons = self.reasons(reply)
        self.assertIn("no equipment or sensor with data.machine 'NOPE-7'", reasons[0])
        self.assertIn("data.period_end must be after data.period_start", reasons[1])
        self.assertIn("more than 31 days", reasons[2])
        self.assertIn("data.kwh must be at least 0", reasons[3])
        self.assertIn("data.kwh must be a number", reasons[4])
        self.assertIn("data.kwh must be finite", reasons[5])
        self.assertIn("data.produced must be a whole number", reasons[6])
        self.assertIn("data.produced must be at least 0", reasons[7])
        self.assertIn("data.kwh is missing", reasons[8])
        self.assertIn("data.period_start", reasons[9])
        self.assertEqual(self.env["cmms.energy.reading"].search_count([]), before)
        self.assertFalse(self.env["cmms.ingest.key"].search([("key", "=like", "eb:%")]))
        # A rejected key is not consumed: corrected, it is accepted.
        reply = self.api.ingest([self.energy("eb:neg", kwh=0.5)])
        self.assertEqual(self.statuses(reply), ["accepted"])

    def test_an_overlapping_period_is_rejected_with_its_reason(self):
        self.env["cmms.energy.reading"].create(
            {
                "equipment_id": self.machine.id,
                "period_start": datetime(2026, 11, 1),
                "period_end": datetime(2026, 12, 1),
                "kwh": 30000.0,
            }
        )
        reply = self.api.ingest([self.energy("ov:1"), self.energy("ov:2", machine="LT-T02")])
        self.assertEqual(self.statuses(reply), ["rejected", "accepted"])
        self.assertIn("overlaps", self.reasons(reply)[0])
        self.assertEqual(len(self.readings()), 1, "the manual month only")

    def test_only_the_connector_pushes_energy(self):
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            with self.assertRaises(AccessError):
                self.env["cmms.telemetry.api"].with_user(user).ingest([self.energy("deny")])
        self.assertFalse(self.readings())
