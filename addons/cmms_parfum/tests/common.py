# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import io

from PIL import Image

from odoo import fields
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon


def image_b64(fmt="PNG", size=(4, 4)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue())


class CmmsUsersCommon(BaseCommon):
    """One user per CMMS role (two operators and two technicians), each in
    that role's group only: the base of the tests of every CMMS addon
    (``cmms_telemetry`` and ``cmms_ar_bridge`` build on it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator = new_test_user(
            cls.env, "c_op", groups="cmms_parfum.cmms_parfum_group_operator"
        )
        cls.operator2 = new_test_user(
            cls.env, "c_op2", groups="cmms_parfum.cmms_parfum_group_operator"
        )
        cls.technician = new_test_user(
            cls.env, "c_tech", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        cls.technician2 = new_test_user(
            cls.env, "c_tech2", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        cls.supervisor = new_test_user(
            cls.env, "c_sup", groups="cmms_parfum.cmms_parfum_group_supervisor"
        )
        cls.manager = new_test_user(
            cls.env, "c_mgr", groups="cmms_parfum.cmms_parfum_group_manager"
        )


class CmmsCommon(CmmsUsersCommon):
    """The role users, two machines, and work orders moved through their states
    as the roles do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.machine = cls.env["maintenance.equipment"].create(
            {"name": "Rotary filler", "cmms_tag": "FL-T1", "criticality": "medium"}
        )
        cls.critical_machine = cls.env["maintenance.equipment"].create(
            {"name": "Crimper", "cmms_tag": "CP-T1", "criticality": "critical"}
        )
        cls.Request = cls.env["maintenance.request"]

    def request_as_operator(self, equipment=None, **vals):
        return self.Request.with_user(self.operator).create(
            {"name": "Filler leaks", "equipment_id": (equipment or self.machine).id, **vals}
        )

    def approved(self, equipment=None, technician=None):
        request = self.request_as_operator(equipment)
        as_sup = request.with_user(self.supervisor)
        as_sup.write(
            {
                "user_id": (technician or self.technician).id,
                "schedule_date": fields.Datetime.now(),
            }
        )
        as_sup.action_approve()
        return request

    def in_progress(self, equipment=None):
        request = self.approved(equipment)
        request.with_user(self.technician).action_start()
        return request

    def completed(self, equipment=None):
        request = self.in_progress(equipment)
        as_tech = request.with_user(self.technician)
        as_tech.write(
            {
                "completion_note": "Replaced the seal.",
                "actual_duration": 1.5,
                "part_line_ids": [fields.Command.create({"name": "Seal 40 mm", "quantity": 1})],
            }
        )
        as_tech.action_complete()
        return request
