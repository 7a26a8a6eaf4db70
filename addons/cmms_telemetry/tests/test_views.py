# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from .common import TelemetryCommon

ACTIONS = (
    "cmms_telemetry.cmms_health_threshold_action",
    "cmms_telemetry.cmms_health_snapshot_action",
    "cmms_telemetry.cmms_reading_action",
    "cmms_telemetry.cmms_oee_record_action",
    "cmms_telemetry.cmms_downtime_reason_action",
    "cmms_telemetry.cmms_downtime_event_action",
    "cmms_telemetry.cmms_prediction_action",
    "cmms_telemetry.cmms_model_version_action",
    "cmms_telemetry.cmms_fmea_action",
    "cmms_telemetry.cmms_connector_action",
)


class TestViews(TelemetryCommon):
    def test_every_role_opens_the_new_views(self):
        self.api.ingest([
            self.item("v:1", "health_snapshot", {"tag": "FLX-T1-PR", "score": 50}),
            self.item("v:2", "oee_record", {"machine": "FLX-T1",
                      "period_start": "2026-11-22T06:00:00Z", "period_end": "2026-11-22T14:00:00Z",
                      "run_min": 400, "downtime_min": 20, "produced": 10, "good": 9,
                      "design_speed": 2, "actual_speed": 1}),
            self.item("v:3", "downtime_event", {"machine": "FLX-T1", "reason": "GANTI ROLL",
                      "duration_min": 5}),
            self.item("v:4", "heartbeat", {"connector_id": "edge-v"}),
        ])  # fmt: skip
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            for xmlid in ACTIONS:
                action = self.env.ref(xmlid)
                Model = self.env[action.res_model].with_user(user)
                modes = action.view_mode.split(",")
                if action.res_model == "cmms.connector" and user in (
                    self.operator,
                    self.technician,
                ):
                    modes = ["list"]
                views = Model.get_views([(False, mode) for mode in modes] + [(False, "search")])
                arch_fields = views["models"][action.res_model]["fields"]
                spec = {
                    name: {"fields": {"display_name": {}}} if field["type"] == "many2one" else {}
                    for name, field in arch_fields.items()
                    if field["type"] not in ("one2many", "many2many")
                }
                Model.web_search_read([], spec, limit=10)
        equipment_views = (
            self.env["maintenance.equipment"].with_user(self.operator).get_views([(False, "form")])
        )
        self.assertIn("health_index", equipment_views["views"]["form"]["arch"])
        self.printing.with_user(self.operator).read(
            ["health_score", "health_band", "health_index", "health_index_band", "rpn_max"]
        )
        settings = self.env["res.config.settings"].get_views([(False, "form")])
        self.assertIn("cmms_alert_suppression_minutes", settings["views"]["form"]["arch"])
