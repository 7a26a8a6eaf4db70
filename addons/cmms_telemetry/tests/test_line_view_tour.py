# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestLineViewTour(HttpCase):
    def test_supervisor_reads_the_line(self):
        new_test_user(self.env, "tour_line_sup", groups="cmms_parfum.cmms_parfum_group_supervisor")
        Equipment = self.env["maintenance.equipment"]
        # Only this test's line (the demo's FLEXO 104 is listed after it).
        machine = Equipment.create(
            {"name": "A tour FLEXO", "cmms_tag": "FLX-TOUR", "cmms_kind": "machine"}
        )
        components = {
            code: Equipment.create(
                {
                    "name": f"Tour {code.lower()}",
                    "cmms_tag": f"FLX-TOUR-{code}",
                    "cmms_kind": "component",
                    "cmms_component_code": code,
                    "parent_id": machine.id,
                }
            )
            for code in ("PRE_FEEDER", "FEEDER", "PRINTING", "SLOTTER", "DOWN_STACKER")
        }
        now = fields.Datetime.now().replace(microsecond=0)
        for code, score, metrics in (
            ("PRE_FEEDER", 90.0, {"tension_dev_pct": 100, "feed_stops_hour": 60}),
            ("FEEDER", 85.0, {"double_sheet_hour": 100, "vacuum_dev_pct": 60}),
            ("PRINTING", 30.0, {"registration_error_mm": 25, "reject_rate_pct": 20}),
            ("SLOTTER", 55.0, {"miscut_pct": 55, "burr_mm": 100}),
            ("DOWN_STACKER", 95.0, {"jam_hour": 100}),
        ):
            self.env["cmms.health.snapshot"].create(
                {
                    "equipment_id": components[code].id,
                    "measured_at": now,
                    "score": score,
                    "metric_scores": metrics,
                }
            )
        self.env["cmms.prediction"].create(
            {
                "equipment_id": components["PRINTING"].id,
                "predicted_at": now,
                "predicted_hours": 2.5,
                "model_version": "rf-tour",
                "inputs": {},
            }
        )
        start = now - timedelta(hours=8)
        self.env["cmms.oee.record"].create(
            {
                "equipment_id": machine.id,
                "shift": "B",
                "is_running": True,  # the connector's provisional record
                "period_start": start,
                "period_end": now,
                "run_min": 420,
                "downtime_min": 60,
                "produced": 10000,
                "good": 9600,
                "rejected": 400,
                "design_speed": 250,
                "actual_speed": 225,
            }
        )
        reason = self.env["cmms.downtime.reason"]._for_code("PRINTING UNIT TROUBLE MEKANIK")
        self.env["cmms.downtime.event"].create(
            {
                "equipment_id": machine.id,
                "source": "connector",
                "reason_id": reason.id,
                "start": start + timedelta(hours=1),
                "duration_min": 35,
            }
        )
        self.start_tour(
            "/odoo/action-cmms_telemetry.cmms_line_view_action",
            "cmms_telemetry_line_view",
            login="tour_line_sup",
        )
