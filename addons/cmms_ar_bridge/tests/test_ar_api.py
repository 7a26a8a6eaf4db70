# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import io
from datetime import datetime, timedelta

from PIL import Image

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import ArCommon, approved


def png_b64():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 200, 0)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@tagged("post_install", "-at_install")
class TestArApi(ArCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = fields.Datetime.now()
        cls.low = approved(cls, "Grease bearings", cls.technician, "low", now)
        cls.urgent_late = approved(
            cls, "Seal leaking", cls.technician, "urgent", now + timedelta(hours=5)
        )
        cls.urgent_soon = approved(
            cls, "Coupling noise", cls.technician, "urgent", now + timedelta(hours=1)
        )
        cls.foreign = approved(cls, "Not yours", cls.technician2)
        cls.requested = cls.Request.with_user(cls.supervisor).create(
            {"name": "Not approved yet", "equipment_id": cls.pump.id}
        )
        cls.requested.with_user(cls.supervisor).user_id = cls.technician
        cls.api = cls.env["cmms.ar.api"].with_user(cls.technician)

    def assertNothingWritten(self, task, state="approved"):
        self.env.invalidate_all()
        self.assertEqual(task.cmms_state, state)
        self.assertEqual(set(task.step_ids.mapped("result")), {"todo"})
        self.assertFalse(task.completion_note)

    # my_tasks -----------------------------------------------------------
    def test_my_tasks_actionable_most_urgent_then_schedule(self):
        tasks = self.api.my_tasks()
        self.assertEqual(
            [t["id"] for t in tasks], [self.urgent_soon.id, self.urgent_late.id, self.low.id]
        )
        self.assertEqual(tasks[0]["tag"], "P-AR1")
        self.assertEqual(tasks[0]["steps_total"], 2)
        self.assertNotIn(self.foreign.id, [t["id"] for t in tasks])
        self.assertNotIn(None, tasks[0].values())

    # task_detail --------------------------------------------------------
    def test_task_detail_own_and_refused(self):
        detail = self.api.task_detail(self.low.id)
        self.assertEqual(detail["location"], "Hall 2")
        self.assertEqual([s["name"] for s in detail["steps"]],
                         ["Lock out the pump", "Read the pressure"])  # fmt: skip
        self.assertEqual(detail["steps"][1]["unit"], "bar")
        self.assertEqual(detail["equipment_detail"]["qr"], "cmms:equipment:P-AR1")
        self.assertEqual(detail["parts"], [])
        self.assertEqual(detail["sensors"], [])
        with self.assertRaisesRegex(AccessError, "not yours"):
            self.api.task_detail(self.foreign.id)
        with self.assertRaisesRegex(UserError, "no task"):
            self.api.task_detail(999999)
        for wrong in ("12", None, True, -1, 1.5):
            with self.assertRaisesRegex(ValidationError, "positive integer"):
                self.api.task_detail(wrong)

    # start_task ---------------------------------------------------------
    def test_start_own_task(self):
        reply = self.api.start_task(self.low.id)
        self.assertEqual(reply["state"], "in_progress")
        self.assertTrue(self.low.started_at)

    def test_start_refused(self):
        with self.assertRaises(AccessError):
            self.api.start_task(self.foreign.id)
        self.assertNothingWritten(self.foreign)
        with self.assertRaises(UserError):
            self.api.start_task(self.requested.id)
        self.assertEqual(self.requested.cmms_state, "requested")
        with self.assertRaises(UserError):
            self.api.start_task(999999)
        with self.assertRaises(ValidationError):
            self.api.start_task("abc")

    def test_completed_task_cannot_start_again(self):
        self.api.start_task(self.low.id)
        for step in self.low.step_ids:
            self.api.complete_step(self.low.id, step.id, value=2.5 if step.expects_value else None)
        self.api.complete_task(self.low.id, "Greased.", 0.5, parts=[])
        self.assertEqual(self.low.cmms_state, "done")
        with self.assertRaisesRegex(UserError, "cannot be start"):
            self.api.start_task(self.low.id)
        self.assertEqual(self.low.cmms_state, "done")

    # complete_step -------------------------------------------------------
    def test_complete_step_and_out_of_tolerance_flag(self):
        self.api.start_task(self.low.id)
        lock, pressure = self.low.step_ids
        reply = self.api.complete_step(self.low.id, lock.id, ok=True, note="Locked, tag 12")
        self.assertEqual(reply["step"]["result"], "ok")
        self.assertEqual(reply["steps_done"], 1)
        reply = self.api.complete_step(self.low.id, pressure.id, value=3.1)
        self.assertTrue(reply["flagged"])
        self.assertEqual(reply["step"]["result"], "out_of_tolerance")
        self.assertTrue(
            self.low.activity_ids.filtered(lambda a: "Out of tolerance" in (a.summary or ""))
        )

    def test_complete_step_refused_writes_nothing(self):
        lock, pressure = self.low.step_ids
        with self.assertRaisesRegex(UserError, "start it"):
            self.api.complete_step(self.low.id, lock.id)
        self.api.start_task(self.low.id)
        with self.assertRaises(AccessError):
            self.api.complete_step(self.foreign.id, self.foreign.step_ids[0].id)
        with self.assertRaisesRegex(UserError, "has no step"):
            self.api.complete_step(self.low.id, self.foreign.step_ids[0].id)
        with self.assertRaisesRegex(UserError, "has no step"):
            self.api.complete_step(self.low.id, 999999)
        with self.assertRaises(ValidationError):
            self.api.complete_step(self.low.id, pressure.id, value="high")
        with self.assertRaises(ValidationError):
            self.api.complete_step(self.low.id, pressure.id)
        with self.assertRaises(ValidationError):
            self.api.complete_step(self.low.id, lock.id, ok="yes")
        with self.assertRaises(ValidationError):
            self.api.complete_step(self.low.id, lock.id, photo="not an image")
        with self.assertRaises(ValidationError):
            self.api.complete_step(self.low.id, "1")
        self.assertNothingWritten(self.low, state="in_progress")
        self.assertEqual(self.foreign.step_ids.mapped("result"), ["todo", "todo"])

    def test_complete_step_with_photo(self):
        self.api.start_task(self.low.id)
        lock = self.low.step_ids[0]
        self.api.complete_step(self.low.id, lock.id, photo=png_b64())
        self.assertTrue(lock.photo)

    # complete_task ------------------------------------------------------
    def test_complete_task_with_parts_and_photo(self):
        self.api.start_task(self.low.id)
        for step in self.low.step_ids:
            self.api.complete_step(self.low.id, step.id, value=2.4 if step.expects_value else None)
        reply = self.api.complete_task(
            self.low.id, "Greased both bearings.", 1.25, photos=[png_b64()],
            parts=[{"name": "Grease cartridge", "quantity": 1}],
        )  # fmt: skip
        self.assertEqual(reply["state"], "done")
        self.assertEqual(self.low.actual_duration, 1.25)
        self.assertEqual(self.low.part_line_ids.name, "Grease cartridge")
        self.assertEqual(self.low.photo_ids.stage, "completion")

    def test_complete_task_refused_writes_nothing(self):
        with self.assertRaisesRegex(UserError, "cannot be complete"):
            self.api.complete_task(self.low.id, "Notes", 1.0, parts=[])
        self.assertNothingWritten(self.low)
        self.api.start_task(self.low.id)
        # Steps not recorded: the lifecycle refuses, the notes are not kept.
        with self.assertRaisesRegex(UserError, "record its steps first"):
            self.api.complete_task(self.low.id, "Notes", 1.0, parts=[])
        self.assertNothingWritten(self.low, state="in_progress")
        self.assertFalse(self.low.no_parts_used)
        with self.assertRaises(AccessError):
            self.api.complete_task(self.foreign.id, "Notes", 1.0, parts=[])
        for args, kwargs in (
            (("", 1.0), {}),
            (("Notes", "1h"), {}),
            (("Notes", 0), {}),
            (("Notes", 1.0), {"parts": "none"}),
            (("Notes", 1.0), {"parts": [{"quantity": 1}]}),
            (("Notes", 1.0), {"parts": [{"product_id": "x"}]}),
            (("Notes", 1.0), {"photos": "abc"}),
        ):
            with self.assertRaises(ValidationError):
                self.api.complete_task(self.low.id, *args, **kwargs)
        with self.assertRaisesRegex(UserError, "no product"):
            self.api.complete_task(self.low.id, "Notes", 1.0, parts=[{"product_id": 999999}])
        self.assertNothingWritten(self.low, state="in_progress")

    # reschedule ---------------------------------------------------------
    def test_reschedule_own_task(self):
        reply = self.api.reschedule(self.low.id, "2030-01-02T09:30:00+07:00")
        self.assertEqual(self.low.schedule_date, datetime(2030, 1, 2, 2, 30))
        self.assertEqual(reply["scheduled"], "2030-01-02 02:30:00")
        self.api.reschedule(self.low.id, "2030-01-03 08:00:00")
        self.assertEqual(self.low.schedule_date, datetime(2030, 1, 3, 8, 0))

    def test_reschedule_refused(self):
        before = self.foreign.schedule_date
        with self.assertRaises(AccessError):
            self.api.reschedule(self.foreign.id, "2030-01-02 09:00:00")
        self.assertEqual(self.foreign.schedule_date, before)
        before = self.low.schedule_date
        for wrong in ("tomorrow", "", 20300102, None):
            with self.assertRaises(ValidationError):
                self.api.reschedule(self.low.id, wrong)
        with self.assertRaises(UserError):
            self.api.reschedule(999999, "2030-01-02 09:00:00")
        self.assertEqual(self.low.schedule_date, before)

    # lookup --------------------------------------------------------------
    def test_lookup_by_tag_qr_and_alias(self):
        found = self.api.lookup(" p-ar1 ")
        self.assertEqual(found["id"], self.pump.id)
        self.assertEqual(len(found["my_tasks"]), 3)
        self.assertEqual(self.api.lookup("cmms:equipment:P-AR1")["id"], self.pump.id)
        self.assertEqual(self.api.lookup(f"cmms:equipment:#{self.pump.id}")["id"], self.pump.id)
        self.assertEqual(self.api.lookup(self.pump.cmms_qr_payload)["id"], self.pump.id)
        self.assertEqual(self.api.lookup_equipment("P-AR1")["id"], self.pump.id)
        self.assertFalse(self.api.lookup("NOPE"))
        self.assertFalse(self.api.lookup("cmms:equipment:#999999"))
        for wrong in ("", "  ", None, 12):
            with self.assertRaises(UserError):
                self.api.lookup(wrong)

    def test_supervisor_sees_but_does_not_start(self):
        api = self.env["cmms.ar.api"].with_user(self.supervisor)
        self.assertEqual(api.task_detail(self.foreign.id)["id"], self.foreign.id)
        with self.assertRaises(AccessError):
            api.start_task(self.foreign.id)
        self.assertNothingWritten(self.foreign)
