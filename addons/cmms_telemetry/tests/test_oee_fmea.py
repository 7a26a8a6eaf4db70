# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form

from .common import TelemetryCommon


class TestOeeManualEntry(TelemetryCommon):
    def test_supervisor_enters_a_shift_and_results_follow(self):
        OeeRecord = self.env["cmms.oee.record"].with_user(self.supervisor)
        with Form(OeeRecord) as form:
            form.equipment_id = self.machine
            form.shift = "B"
            form.period_start = datetime(2026, 11, 21, 14, 0)
            form.period_end = datetime(2026, 11, 21, 22, 0)
            self.assertEqual(form.planned_min, 480.0, "planned time follows the period")
            form.run_min = 400
            form.downtime_min = 80
            form.produced = 1000
            form.good = 950
            form.rejected = 50
            form.design_speed = 250
            form.actual_speed = 200
            # The results are computed live in the form.
            self.assertAlmostEqual(form.availability, 400 / 480 * 100, places=2)
            self.assertAlmostEqual(form.performance, 80.0, places=2)
            self.assertAlmostEqual(form.quality, 95.0, places=2)
            self.assertAlmostEqual(form.oee, 400 / 480 * 0.8 * 0.95 * 100, places=2)
            self.assertEqual(form.status, "warning")
        record = form.record
        self.assertEqual(record.source, "manual")
        self.assertEqual(record.name, "FLX-T1 2026-11-21 14:00 (B)")
        # Editing an input recomputes the stored results.
        with Form(record) as form:
            form.actual_speed = 240
        self.assertAlmostEqual(record.oee, 400 / 480 * 0.96 * 0.95 * 100, places=2)
        self.assertEqual(record.status, "normal")
        # A manual planned time overrides the period's length.
        record.planned_min = 450
        self.assertEqual(record.planned_min, 450)

    def test_rights_and_checks_of_manual_entry(self):
        vals = {"equipment_id": self.machine.id, "period_start": "2026-11-21 06:00:00",
                "period_end": "2026-11-21 14:00:00", "run_min": 400, "produced": 10,
                "good": 10, "design_speed": 1, "actual_speed": 1}  # fmt: skip
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                self.env["cmms.oee.record"].with_user(user).create(vals)
        OeeRecord = self.env["cmms.oee.record"].with_user(self.supervisor)
        record = OeeRecord.create(vals)
        self.assertEqual(record.with_user(self.operator).status, "normal", "operators read it")
        with self.assertRaises(AccessError):
            record.with_user(self.technician).write({"good": 9})
        with self.assertRaises(AccessError):
            record.with_user(self.supervisor).unlink()
        for bad in (
            {"good": 11},
            {"good": 8, "rejected": 3},
            {"run_min": 500},
            {"period_end": "2026-11-21 05:00:00"},
            {"downtime_min": -5},
        ):
            with self.assertRaises(ValidationError):
                record.write(bad)
        with self.assertRaises(ValidationError):
            empty = "2026-11-22 06:00:00"  # not the start of the record above: one per start
            OeeRecord.create({**vals, "period_start": empty, "period_end": empty})


class TestFmeaHealthIndex(TelemetryCommon):
    def fmea(self, equipment, severity, occurrence, detection, user=None):
        return (
            self.env["cmms.fmea"]
            .with_user(user or self.supervisor)
            .create(
                {
                    "name": f"Mode {severity}{occurrence}{detection}",
                    "equipment_id": equipment.id,
                    "severity": severity,
                    "occurrence": occurrence,
                    "detection": detection,
                }
            )
        )

    def oee(self, equipment, actual_speed, days_ago=1):
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(days=days_ago)
        return self.env["cmms.oee.record"].create(
            {
                "equipment_id": equipment.id,
                "period_start": start,
                "period_end": start + timedelta(hours=8),
                "run_min": 480,
                "produced": 100,
                "good": 100,
                "design_speed": 100,
                "actual_speed": actual_speed,
            }
        )

    def test_rpn_is_stored_and_ratings_are_bounded(self):
        mode = self.fmea(self.printing, 6, 5, 6)
        self.assertEqual(mode.rpn, 180)
        self.assertEqual(mode.rpn_score, 82.0, "100 - RPN / 10, as FlexoTwin's Pre-Feeder")
        mode.write({"occurrence": 2})
        self.assertEqual(mode.rpn, 72)
        for bad in ({"severity": 0}, {"occurrence": 11}, {"detection": -1}):
            with self.assertRaises(ValidationError):
                mode.write(bad)
        with self.assertRaises(AccessError):
            self.fmea(self.printing, 1, 1, 1, user=self.technician)
        with self.assertRaises(AccessError):
            mode.with_user(self.operator).write({"severity": 2})
        self.assertEqual(mode.with_user(self.operator).rpn, 72)

    def test_health_index_blends_rpn_and_oee(self):
        self.fmea(self.printing, 6, 5, 6)  # RPN 180 -> 82
        self.fmea(self.printing, 2, 2, 2)  # the worst mode counts
        self.assertEqual(self.printing.rpn_max, 180)
        self.oee(self.machine, 90)  # the component has no OEE: its machine's (90 %)
        self.oee(self.machine, 80, days_ago=2)
        self.oee(self.machine, 10, days_ago=60)  # outside the 30-day window
        self.printing.invalidate_recordset()
        self.assertAlmostEqual(self.printing.oee_score, 85.0)
        self.assertAlmostEqual(self.printing.health_index, 82.0 * 0.4 + 85.0 * 0.6)
        self.assertEqual(self.printing.health_index_band, "good")
        # The blend is a setting.
        self.env["res.config.settings"].create({"cmms_health_rpn_weight": 1.0}).execute()
        self.printing.invalidate_recordset()
        self.assertAlmostEqual(self.printing.health_index, 82.0)
        self.env["res.config.settings"].create({"cmms_health_rpn_weight": 0.0}).execute()
        self.printing.invalidate_recordset()
        self.assertAlmostEqual(self.printing.health_index, 85.0, msg="a zero weight is kept")
        # A very risky mode drags the index down: RPN 720 -> 28.
        self.env["res.config.settings"].create({"cmms_health_rpn_weight": 0.4}).execute()
        self.fmea(self.printing, 10, 9, 8)
        self.printing.invalidate_recordset()
        self.assertAlmostEqual(self.printing.health_index, 28.0 * 0.4 + 85.0 * 0.6)
        self.assertEqual(self.printing.health_index_band, "warning")
        self.oee(self.printing, 20)  # its own OEE now: 20 %
        self.printing.invalidate_recordset()
        self.assertAlmostEqual(self.printing.health_index, 28.0 * 0.4 + 20.0 * 0.6)
        self.assertEqual(self.printing.health_index_band, "critical")

    def test_health_index_with_one_source_only(self):
        self.assertFalse(self.feeder.health_index_band, "nothing known, no index")
        self.fmea(self.feeder, 5, 5, 4)  # RPN 100 -> 90
        self.feeder.invalidate_recordset()
        self.assertAlmostEqual(self.feeder.health_index, 90.0)
        self.assertEqual(self.feeder.with_user(self.operator).health_index_band, "good")
