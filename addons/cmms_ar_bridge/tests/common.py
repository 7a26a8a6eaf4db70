# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields
from odoo.tests import new_test_user


def setup_ar_data(cls):
    """Technicians, a supervisor, a pump with step templates and work orders
    in each state (created and moved the way the roles do)."""
    env = cls.env
    cls.technician = new_test_user(
        env, "ar_tech", groups="cmms_parfum.cmms_parfum_group_technician"
    )
    cls.other = new_test_user(env, "ar_tech2", groups="cmms_parfum.cmms_parfum_group_technician")
    cls.supervisor = new_test_user(env, "ar_sup", groups="cmms_parfum.cmms_parfum_group_supervisor")
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
    Template.create({"name": "Lock out the pump", "category_id": cls.category.id, "sequence": 1})
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
