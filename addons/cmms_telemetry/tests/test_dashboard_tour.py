# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestDashboardTour(HttpCase):
    def test_technician_reads_the_dashboard(self):
        technician = new_test_user(
            self.env, "tour_dash_tech", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        # Only this test's sensors and alerts count.
        self.env["cmms.sensor"].search([]).action_archive()
        self.env["cmms.alert"].search([("state", "!=", "resolved")]).write(
            {"state": "resolved", "resolution_note": "Closed for the tour."}
        )
        # ... and only this test's overdue instrument.
        self.env["maintenance.equipment"].search([("calibration_interval_days", ">", 0)]).write(
            {"calibration_interval_days": 0}
        )
        equipment = self.env["maintenance.equipment"].create(
            {
                "name": "Tour pressure transmitter",
                "cmms_tag": "PT-TOUR",
                "cmms_kind": "instrument",
                "fail_limit": 0.5,
                "calibration_interval_days": 180,
                "next_calibration_date": "2020-01-01",
            }
        )
        sensor = self.env["cmms.sensor"].create(
            {
                "tag": "PT-TOUR",
                "equipment_id": equipment.id,
                "unit": "bar",
                "nominal": 6.0,
                "signal_high": 16.0,
                "use_low_warning": True,
                "low_warning": 4.0,
                "use_high_warning": True,
                "high_warning": 9.0,
                "use_high_critical": True,
                "high_critical": 10.0,
            }
        )
        thermometer = self.env["maintenance.equipment"].create(
            {"name": "Tour thermometer", "cmms_tag": "TT-TOUR", "cmms_kind": "instrument"}
        )
        self.env["cmms.sensor"].create(
            {"tag": "TT-TOUR", "equipment_id": thermometer.id, "unit": "°C"}
        )
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        self.env["cmms.reading"].create(
            [
                {
                    "sensor_id": sensor.id,
                    "period_start": now - timedelta(minutes=minutes),
                    "last_at": now - timedelta(minutes=minutes),
                    "min_value": 5.5 + minutes % 3 * 0.1,
                    "max_value": 6.5 + minutes % 3 * 0.1,
                    "mean_value": 6.0 + minutes % 3 * 0.1,
                    "last_value": 6.42 if minutes == 1 else 6.0,
                    "sample_count": 60,
                }
                for minutes in range(1, 50)
            ]
        )
        self.env["cmms.alert"].create(
            [
                {
                    "equipment_id": equipment.id,
                    "sensor_id": sensor.id,
                    "alert_type": "rule_violation",
                    "severity": "warning",
                    "message": "PT-TOUR above its high warning limit",
                },
                {
                    "equipment_id": equipment.id,
                    "alert_type": "calibration_overdue",
                    "severity": "advisory",
                },
            ]
        )
        self.env["maintenance.request"].create(
            {"name": "Check PT-TOUR", "equipment_id": equipment.id, "user_id": technician.id}
        )
        self.start_tour(
            "/odoo/action-cmms_telemetry.cmms_telemetry_dashboard_action",
            "cmms_telemetry_dashboard",
            login="tour_dash_tech",
        )
