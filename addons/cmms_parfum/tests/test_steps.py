# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError

from .common import CmmsCommon


class TestSteps(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category = cls.env["maintenance.equipment.category"].create({"name": "Fillers"})
        cls.machine.category_id = cls.category
        Template = cls.env["cmms.step.template"]
        cls.t_lock = Template.create(
            {"name": "Lock out the filler", "category_id": cls.category.id, "sequence": 1}
        )
        cls.t_pressure = Template.create(
            {
                "name": "Read the nozzle pressure",
                "category_id": cls.category.id,
                "sequence": 2,
                "expects_value": True,
                "expected_value": 2.5,
                "tolerance": 0.2,
                "unit": "bar",
            }
        )
        cls.t_preventive = Template.create(
            {
                "name": "Grease the carousel",
                "category_id": cls.category.id,
                "maintenance_type": "preventive",
                "sequence": 3,
            }
        )

    def test_steps_copied_at_creation_in_order_for_the_type(self):
        request = self.request_as_operator()
        self.assertEqual(
            request.step_ids.mapped("name"), ["Lock out the filler", "Read the nozzle pressure"]
        )
        self.assertEqual(request.step_ids[1].unit, "bar")
        self.assertEqual(request.step_count, 2)
        preventive = self.Request.with_user(self.supervisor).create(
            {"name": "PM filler", "equipment_id": self.machine.id, "maintenance_type": "preventive"}
        )
        self.assertEqual(len(preventive.step_ids), 3)
        # Changing a template later leaves existing work orders alone.
        self.t_lock.name = "Lock out and tag out"
        self.assertEqual(request.step_ids[0].name, "Lock out the filler")

    def test_technician_records_steps_and_out_of_tolerance_is_flagged(self):
        self.supervisor.cmms_process_area = False
        request = self.in_progress()
        lock, pressure = request.step_ids.with_user(self.technician)
        lock.action_record()
        self.assertEqual(lock.result, "ok")
        self.assertEqual(lock.done_by_id, self.technician)
        pressure.action_record(value=2.9, note="Gauge reads high")
        self.assertEqual(pressure.result, "out_of_tolerance")
        self.assertEqual(pressure.measured_value, 2.9)
        self.assertTrue(request.step_flagged)
        self.assertEqual(request.step_progress, 100.0)
        activity = request.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_warning")
        )
        self.assertTrue(activity)
        self.assertIn("Out of tolerance", activity.summary)
        self.assertIn(self.supervisor.partner_id, request.message_ids[0].partner_ids)

    def test_within_tolerance_is_ok(self):
        request = self.in_progress()
        pressure = request.step_ids[1].with_user(self.technician)
        pressure.action_record(value=2.6)
        self.assertEqual(pressure.result, "ok")
        self.assertFalse(request.step_flagged)

    def test_refused_records_write_nothing(self):
        request = self.approved()
        lock, pressure = request.step_ids
        with self.assertRaises(UserError):
            lock.with_user(self.technician).action_record()
        request.with_user(self.technician).action_start()
        with self.assertRaises(AccessError):
            lock.with_user(self.technician2).action_record()
        with self.assertRaises(ValidationError):
            pressure.with_user(self.technician).action_record(value="high")
        with self.assertRaises(ValidationError):
            lock.with_user(self.technician).action_record(value=3.0)
        with self.assertRaises(AccessError):
            lock.with_user(self.technician).write({"result": "ok"})
        self.assertEqual(set(request.step_ids.mapped("result")), {"todo"})

    def test_completion_needs_every_step(self):
        request = self.in_progress()
        as_tech = request.with_user(self.technician)
        as_tech.write({"completion_note": "Done", "actual_duration": 1.0, "no_parts_used": True})
        with self.assertRaisesRegex(UserError, "record its steps first"):
            as_tech.action_complete()
        for step in request.step_ids.with_user(self.technician):
            step.action_record(value=2.5 if step.expects_value else None)
        as_tech.action_complete()
        self.assertEqual(request.cmms_state, "done")

    def test_technician_reschedules_own_open_work_order_only(self):
        self.machine.category_id = False
        request = self.approved()
        when = fields.Datetime.now() + timedelta(days=2)
        request.with_user(self.technician).write({"schedule_date": when})
        self.assertEqual(request.schedule_date, when.replace(microsecond=0))
        with self.assertRaises(AccessError):
            request.with_user(self.technician).write({"schedule_date": when, "name": "Renamed"})
        other = self.approved(technician=self.technician2)
        with self.assertRaises(AccessError):
            other.with_user(self.technician).write({"schedule_date": when})
        done = self.completed()
        with self.assertRaises(AccessError):
            done.with_user(self.technician).write({"schedule_date": when})
