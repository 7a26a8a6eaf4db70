# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields

from odoo.addons.cmms_parfum.tests.common import CmmsUsersCommon


class ArCommon(CmmsUsersCommon):
    """The CMMS role users, a pump with step templates and the requests
    model; work orders are created and moved the way the roles do
    (:func:`approved`)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.category = env["maintenance.equipment.category"].create({"name": "AR pumps"})
        cls.pump = env["maintenance.equipment"].create(
            {
                "name": "AR pump",
                "cmms_tag": "P-AR1",
                "criticality": "medium",
                "category_id": cls.category.id,
                "location": "Hall 2",
            }
        )
        Template = env["cmms.step.template"]
        Template.create(
            {"name": "Lock out the pump", "category_id": cls.category.id, "sequence": 1}
        )
        Template.create(
            {
                "name": "Read the pressure",
                "category_id": cls.category.id,
                "sequence": 2,
                "expects_value": True,
                "expected_value": 2.5,
                "tolerance": 0.2,
                "unit": "bar",
            }
        )
        cls.Request = env["maintenance.request"]


def approved(cls, name, technician, priority="medium", schedule=None):
    request = cls.Request.with_user(cls.supervisor).create(
        {"name": name, "equipment_id": cls.pump.id, "cmms_priority": priority}
    )
    request.with_user(cls.supervisor).write(
        {"user_id": technician.id, "schedule_date": schedule or fields.Datetime.now()}
    )
    request.with_user(cls.supervisor).action_approve()
    return request
