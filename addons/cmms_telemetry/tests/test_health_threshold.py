# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError, ValidationError

from .common import TelemetryCommon


class TestHealthThreshold(TelemetryCommon):
    def test_config_returns_the_spec_defaults(self):
        thresholds = self.api.get_connector_config()["health_thresholds"]
        self.assertEqual(
            thresholds["PRINTING"]["registration_error_mm"],
            {"good": 0.2, "warning": 0.5, "critical": 1.0},
        )
        self.assertEqual(
            set(thresholds),
            {"PRE_FEEDER", "FEEDER", "PRINTING", "SLOTTER", "DOWN_STACKER"},
        )
        self.assertEqual(
            thresholds["SLOTTER"]["blade_life_used_pct"],
            {"good": 70.0, "warning": 90.0, "critical": 95.0},
        )
        self.assertEqual(sum(len(metrics) for metrics in thresholds.values()), 11)

    def test_version_changes_when_a_threshold_changes(self):
        threshold = self.env.ref(
            "cmms_telemetry.cmms_health_threshold_printing_registration_error_mm"
        ).with_user(self.manager)
        before = self.api.get_connector_config()["version"]
        threshold.warning = 0.4
        after = self.api.get_connector_config()
        self.assertNotEqual(before, after["version"])
        self.assertEqual(
            after["health_thresholds"]["PRINTING"]["registration_error_mm"]["warning"], 0.4
        )
        # Archiving takes the metric out of the configuration, and changes the stamp.
        threshold.active = False
        archived = self.api.get_connector_config()
        self.assertNotEqual(after["version"], archived["version"])
        self.assertNotIn("registration_error_mm", archived["health_thresholds"]["PRINTING"])

    def test_only_managers_edit_thresholds(self):
        threshold = self.env.ref("cmms_telemetry.cmms_health_threshold_feeder_vacuum_dev_pct")
        for user in (self.operator, self.technician, self.supervisor):
            self.assertEqual(threshold.with_user(user).critical, 30.0, "everyone reads them")
            with self.assertRaises(AccessError):
                threshold.with_user(user).write({"critical": 40.0})
            with self.assertRaises(AccessError):
                self.env["cmms.health.threshold"].with_user(user).create(
                    {"component": "FEEDER", "metric": "belt_slip_pct", "good": 1,
                     "warning": 2, "critical": 3}
                )  # fmt: skip
        created = (
            self.env["cmms.health.threshold"]
            .with_user(self.manager)
            .create(
                {
                    "component": "FEEDER",
                    "metric": "belt_slip_pct",
                    "unit": "%",
                    "good": 1,
                    "warning": 2,
                    "critical": 3,
                }
            )  # fmt: skip
        )
        self.assertIn(
            "belt_slip_pct", self.api.get_connector_config()["health_thresholds"]["FEEDER"]
        )
        created.unlink()

    def test_limits_are_validated(self):
        Threshold = self.env["cmms.health.threshold"].with_user(self.manager)
        base = {"component": "SLOTTER", "metric": "anvil_wear_index", "good": 1.0,
                "warning": 2.0, "critical": 3.0}  # fmt: skip
        for bad in (
            {"warning": 0.5},  # not between good and critical
            {"warning": 3.0},  # not strictly between
            {"component": "slotter"},
            {"metric": "Anvil Wear"},
        ):
            with self.assertRaises(ValidationError):
                Threshold.create({**base, **bad})
        # A metric where higher is better runs the other way.
        Threshold.create({**base, "metric": "vacuum_level_pct", "good": 90, "warning": 80,
                          "critical": 60})  # fmt: skip

    def test_config_sends_the_rules_odoo_owns(self):
        """Band limits, OEE settings and ingestion limits go to the connector;
        an OEE setting changed in Odoo changes them and the version stamp."""
        before = self.api.get_connector_config()
        self.assertEqual(
            before["flexo_rules"],
            {
                "health_bands": [["excellent", 80.0], ["good", 60.0], ["warning", 40.0]],
                "oee": {
                    "availability_basis": "run_downtime",
                    "fault_below": 60.0,
                    "warning_below": 75.0,
                },
                "limits": {
                    "max_recommendations": 20,
                    "max_downtime_min": 10080.0,
                    "max_predicted_hours": 100000.0,
                },
            },
        )
        self.env["ir.config_parameter"].sudo().set_param("cmms_telemetry.oee_fault_below", "50")
        after = self.api.get_connector_config()
        self.assertEqual(after["flexo_rules"]["oee"]["fault_below"], 50.0)
        self.assertNotEqual(before["version"], after["version"])
