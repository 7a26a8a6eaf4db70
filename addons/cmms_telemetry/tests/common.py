# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import new_test_user

from odoo.addons.cmms_parfum.tests.common import CmmsUsersCommon


class TelemetryCommon(CmmsUsersCommon):
    """The CMMS role users, the telemetry connector's user, instruments with
    their sensors and a FLEXO machine with two components."""

    @classmethod
    def default_env_context(cls):
        # Notifications are queued, never sent, while testing.
        return {**super().default_env_context(), "mail_notify_force_send": False}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = new_test_user(
            cls.env, "t_connector", groups="cmms_telemetry.cmms_telemetry_group_connector"
        )
        # The technician to whom the work orders of ``technician`` do not belong.
        cls.other_technician = cls.technician2
        cls.equipment = cls.env["maintenance.equipment"].create(
            {
                "name": "Test pressure transmitter",
                "cmms_tag": "PT-T01",
                "cmms_kind": "instrument",
                "criticality": "critical",
                "technician_user_id": cls.technician.id,
            }
        )
        cls.low_equipment = cls.env["maintenance.equipment"].create(
            {
                "name": "Test level gauge",
                "cmms_tag": "LT-T02",
                "cmms_kind": "instrument",
                "criticality": "low",
                "technician_user_id": cls.technician.id,
            }
        )
        cls.sensor = cls.env["cmms.sensor"].create(
            {
                "tag": "PT-T01",
                "equipment_id": cls.equipment.id,
                "unit": "bar",
                "nominal": 6.0,
                "signal_low": 0.0,
                "signal_high": 16.0,
                "use_high_warning": True,
                "high_warning": 9.0,
                "use_high_critical": True,
                "high_critical": 10.0,
                "deadband": 0.2,
                "on_delay_s": 3.0,
            }
        )
        cls.low_sensor = cls.env["cmms.sensor"].create(
            {
                "tag": "LT-T02",
                "equipment_id": cls.low_equipment.id,
                "unit": "%",
                "signal_low": 0.0,
                "signal_high": 100.0,
            }
        )
        Equipment = cls.env["maintenance.equipment"]
        cls.machine = Equipment.create(
            {
                "name": "Test FLEXO",
                "cmms_tag": "FLX-T1",
                "cmms_kind": "machine",
                "criticality": "high",
                "technician_user_id": cls.technician.id,
            }
        )
        cls.feeder = Equipment.create(
            {
                "name": "Test FLEXO feeder",
                "cmms_tag": "FLX-T1-FD",
                "cmms_kind": "component",
                "cmms_component_code": "FEEDER",
                "criticality": "critical",
                "parent_id": cls.machine.id,
                "technician_user_id": cls.technician.id,
            }
        )
        cls.printing = Equipment.create(
            {
                "name": "Test FLEXO printing",
                "cmms_tag": "FLX-T1-PR",
                "cmms_kind": "component",
                "cmms_component_code": "PRINTING",
                "criticality": "medium",
                "parent_id": cls.machine.id,
                "technician_user_id": cls.technician.id,
            }
        )
        cls.api = cls.env["cmms.telemetry.api"].with_user(cls.connector)

    @staticmethod
    def alert_item(key, kind="alert_raised", tag="PT-T01", alert_type="instrument_fault",
                   severity="critical", value=20.5, ts="2026-11-22T08:00:00Z"):  # fmt: skip
        return {
            "key": key,
            "type": kind,
            "ts": ts,
            "data": {
                "tag": tag,
                "alert_type": alert_type,
                "severity": severity,
                "value": value,
                "message": f"{tag} out of its signal range",
            },
        }

    @staticmethod
    def item(key, kind, data, ts="2026-11-22T08:00:00Z"):
        return {"key": key, "type": kind, "ts": ts, "data": data}

    def statuses(self, reply):
        return [r["status"] for r in reply["results"]]

    def reasons(self, reply):
        return [r.get("reason", "") for r in reply["results"]]
