# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tools.safe_eval import safe_eval

from .test_plans import PlanCommon


class TestSchedules(PlanCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.machine.process_area = "Test line 1"
        cls.critical_machine.process_area = "Test compounding"
        cls.operator.cmms_process_area = "test line 1"
        cls.operator2.cmms_process_area = "Test compounding"
        cls.notice_cron = cls.env.ref("cmms_parfum.ir_cron_planned_work_notice")

    def action_records(self, xmlid, user):
        action = self.env.ref(xmlid)
        domain = safe_eval(action.domain, {"uid": user.id})
        return self.Request.with_user(user).search(domain)

    def planned(self, equipment=None, when="2026-03-10 01:00:00", technician=None, approve=True):
        request = self.Request.with_user(self.supervisor).create(
            {
                "name": "Change the filler's seals",
                "equipment_id": (equipment or self.machine).id,
                "maintenance_type": "preventive",
                "user_id": (technician or self.technician).id,
                "schedule_date": when,
                "duration": 2.0,
            }
        )
        if approve:
            request.with_user(self.supervisor).action_approve()
        return request

    def test_technician_sees_own_upcoming_work(self):
        mine = self.planned() | self.planned(approve=False)
        other = self.planned(technician=self.technician2)
        done = self.planned()
        done.sudo()._set_state("closed")
        self.assertEqual(
            self.action_records(
                "cmms_parfum.maintenance_request_action_my_schedule", self.technician
            ),
            mine,
        )
        self.assertEqual(
            self.action_records(
                "cmms_parfum.maintenance_request_action_my_schedule", self.technician2
            ),
            other,
        )
        # A technician moves their own open work (issue 15), nobody else's.
        mine[0].with_user(self.technician).write({"schedule_date": "2026-03-11 01:00:00"})
        self.assertEqual(mine[0].schedule_date, datetime(2026, 3, 11, 1, 0))
        with self.assertRaises(AccessError):
            other.with_user(self.technician).write({"schedule_date": "2026-03-11 01:00:00"})
        with self.assertRaises(AccessError):
            done.with_user(self.technician).write({"schedule_date": "2026-03-11 01:00:00"})

    def test_supervisor_reschedules_in_the_calendar(self):
        request = self.planned()
        planning = self.action_records(
            "cmms_parfum.maintenance_request_action_planning", self.supervisor
        )
        self.assertIn(request, planning)
        # Dragging an event writes its new start (and length).
        request.with_user(self.supervisor).write(
            {"schedule_date": "2026-03-12 03:00:00", "duration": 3.0}
        )
        self.assertEqual(request.schedule_date, datetime(2026, 3, 12, 3, 0))
        self.assertEqual(request.cmms_state, "approved")
        activity = request.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("maintenance.mail_act_maintenance_request")
        )
        self.assertEqual(activity.date_deadline.isoformat(), "2026-03-12")

    def test_operator_sees_planned_work_of_own_area_read_only(self):
        in_area = self.planned()
        not_approved = self.planned(approve=False)
        elsewhere = self.planned(equipment=self.critical_machine)
        corrective = self.Request.with_user(self.operator2).create(
            {"name": "Filler leaks", "equipment_id": self.machine.id}
        )
        own = self.request_as_operator()
        action = "cmms_parfum.maintenance_request_action_planned_work"
        self.assertEqual(self.action_records(action, self.operator), in_area)
        self.assertEqual(self.action_records(action, self.operator2), elsewhere)
        self.assertEqual(self.Request.with_user(self.operator).search([]), in_area | own)
        for hidden in (not_approved, elsewhere, corrective):
            with self.assertRaises(AccessError):
                hidden.with_user(self.operator).read(["name"])
        self.assertEqual(in_area.with_user(self.operator).read(["name"])[0]["name"], in_area.name)
        with self.assertRaises(AccessError):
            in_area.with_user(self.operator).write({"name": "Not today"})
        with self.assertRaises(AccessError):
            in_area.with_user(self.operator).action_cancel(reason="Production needs it")
        # Without a plant area an operator sees no planned work.
        self.operator.cmms_process_area = False
        self.assertFalse(self.action_records(action, self.operator))
        self.assertFalse(self.Request.with_user(self.operator).search([("id", "=", in_area.id)]))

    def test_planners_set_the_plant_area_of_users(self):
        self.operator.with_user(self.supervisor).cmms_process_area = "Compounding"
        self.assertEqual(self.operator.cmms_process_area, "Compounding")
        with self.assertRaises(AccessError):
            self.operator2.with_user(self.operator2).cmms_process_area = "Test line 1"
        with self.assertRaises(AccessError):
            self.operator.with_user(self.technician).cmms_process_area = "Test line 1"

    def notices(self, request, partner):
        return request.message_ids.filtered(
            lambda m: partner in m.partner_ids and "Planned work" in (m.body or "")
        )

    def test_operators_told_the_day_before_once(self):
        request = self.planned(when="2026-03-10 01:00:00")
        unapproved = self.planned(when="2026-03-10 02:00:00", approve=False)
        with freeze_time("2026-03-08 09:00:00"):
            self.notice_cron.method_direct_trigger()
        self.assertFalse(self.notices(request, self.operator.partner_id))
        with freeze_time("2026-03-09 09:00:00"):
            self.notice_cron.method_direct_trigger()
            self.notice_cron.method_direct_trigger()
        self.assertEqual(len(self.notices(request, self.operator.partner_id)), 1)
        self.assertFalse(self.notices(request, self.operator2.partner_id))
        self.assertFalse(self.notices(unapproved, self.operator.partner_id))
        self.assertTrue(request.area_notified)
        # Moved to the next day: told again, once.
        request.with_user(self.supervisor).schedule_date = "2026-03-11 01:00:00"
        with freeze_time("2026-03-10 09:00:00"):
            self.notice_cron.method_direct_trigger()
            self.notice_cron.method_direct_trigger()
        self.assertEqual(len(self.notices(request, self.operator.partner_id)), 2)
