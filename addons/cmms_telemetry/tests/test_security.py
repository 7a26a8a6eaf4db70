# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import new_test_user

from .common import TelemetryCommon

NEW_MODELS = (
    "cmms.health.threshold",
    "cmms.reading",
    "cmms.health.snapshot",
    "cmms.oee.record",
    "cmms.downtime.reason",
    "cmms.downtime.event",
    "cmms.prediction",
    "cmms.model.version",
    "cmms.fmea",
)
# Who may create / write besides reading (everyone reads).
WRITERS = {
    "cmms.health.threshold": ("manager",),
    "cmms.reading": (),
    "cmms.health.snapshot": (),
    "cmms.oee.record": ("supervisor", "manager"),
    "cmms.downtime.reason": ("manager",),
    "cmms.downtime.event": ("supervisor", "manager"),
    "cmms.prediction": (),
    "cmms.model.version": (),
    "cmms.fmea": ("supervisor", "manager"),
}


class TestSecurity(TelemetryCommon):
    def test_access_rights_per_role(self):
        roles = {
            "operator": self.operator,
            "technician": self.technician,
            "supervisor": self.supervisor,
            "manager": self.manager,
        }
        for model in NEW_MODELS:
            for role, user in roles.items():
                records = self.env[model].with_user(user)
                self.assertTrue(records.has_access("read"), f"{role} reads {model}")
                self.assertEqual(
                    records.has_access("create"),
                    role in WRITERS[model],
                    f"{role} creating {model}",
                )
            # The connector's user reaches them only through the ingestion API.
            for operation in ("read", "write", "create", "unlink"):
                self.assertFalse(self.env[model].with_user(self.connector).has_access(operation))
        # Managers activate model versions (write); only the administrator deletes history.
        self.assertTrue(self.env["cmms.model.version"].with_user(self.manager).has_access("write"))
        self.assertFalse(
            self.env["cmms.model.version"].with_user(self.supervisor).has_access("write")
        )
        self.assertFalse(
            self.env["cmms.oee.record"].with_user(self.supervisor).has_access("unlink")
        )
        self.assertFalse(self.env["cmms.oee.record"].with_user(self.manager).has_access("unlink"))

    def test_records_of_another_company_stay_hidden(self):
        other = self.env["res.company"].create({"name": "Other plant"})
        equipment = self.env["maintenance.equipment"].create(
            {"name": "Other machine", "cmms_tag": "OTH-1", "company_id": other.id}
        )
        sensor = self.env["cmms.sensor"].create(
            {"tag": "OTH-PT", "equipment_id": equipment.id, "unit": "bar"}
        )
        records = {
            "cmms.reading": {"sensor_id": sensor.id, "period_start": "2026-11-22 08:00:00",
                             "min_value": 1, "max_value": 1, "mean_value": 1, "last_value": 1,
                             "last_at": "2026-11-22 08:00:00"},
            "cmms.health.snapshot": {"equipment_id": equipment.id,
                                     "measured_at": "2026-11-22 08:00:00", "score": 50},
            "cmms.oee.record": {"equipment_id": equipment.id,
                                "period_start": "2026-11-22 06:00:00",
                                "period_end": "2026-11-22 14:00:00"},
            "cmms.downtime.event": {"equipment_id": equipment.id, "start": "2026-11-22 08:00:00",
                                    "duration_min": 5},
            "cmms.prediction": {"equipment_id": equipment.id, "predicted_hours": 1,
                                "predicted_at": "2026-11-22 08:00:00", "model_version": "v1"},
            "cmms.model.version": {"sensor_id": sensor.id, "version": "1",
                                   "trained_at": "2026-11-22 08:00:00"},
            "cmms.fmea": {"equipment_id": equipment.id, "name": "Leak"},
        }  # fmt: skip
        both = new_test_user(
            self.env,
            "t_manager_both",
            groups="cmms_parfum.cmms_parfum_group_manager",
            company_ids=[(6, 0, (self.env.company | other).ids)],
        )
        for model, vals in records.items():
            record = self.env[model].create(vals)
            self.assertEqual(record.company_id, other, model)
            for user in (self.operator, self.supervisor, self.manager):
                self.assertFalse(
                    self.env[model].with_user(user).search([("id", "=", record.id)]),
                    f"{user.login} sees {model} of another company",
                )
            self.assertEqual(
                self.env[model]
                .with_user(both)
                .with_context(allowed_company_ids=(self.env.company | other).ids)
                .search([("id", "=", record.id)]),
                record,
            )
