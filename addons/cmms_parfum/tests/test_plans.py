# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from contextlib import contextmanager
from datetime import date, datetime

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError

from .common import CmmsCommon


class PlanCommon(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.technician.tz = "Asia/Jakarta"
        cls.machine.technician_user_id = cls.technician
        Kind = cls.env["maintenance.kind"]
        cls.lubrication = Kind.create({"name": "CMMS test lubrication"})
        cls.overhaul = Kind.create({"name": "CMMS test overhaul"})
        cls.Plan = cls.env["maintenance.plan"]
        cls.cron = cls.env.ref("maintenance_plan.maintenance_requests_cron")

    def plan(self, user=None, **vals):
        return self.Plan.with_user(user or self.supervisor).create(
            {
                "equipment_id": self.machine.id,
                "maintenance_kind_id": self.lubrication.id,
                "start_maintenance_date": "2026-03-02",
                "interval": 1,
                "interval_step": "week",
                "maintenance_plan_horizon": 1,
                "planning_step": "month",
                **vals,
            }
        )

    @contextmanager
    def assertRefused(self, exception, text):
        """``assertRaises`` (rolled back to a savepoint) with the message's gist."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertIn(text, str(caught.exception))

    def requests_of(self, plans):
        return self.Request.search([("maintenance_plan_id", "in", plans.ids)], order="request_date")


class TestPlans(PlanCommon):
    @freeze_time("2026-03-02 07:00:00")
    def test_several_plans_per_machine_generated_ahead_once_each(self):
        weekly = self.plan(name="Weekly lubrication", instruction_text="<p>Grease the cams.</p>")
        quarterly = self.plan(
            name="Quarterly overhaul",
            maintenance_kind_id=self.overhaul.id,
            interval=3,
            interval_step="month",
            maintenance_plan_horizon=6,
            duration=8.0,
        )
        self.cron.method_direct_trigger()
        self.cron.method_direct_trigger()
        # Weekly within one month: 2, 9, 16, 23 and 30 March; quarterly
        # within six months: March, June, September.
        self.assertEqual(
            self.requests_of(weekly).mapped("request_date"),
            [date(2026, 3, d) for d in (2, 9, 16, 23, 30)],
        )
        self.assertEqual(
            self.requests_of(quarterly).mapped("request_date"),
            [date(2026, 3, 2), date(2026, 6, 2), date(2026, 9, 2)],
        )
        for request in self.requests_of(weekly | quarterly):
            self.assertEqual(request.source, "plan")
            self.assertEqual(request.cmms_state, "requested")
            self.assertEqual(request.maintenance_type, "preventive")
            self.assertEqual(request.user_id, self.technician)
            self.assertFalse(request.recurring_maintenance)
            # 08:00 in Jakarta (UTC+7) on the due date.
            self.assertEqual(
                request.schedule_date,
                datetime.combine(request.request_date, datetime.min.time()).replace(hour=1),
            )
        first = self.requests_of(weekly)[0]
        self.assertIn("Grease the cams", first.instruction_text)
        self.assertEqual(self.requests_of(quarterly)[0].duration, 8.0)
        # A plan's work planned months ahead has not breached its SLA.
        self.assertFalse(self.requests_of(quarterly)[-1].sla_breached)
        # A week later the horizon moved by a week: one more weekly request.
        with freeze_time("2026-03-09 07:00:00"):
            self.cron.method_direct_trigger()
            self.cron.method_direct_trigger()
        self.assertEqual(len(self.requests_of(weekly)), 6)
        self.assertEqual(self.requests_of(weekly)[-1].request_date, date(2026, 4, 6))
        self.assertEqual(len(self.requests_of(quarterly)), 3)

    @freeze_time("2026-03-02 07:00:00")
    def test_supervisor_approves_what_plans_make(self):
        weekly = self.plan()
        self.cron.method_direct_trigger()
        request = self.requests_of(weekly)[0]
        # Assigned and scheduled already: approving is one click.
        request.with_user(self.supervisor).action_approve()
        self.assertEqual(request.cmms_state, "approved")
        with self.assertRaises(AccessError):
            self.requests_of(weekly)[1].with_user(self.technician).action_approve()
        # The technician does it; closing it copies nothing (no core recurrence).
        request.with_user(self.technician).action_start()
        request.with_user(self.technician).write(
            {"completion_note": "Greased.", "actual_duration": 0.5, "no_parts_used": True}
        )
        request.with_user(self.technician).action_complete()
        count = self.Request.search_count([("equipment_id", "=", self.machine.id)])
        request.with_user(self.supervisor).action_close()
        self.assertEqual(self.Request.search_count([("equipment_id", "=", self.machine.id)]), count)

    def test_plan_technician_wins_over_equipment_technician(self):
        with freeze_time("2026-03-02 07:00:00"):
            weekly = self.plan(technician_user_id=self.technician2.id)
            weekly.with_user(self.supervisor).button_manual_request_generation()
        self.assertEqual(self.requests_of(weekly).user_id, self.technician2)

    def test_plan_without_interval_refused_nothing_written(self):
        count = self.Plan.with_context(active_test=False).search_count([])
        with self.assertRefused(ValidationError, "needs an interval"):
            self.plan(interval=0)
        with self.assertRefused(ValidationError, "needs an interval"):
            self.plan(interval=-2)
        meter = self.env["cmms.meter"].create(
            {"name": "Run hours", "code": "run_hours", "equipment_id": self.machine.id}
        )
        with self.assertRefused(ValidationError, "interval above 0"):
            self.plan(trigger_type="meter", meter_id=meter.id, meter_threshold=500)
        with self.assertRefused(ValidationError, "needs a meter"):
            self.plan(trigger_type="meter", meter_interval=250)
        self.assertEqual(self.Plan.with_context(active_test=False).search_count([]), count)
        weekly = self.plan()
        with self.assertRefused(ValidationError, "needs an interval"):
            weekly.with_user(self.supervisor).interval = 0
        self.assertEqual(weekly.interval, 1)

    def test_only_planners_plan(self):
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                self.plan(user=user)
        self.assertTrue(self.plan(user=self.manager))

    @freeze_time("2026-03-02 07:00:00")
    def test_a_plan_with_requests_is_archived_not_deleted(self):
        weekly = self.plan()
        self.cron.method_direct_trigger()
        with self.assertRaises(UserError):
            weekly.with_user(self.supervisor).unlink()
        weekly.with_user(self.supervisor).active = False
        count = len(self.requests_of(weekly))
        with freeze_time("2026-03-16 07:00:00"):
            self.cron.method_direct_trigger()
        self.assertEqual(len(self.requests_of(weekly)), count)

    def test_core_recurrence_and_plans_never_plan_the_same_machine(self):
        self.plan()
        with self.assertRefused(ValidationError, "planned by its preventive plans"):
            self.Request.with_user(self.supervisor).create(
                {
                    "name": "Repeat lubrication",
                    "equipment_id": self.machine.id,
                    "maintenance_type": "preventive",
                    "recurring_maintenance": True,
                }
            )
        recurring = self.Request.with_user(self.supervisor).create(
            {
                "name": "Repeat crimper check",
                "equipment_id": self.critical_machine.id,
                "maintenance_type": "preventive",
                "recurring_maintenance": True,
                "schedule_date": fields.Datetime.now(),
            }
        )
        with self.assertRefused(ValidationError, "recurrence"):
            self.plan(equipment_id=self.critical_machine.id)
        # Once that recurrence is off, the machine can be planned.
        recurring.with_user(self.supervisor).recurring_maintenance = False
        self.assertTrue(self.plan(equipment_id=self.critical_machine.id))
