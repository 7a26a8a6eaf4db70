# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError

from .common import TelemetryCommon


class TestHealthAdvisor(TelemetryCommon):
    """The recommendation rules, band by band."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.advisor = cls.env["cmms.health.advisor"]

    def levels(self, band, scores):
        return [
            (r["level"], r["metric"]) for r in self.advisor._component_recommendations(band, scores)
        ]

    def test_healthy_bands_carry_nothing(self):
        scores = {"registration_error_mm": 25, "reject_rate_pct": 55}
        self.assertEqual(self.levels("excellent", scores), [])
        self.assertEqual(self.levels("good", scores), [])

    def test_warning_band(self):
        # Each metric below 80: under 40 act, under 60 schedule, under 80 monitor.
        self.assertEqual(
            self.levels(
                "warning",
                {"miscut_pct": 55, "blade_life_used_pct": 100, "burr_mm": 60, "uptime": 30},
            ),
            [("act", "uptime"), ("schedule", "miscut_pct"), ("monitor", "burr_mm")],
        )
        # The metric that pulled it down is scheduled at least.
        self.assertEqual(
            self.levels("warning", {"jam_hour": 70, "misstack_pct": 100}),
            [("schedule", "jam_hour")],
        )

    def test_critical_band(self):
        self.assertEqual(
            self.levels(
                "critical",
                {"registration_error_mm": 25, "reject_rate_pct": 55, "performance_ratio": 100},
            ),
            [("act", "registration_error_mm"), ("schedule", "reject_rate_pct")],
        )
        # The weakest metric asks to act in the critical band, whatever its score.
        self.assertEqual(
            self.levels("critical", {"double_sheet_hour": 55, "vacuum_dev_pct": 60}),
            [("act", "double_sheet_hour"), ("monitor", "vacuum_dev_pct")],
        )

    def test_without_metrics(self):
        self.assertEqual(self.levels("warning", None), [("schedule", False)])
        self.assertEqual(self.levels("critical", {}), [("act", False)])

    def test_text_names_the_metric_and_its_action(self):
        (advice,) = self.advisor._component_recommendations("critical", {"burr_mm": 25})
        self.assertIn("Burr height scores 25/100: act now", advice["text"])
        self.assertIn("sharpen or change the slotter blade", advice["text"])

    def snapshot(self, equipment, score, metrics):
        return self.env["cmms.health.snapshot"].create(
            {
                "equipment_id": equipment.id,
                "measured_at": fields.Datetime.now(),
                "score": score,
                "metric_scores": metrics,
            }
        )

    def oee(self, machine, good, produced=1000):
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=9)
        return self.env["cmms.oee.record"].create(
            {
                "equipment_id": machine.id,
                "period_start": start,
                "period_end": start + timedelta(hours=8),
                "run_min": 450,
                "downtime_min": 30,
                "produced": produced,
                "good": good,
                "rejected": produced - good,
                "design_speed": 250,
                "actual_speed": 240,
            }
        )

    def test_health_index_under_50_pulled_by_the_oee(self):
        # OEE = 93.75 x 96 x 40 % = 36: quality is the weakest factor.
        self.oee(self.machine, good=400)
        self.assertLess(self.machine.health_index, 50)
        advice = self.advisor._for_equipment(self.machine)[self.machine.id]
        self.assertEqual([(r["level"], r["metric"]) for r in advice], [("act", "quality")])
        self.assertIn("[ACT]", self.machine.health_recommendations)
        self.assertEqual(self.machine.health_action_level, "act")

    def test_health_index_under_50_pulled_by_the_rpn(self):
        self.oee(self.machine, good=990)
        self.env["cmms.fmea"].create(
            {
                "name": "Anilox worn",
                "equipment_id": self.machine.id,
                "severity": 10,
                "occurrence": 10,
                "detection": 9,
                "recommended_action": "replace the anilox roll",
            }
        )
        self.machine.invalidate_recordset()
        # RPN 900 -> score 10; index = 0.4 x 10 + 0.6 x 89.1 = 57.5: not under 50.
        self.assertGreaterEqual(self.machine.health_index, 50)
        self.assertFalse(self.advisor._health_index_recommendations(self.machine))
        self.env["ir.config_parameter"].sudo().set_param("cmms_telemetry.health_rpn_weight", 0.8)
        self.machine.invalidate_recordset()
        self.assertLess(self.machine.health_index, 50)
        advice = self.advisor._health_index_recommendations(self.machine)
        self.assertEqual([r["metric"] for r in advice], ["rpn", "availability"])
        self.assertIn("Anilox worn has RPN 900: replace the anilox roll", advice[0]["text"])

    def test_component_recommendations_on_the_equipment(self):
        self.snapshot(self.printing, 45.0, {"registration_error_mm": 60, "reject_rate_pct": 20})
        self.assertEqual(self.printing.health_band, "warning")
        self.assertEqual(self.printing.health_action_level, "act")
        lines = self.printing.with_user(self.supervisor).health_recommendations.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith("[ACT] Print reject rate scores 20/100"))
        self.assertTrue(lines[1].startswith("[MONITOR] Registration error scores 60/100"))
        self.snapshot(self.feeder, 85.0, {"double_sheet_hour": 100, "vacuum_dev_pct": 60})
        self.assertFalse(self.feeder.health_recommendations)

    def test_propose_work_order_with_the_predicted_duration(self):
        self.snapshot(self.printing, 30.0, {"registration_error_mm": 25, "reject_rate_pct": 20})
        Prediction = self.env["cmms.prediction"]
        Prediction.create(
            {
                "equipment_id": self.printing.id,
                "predicted_at": fields.Datetime.now() - timedelta(days=2),
                "predicted_hours": 5.0,
                "model_version": "rf-old",
                "inputs": {},
            }
        )
        Prediction.create(
            {
                "equipment_id": self.printing.id,
                "predicted_at": fields.Datetime.now(),
                "predicted_hours": 2.35,
                "model_version": "rf-new",
                "inputs": {},
            }
        )
        action = self.printing.with_user(self.supervisor).action_propose_work_order()
        context = action["context"]
        self.assertEqual(action["res_model"], "maintenance.request")
        self.assertEqual(context["default_duration"], 2.35)
        self.assertEqual(context["default_equipment_id"], self.printing.id)
        self.assertEqual(context["default_priority"], "3")
        self.assertIn("rf-new", context["default_description"])
        # Nothing is written until the supervisor saves the form.
        request = (
            self.env["maintenance.request"]
            .with_user(self.supervisor)
            .with_context(**context)
            .create({})
        )
        self.assertEqual(request.duration, 2.35)
        # The machine uses its components' newest prediction.
        self.assertEqual(self.machine._latest_prediction().model_version, "rf-new")

    def test_no_work_order_without_an_act(self):
        self.snapshot(self.printing, 55.0, {"registration_error_mm": 60, "reject_rate_pct": 55})
        with self.assertRaises(UserError):
            self.printing.with_user(self.supervisor).action_propose_work_order()
