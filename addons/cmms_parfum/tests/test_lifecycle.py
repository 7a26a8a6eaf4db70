# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form

from .common import CmmsCommon, image_b64


class TestLifecycle(CmmsCommon):
    def test_full_cycle_with_stages_and_tracking(self):
        def tracked(record):
            # Tests run with tracking off (BaseCommon); this one checks it.
            return record.with_context(tracking_disable=False, mail_notrack=False)

        def flush_tracking():
            self.env.cr.precommit.run()

        request = self.request_as_operator()
        self.assertEqual(request.cmms_state, "requested")
        self.assertEqual(request.stage_id, self.env.ref("maintenance.stage_0"))
        self.assertEqual(request.source, "person")
        # The form is saved before its button runs, in its own transaction.
        request.with_user(self.supervisor).write(
            {"user_id": self.technician.id, "schedule_date": fields.Datetime.now()}
        )
        flush_tracking()
        as_sup = tracked(request.with_user(self.supervisor))
        as_sup.action_approve()
        flush_tracking()
        self.assertEqual(request.cmms_state, "approved")
        self.assertEqual(request.stage_id, self.env.ref("cmms_parfum.maintenance_stage_approved"))
        self.assertTrue(
            request.activity_ids.filtered(lambda a: a.user_id == self.technician),
            "assigning schedules an activity for the technician",
        )
        self.assertIn(self.technician.partner_id, request.message_partner_ids)
        as_tech = tracked(request.with_user(self.technician))
        as_tech.action_start()
        flush_tracking()
        self.assertEqual(request.stage_id, self.env.ref("maintenance.stage_1"))
        as_tech.write({"completion_note": "Done", "actual_duration": 2.0, "no_parts_used": True})
        as_tech.action_complete()
        flush_tracking()
        self.assertEqual(request.cmms_state, "done")
        self.assertEqual(
            request.stage_id, self.env.ref("cmms_parfum.maintenance_stage_verification")
        )
        as_sup.action_close()
        flush_tracking()
        self.assertEqual(request.cmms_state, "closed")
        self.assertTrue(request.stage_id.done)
        self.assertEqual(request.verified_by_id, self.supervisor)
        # The chatter tracks each change of status: who, when, from and to.
        values = request.sudo().message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "cmms_state"
        )
        changes = sorted(
            (v.mail_message_id.id, v.old_value_char, v.new_value_char, v.create_uid) for v in values
        )
        self.assertEqual(
            [(old, new) for _id, old, new, _uid in changes],
            [
                ("Requested", "Approved"),
                ("Approved", "In progress"),
                ("In progress", "Done, awaiting verification"),
                ("Done, awaiting verification", "Closed"),
            ],
        )
        self.assertEqual(
            [uid for *_rest, uid in changes],
            [self.supervisor, self.technician, self.technician, self.supervisor],
        )

    def test_who_may_make_each_transition(self):
        request = self.request_as_operator().sudo()
        request.write({"user_id": self.technician.id, "schedule_date": fields.Datetime.now()})
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                request.with_user(user).action_approve()
        request.with_user(self.manager).action_approve()
        for user in (self.operator, self.technician2, self.supervisor, self.manager):
            with self.assertRaises(AccessError, msg=user.login):
                request.with_user(user).action_start()
        request.with_user(self.technician).action_start()
        request.with_user(self.technician).write(
            {"completion_note": "x", "actual_duration": 1, "no_parts_used": True}
        )
        for user in (self.operator, self.technician2, self.supervisor):
            with self.assertRaises(AccessError, msg=user.login):
                request.with_user(user).action_complete()
        request.with_user(self.technician).action_complete()
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                request.with_user(user).action_close()
            with self.assertRaises(AccessError):
                request.with_user(user).action_reject(reason="no")
            with self.assertRaises(AccessError):
                request.with_user(user).action_cancel(reason="no")
        request.with_user(self.manager).action_close()

    def test_transitions_refused_from_wrong_states(self):
        request = self.request_as_operator()
        with self.assertRaises(UserError):
            request.with_user(self.supervisor).action_close()
        with self.assertRaises(UserError):
            request.with_user(self.supervisor).action_reject(reason="why")
        done = self.completed()
        with self.assertRaises(UserError):
            done.with_user(self.technician).action_start()
        done.with_user(self.supervisor).action_close()
        with self.assertRaises(UserError):
            done.with_user(self.supervisor).action_cancel(reason="too late")

    def test_approve_needs_technician_and_date(self):
        request = self.request_as_operator().with_user(self.supervisor)
        with self.assertRaises(UserError):
            request.action_approve()
        request.user_id = self.supervisor
        request.schedule_date = fields.Datetime.now()
        with self.assertRaises(UserError, msg="a supervisor is not a technician"):
            request.action_approve()
        request.user_id = self.technician
        request.schedule_date = False
        with self.assertRaises(UserError):
            request.action_approve()
        self.assertEqual(request.cmms_state, "requested")

    def test_reject_back_to_in_progress_with_reason(self):
        request = self.completed()
        as_sup = request.with_user(self.supervisor)
        with self.assertRaises(UserError):
            as_sup.action_reject(reason="   ")
        action = as_sup.action_reject()
        self.assertEqual(action["res_model"], "cmms.request.reason.wizard")
        wizard = (
            self.env["cmms.request.reason.wizard"]
            .with_user(self.supervisor)
            .create({"request_ids": request.ids, "action": "reject", "reason": "Still leaking"})
        )
        wizard.action_confirm()
        self.assertEqual(request.cmms_state, "in_progress")
        self.assertEqual(request.reject_reason, "Still leaking")
        self.assertFalse(request.completed_at)
        self.assertIn("Still leaking", request.message_ids[0].body)

    def test_cancel_with_reason_before_closing(self):
        request = self.approved()
        with self.assertRaises(UserError):
            request.with_user(self.supervisor).action_cancel(reason="")
        request.with_user(self.supervisor).action_cancel(reason="Duplicate of WO-12")
        self.assertEqual(request.cmms_state, "cancelled")
        self.assertEqual(request.cancel_reason, "Duplicate of WO-12")
        self.assertEqual(request.stage_id, self.env.ref("cmms_parfum.maintenance_stage_cancelled"))

    def test_completion_requirements(self):
        request = self.in_progress(self.critical_machine).with_user(self.technician)
        with self.assertRaises(UserError) as caught:
            request.action_complete()
        message = str(caught.exception)
        for words in ("completion notes", "actual duration", "parts used", "photo"):
            self.assertIn(words, message)
        request.write({"completion_note": "Fixed", "actual_duration": 0.5, "no_parts_used": True})
        with self.assertRaises(UserError, msg="critical equipment needs a completion photo"):
            request.action_complete()
        self.env["cmms.request.photo"].with_user(self.technician).create(
            {"request_id": request.id, "stage": "request", "image": image_b64()}
        )
        with self.assertRaises(UserError, msg="a photo from the request stage does not count"):
            request.action_complete()
        self.env["cmms.request.photo"].with_user(self.technician).create(
            {"request_id": request.id, "stage": "completion", "image": image_b64("JPEG")}
        )
        request.action_complete()
        self.assertEqual(request.cmms_state, "done")
        self.assertEqual(request.duration, 0.0, "the estimate stays beside the actual duration")
        with self.assertRaises(ValidationError):
            request.sudo().actual_duration = -1

    def test_kanban_drag_runs_the_same_checks(self):
        request = self.request_as_operator()
        approved_stage = self.env.ref("cmms_parfum.maintenance_stage_approved")
        with self.assertRaises(AccessError):
            request.with_user(self.operator).write({"stage_id": approved_stage.id})
        request.with_user(self.supervisor).write(
            {"user_id": self.technician.id, "schedule_date": fields.Datetime.now()}
        )
        request.with_user(self.supervisor).write({"stage_id": approved_stage.id})
        self.assertEqual(request.cmms_state, "approved")
        with self.assertRaises(UserError, msg="cannot jump from approved to closed"):
            request.with_user(self.supervisor).write(
                {"stage_id": self.env.ref("maintenance.stage_3").id}
            )
        request.with_user(self.technician).write(
            {"stage_id": self.env.ref("maintenance.stage_1").id}
        )
        self.assertEqual(request.cmms_state, "in_progress")
        with self.assertRaises(UserError, msg="cancelling by drag needs the reason button"):
            request.with_user(self.supervisor).write(
                {"stage_id": self.env.ref("cmms_parfum.maintenance_stage_cancelled").id}
            )

    def test_field_rights_outside_transitions(self):
        request = self.request_as_operator()
        request.with_user(self.operator).write({"description": "Drips every minute"})
        with self.assertRaises(AccessError):
            request.with_user(self.operator).write({"user_id": self.technician.id})
        with self.assertRaises(AccessError):
            request.with_user(self.operator).write({"cmms_state": "closed"})
        started = self.in_progress()
        with self.assertRaises(AccessError, msg="a technician cannot reassign"):
            started.with_user(self.technician).write({"user_id": self.technician2.id})
        started.with_user(self.technician).write({"completion_note": "Halfway"})

    def test_sla_deadline_breach_and_notification_once(self):
        self.env.company.cmms_sla_hours_urgent = 2.0
        self.env.company.cmms_sla_hours_low = 72.0
        with freeze_time("2026-11-22 08:00:00"):
            urgent = self.request_as_operator(cmms_priority="urgent")
            low = self.request_as_operator(cmms_priority="low")
        self.assertEqual(str(urgent.sla_deadline), "2026-11-22 10:00:00")
        self.assertEqual(str(low.sla_deadline), "2026-11-25 08:00:00")
        with freeze_time("2026-11-22 11:00:00"):
            self.assertTrue(urgent.sla_breached)
            self.assertFalse(low.sla_breached)
            breached = self.Request.with_user(self.supervisor).search(
                [("sla_breached", "=", True), ("id", "in", (urgent | low).ids)]
            )
            self.assertEqual(breached, urgent)
            self.assertEqual(
                self.Request.search(
                    [("sla_breached", "=", False), ("id", "in", (urgent | low).ids)]
                ),
                low,
            )
            cron = self.env.ref("cmms_parfum.ir_cron_sla_breach")
            before = len(urgent.message_ids)
            cron.method_direct_trigger()
            self.assertTrue(urgent.sla_breach_notified)
            self.assertEqual(len(urgent.message_ids), before + 1)
            self.assertFalse(low.sla_breach_notified)
            cron.method_direct_trigger()
            self.assertEqual(len(urgent.message_ids), before + 1, "notified once")

    def test_priority_mirrors_odoo_stars_and_form_works(self):
        with Form(self.Request.with_user(self.operator)) as form:
            form.name = "Label sensor dirty"
            form.equipment_id = self.machine
            form.cmms_priority = "urgent"
        request = form.save()
        self.assertEqual(request.priority, "3")
        self.assertEqual(request.owner_user_id, self.operator)

    def test_costs_and_kpis_for_planners_only(self):
        self.env.company.cmms_labor_rate = 10.0
        # An area of its own: the demo data completes work orders today too.
        self.machine.process_area = "Lifecycle KPI area"
        request = self.completed()
        request.part_line_ids.sudo().unit_cost = 4.0
        request.with_user(self.supervisor).action_close()
        self.assertEqual(request.with_user(self.supervisor).total_cost, 19.0)
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                request.with_user(user).read(["total_cost"])
            with self.assertRaises(AccessError):
                self.env["cmms.kpi"].with_user(user).compute_kpis("2026-01-01", "2030-12-31")
        today = fields.Date.today()
        kpis = (
            self.env["cmms.kpi"]
            .with_user(self.manager)
            .compute_kpis(
                today - timedelta(days=1),
                today + timedelta(days=1),
                process_area="Lifecycle KPI area",
            )
        )
        self.assertEqual(kpis["kpis"]["work_orders_completed"], 1)
        self.assertEqual(kpis["kpis"]["mttr_hours"], 1.5)
        self.assertEqual(kpis["kpis"]["cost_per_work_order"], 19.0)

    def test_origin_of_preventive_occurrences_is_the_plan(self):
        request = self.Request.with_user(self.supervisor).create(
            {
                "name": "Monthly filler lubrication",
                "equipment_id": self.machine.id,
                "maintenance_type": "preventive",
                "recurring_maintenance": True,
                "repeat_interval": 1,
                "repeat_unit": "month",
                "repeat_type": "forever",
                "schedule_date": fields.Datetime.now(),
            }
        )
        self.assertEqual(request.source, "person")
        request.with_user(self.supervisor).write({"user_id": self.technician.id})
        request.with_user(self.supervisor).action_approve()
        request.with_user(self.technician).action_start()
        request.with_user(self.technician).write(
            {"completion_note": "Greased", "actual_duration": 0.5, "no_parts_used": True}
        )
        request.with_user(self.technician).action_complete()
        request.with_user(self.supervisor).action_close()
        following = self.Request.search(
            [("name", "=", "Monthly filler lubrication"), ("id", "!=", request.id)]
        )
        self.assertEqual(len(following), 1, "closing a recurring request plans the next one")
        self.assertEqual(following.source, "plan")
        self.assertEqual(following.cmms_state, "requested")

    def test_assignment_notifies_the_technician(self):
        request = self.approved()
        message = request.message_ids.filtered(lambda m: "Assigned to" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn(self.technician.partner_id, message.partner_ids)
