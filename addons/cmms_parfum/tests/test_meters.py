# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError

from .test_plans import PlanCommon


class TestMeters(PlanCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = (
            cls.env["cmms.meter"]
            .with_user(cls.supervisor)
            .create(
                {
                    "name": "Run hours",
                    "code": "run_hours",
                    "kind": "run_hours",
                    "uom": "h",
                    "equipment_id": cls.machine.id,
                }
            )
        )
        cls.Reading = cls.env["cmms.meter.reading"]

    def reading(self, value, user=None, **vals):
        return self.Reading.with_user(user or self.technician).create(
            {"meter_id": self.meter.id, "value": value, **vals}
        )

    def test_who_records_readings_and_who_keeps_meters(self):
        self.reading(120.0)
        self.reading(130.5, user=self.supervisor)
        self.assertEqual(self.meter.value, 130.5)
        self.assertEqual(self.meter.total_value, 130.5)
        self.assertEqual(self.meter.reading_ids[0].increment, 10.5)
        self.assertEqual(self.meter.reading_ids[0].user_id, self.supervisor)
        with self.assertRaises(AccessError):
            self.reading(140.0, user=self.operator)
        # Every role reads meters; only planners keep them.
        for user in (self.operator, self.technician):
            self.assertEqual(self.meter.with_user(user).value, 130.5)
            with self.assertRaises(AccessError):
                self.env["cmms.meter"].with_user(user).create(
                    {"name": "Cycles", "code": "cycles", "equipment_id": self.machine.id}
                )
        # Readings are history: nobody edits or deletes them.
        reading = self.meter.reading_ids[0]
        for user in (self.technician, self.supervisor, self.manager):
            with self.assertRaises(AccessError):
                reading.with_user(user).write({"value": 1.0})
            with self.assertRaises(AccessError):
                reading.with_user(user).unlink()

    def test_negative_or_backwards_reading_refused_nothing_written(self):
        self.reading(200.0)
        last_read_at = self.meter.last_read_at
        count = self.Reading.search_count([("meter_id", "=", self.meter.id)])
        with self.assertRefused(ValidationError, "cannot be negative"):
            self.reading(-1.0)
        with self.assertRefused(ValidationError, "go backwards"):
            self.reading(199.0)
        with self.assertRefused(ValidationError, "future"):
            self.reading(250.0, read_at=fields.Datetime.now() + timedelta(days=1))
        self.assertEqual(self.Reading.search_count([("meter_id", "=", self.meter.id)]), count)
        self.assertEqual(self.meter.value, 200.0)
        self.assertEqual(self.meter.last_read_at, last_read_at)
        # The same value again is a reading (the machine did not run).
        self.assertEqual(self.reading(200.0).increment, 0.0)

    def test_reset_is_an_explicit_action_of_a_supervisor(self):
        self.reading(900.0)
        with self.assertRaises(AccessError):
            self.meter.with_user(self.technician).action_reset()
        with self.assertRaises(AccessError):
            self.reading(0.0, is_reset=True, note="New meter")
        with self.assertRefused(ValidationError, "Say why"):
            self.reading(0.0, user=self.supervisor, is_reset=True)
        self.assertEqual(self.meter.value, 900.0)
        action = self.meter.with_user(self.supervisor).action_reset()
        self.assertTrue(action["context"]["default_is_reset"])
        self.reading(0.0, user=self.supervisor, is_reset=True, note="Meter replaced")
        self.assertEqual(self.meter.value, 0.0)
        self.assertEqual(self.meter.total_value, 900.0)
        self.reading(25.0)
        self.assertEqual(self.meter.value, 25.0)
        self.assertEqual(self.meter.total_value, 925.0)

    def test_meter_plan_fires_once_per_crossing_and_rearms(self):
        plan = self.plan(
            name="Bearing check every 250 h",
            trigger_type="meter",
            meter_id=self.meter.id,
            meter_threshold=500.0,
            meter_interval=250.0,
        )
        self.assertEqual(plan.meter_next_value, 500.0)
        # The calendar job leaves meter-based plans alone.
        self.cron.method_direct_trigger()
        self.assertFalse(self.requests_of(plan))
        for value in (100, 200, 499.9):
            self.reading(value)
        self.assertFalse(self.requests_of(plan))
        # Many readings past the threshold: one request.
        for value in (500, 510, 600, 700, 749.9):
            self.reading(value)
        requests = self.requests_of(plan)
        self.assertEqual(len(requests), 1)
        self.assertEqual(plan.meter_next_value, 750.0)
        self.assertEqual(requests.source, "plan")
        self.assertEqual(requests.cmms_state, "requested")
        self.assertEqual(requests.maintenance_type, "preventive")
        self.assertEqual(requests.user_id, self.technician)
        self.assertTrue(requests.schedule_date)
        self.assertIn("500", requests.description)
        # The next interval: one more.
        for value in (750, 800, 900):
            self.reading(value)
        self.assertEqual(len(self.requests_of(plan)), 2)
        # A jump over several intervals makes one request, re-armed above it.
        self.reading(1300)
        self.assertEqual(len(self.requests_of(plan)), 3)
        self.assertEqual(plan.meter_next_value, 1500.0)
        # Across a reset the plan follows the lifetime total.
        self.reading(0.0, user=self.supervisor, is_reset=True, note="Meter replaced")
        self.reading(150)
        self.assertEqual(len(self.requests_of(plan)), 3)
        self.reading(200)
        self.assertEqual(self.meter.total_value, 1500.0)
        self.assertEqual(len(self.requests_of(plan)), 4)
        with self.assertRaises(AccessError):
            plan.with_user(self.technician).meter_next_value = 0
