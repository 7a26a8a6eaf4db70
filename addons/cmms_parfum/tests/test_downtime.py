# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user

from .common import CmmsCommon


class DowntimeCommon(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = cls.env["cmms.downtime.event"]
        cls.feeder = cls.env["maintenance.equipment"].create(
            {
                "name": "Filler feeder",
                "cmms_tag": "FL-T1-FD",
                "cmms_kind": "component",
                "parent_id": cls.machine.id,
            }
        )
        # A component of a component: still the filler's downtime.
        cls.feeder_motor = cls.env["maintenance.equipment"].create(
            {
                "name": "Feeder motor",
                "cmms_tag": "FL-T1-FD-M",
                "cmms_kind": "component",
                "parent_id": cls.feeder.id,
            }
        )

    def events(self, machine=None, **domain):
        return self.Event.search(
            [("equipment_id", "=", (machine or self.machine).id)]
            + [(name, "=", value) for name, value in domain.items()],
            order="start, id",
        )

    def at(self, text):
        return fields.Datetime.to_datetime(text)


class TestMachineStatus(DowntimeCommon):
    def test_operator_reports_down_and_maintenance_releases(self):
        # Tests run with tracking off (BaseCommon) and the machine was made so.
        self.env.cr.precommit.run()
        tracked = {"tracking_disable": False, "mail_notrack": False}
        with freeze_time("2026-11-22 08:00:00"):
            self.machine.with_user(self.operator).with_context(**tracked).action_machine_down()
        self.assertEqual(self.machine.machine_status, "down")
        interval = self.events(source="status")
        self.assertEqual(len(interval), 1)
        self.assertEqual(interval.start, self.at("2026-11-22 08:00:00"))
        self.assertFalse(interval.end)
        self.assertTrue(interval.ongoing)
        self.env.cr.precommit.run()
        self.machine.invalidate_recordset(["message_ids"])
        tracked = self.machine.message_ids.filtered(
            lambda m: m.author_id == self.operator.partner_id and m.tracking_value_ids
        )
        self.assertTrue(tracked, "the status change is tracked in the chatter, by its author")

        with freeze_time("2026-11-22 08:20:00"):
            self.machine.with_user(self.technician).action_machine_maintenance()
        self.assertEqual(self.machine.machine_status, "maintenance")
        self.assertEqual(self.events(), interval, "down -> maintenance keeps the same interval")

        with freeze_time("2026-11-22 09:05:00"):
            self.machine.with_user(self.technician).action_machine_running()
        self.assertEqual(self.machine.machine_status, "running")
        self.assertEqual(interval.end, self.at("2026-11-22 09:05:00"))
        self.assertEqual(interval.duration_min, 65.0)

    def test_operator_may_not_release_nor_start_maintenance(self):
        self.machine.with_user(self.operator).action_machine_down()
        before = self.events()
        for action in ("action_machine_running", "action_machine_maintenance"):
            with self.assertRaises(AccessError):
                getattr(self.machine.with_user(self.operator), action)()
        self.assertEqual(self.machine.machine_status, "down")
        self.assertEqual(self.events(), before)
        self.assertFalse(before.end)

    def test_supervisor_and_manager_set_every_status(self):
        for user in (self.supervisor, self.manager):
            machine = self.machine.with_user(user)
            machine.action_machine_maintenance()
            machine.action_machine_down()
            machine.action_machine_running()
            self.assertEqual(self.machine.machine_status, "running")
        self.assertEqual(len(self.events(source="status")), 2)
        self.assertFalse(self.events(ongoing=True))

    def test_refused_without_role_or_by_writing_the_field(self):
        employee = new_test_user(self.env, "c_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.machine.with_user(employee).action_machine_down()
        with self.assertRaises(UserError):
            self.machine.with_user(self.supervisor).write({"machine_status": "down"})
        self.assertEqual(self.machine.machine_status, "running")
        self.assertFalse(self.events())

    def test_status_belongs_to_the_top_machine(self):
        with self.assertRaises(UserError):
            self.feeder.with_user(self.technician).action_machine_down()
        self.assertEqual(self.feeder.machine_status, "running")
        self.assertFalse(self.Event.search([("equipment_id", "in", self.feeder.ids)]))

    def test_same_status_twice_opens_nothing(self):
        self.machine.with_user(self.operator).action_machine_down()
        self.machine.with_user(self.operator).action_machine_down()
        self.assertEqual(len(self.events()), 1)


class TestWorkOrderDowntime(DowntimeCommon):
    def start(self, equipment, when="2026-11-22 08:00:00"):
        with freeze_time(when):
            return self.in_progress(equipment)

    def complete(self, request, when):
        as_tech = request.with_user(self.technician)
        as_tech.write({"completion_note": "Fixed.", "actual_duration": 1.0, "no_parts_used": True})
        with freeze_time(when):
            as_tech.action_complete()

    def test_component_work_order_is_machine_downtime(self):
        request = self.start(self.feeder_motor)
        interval = self.events()
        self.assertEqual(len(interval), 1)
        self.assertEqual(interval.source, "work_order")
        self.assertEqual(interval.request_id, request)
        self.assertEqual(interval.start, request.started_at)
        self.assertFalse(interval.end)
        self.assertEqual(self.machine.machine_status, "maintenance")
        self.assertEqual(self.feeder_motor.machine_status, "running")

        self.complete(request, "2026-11-22 09:30:00")
        self.assertEqual(interval.end, request.completed_at)
        self.assertEqual(interval.duration_min, 90.0)
        self.assertEqual(self.machine.machine_status, "running")
        # The interval is the machine's only: nothing on the component itself.
        self.assertFalse(self.Event.search([("equipment_id", "in", self.feeder.ids)]))

    def test_machine_runs_again_when_the_last_work_is_done(self):
        first = self.start(self.feeder)
        second = self.start(self.machine, "2026-11-22 08:10:00")
        self.complete(first, "2026-11-22 09:00:00")
        self.assertEqual(self.machine.machine_status, "maintenance")
        self.complete(second, "2026-11-22 09:30:00")
        self.assertEqual(self.machine.machine_status, "running")
        self.assertEqual(len(self.events(source="work_order", ongoing=False)), 2)

    def test_set_down_during_the_work_stays_down(self):
        request = self.start(self.feeder)
        with freeze_time("2026-11-22 08:30:00"):
            self.machine.with_user(self.operator).action_machine_down()
        self.complete(request, "2026-11-22 09:00:00")
        self.assertEqual(self.machine.machine_status, "down")
        status = self.events(source="status")
        self.assertEqual(status.start, self.at("2026-11-22 08:30:00"))
        self.assertFalse(status.end)

    def test_reported_down_then_repaired(self):
        with freeze_time("2026-11-22 07:40:00"):
            self.machine.with_user(self.operator).action_machine_down()
        request = self.start(self.feeder)
        self.assertEqual(self.machine.machine_status, "maintenance")
        self.complete(request, "2026-11-22 09:00:00")
        self.assertEqual(self.machine.machine_status, "running")
        status = self.events(source="status")
        self.assertEqual(status.end, self.at("2026-11-22 09:00:00"))
        minutes = self.Event._net_downtime_minutes(
            "2026-11-22 00:00:00", "2026-11-23 00:00:00", self.machine.ids
        )
        self.assertEqual(minutes, {self.machine.id: 80.0})

    def test_cancel_and_reject_close_and_reopen(self):
        request = self.start(self.feeder)
        self.complete(request, "2026-11-22 09:00:00")
        with freeze_time("2026-11-22 10:00:00"):
            request.with_user(self.supervisor).action_reject(reason="Still leaking.")
        self.assertEqual(self.machine.machine_status, "maintenance")
        resumed = self.events(ongoing=True)
        self.assertEqual(resumed.start, self.at("2026-11-22 10:00:00"))
        with freeze_time("2026-11-22 10:30:00"):
            request.with_user(self.supervisor).action_cancel(reason="Replaced the filler.")
        self.assertEqual(resumed.end, self.at("2026-11-22 10:30:00"))
        self.assertEqual(self.machine.machine_status, "running")
        self.assertEqual(self.events(source="work_order").mapped("duration_min"), [60.0, 30.0])

    def test_preventive_work_is_no_downtime(self):
        request = self.request_as_operator(self.feeder, maintenance_type="preventive")
        request.with_user(self.supervisor).write(
            {"user_id": self.technician.id, "schedule_date": fields.Datetime.now()}
        )
        request.with_user(self.supervisor).action_approve()
        request.with_user(self.technician).action_start()
        self.assertFalse(self.events())
        self.assertEqual(self.machine.machine_status, "running")


class TestNetDowntime(DowntimeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.critical_machine
        Event = cls.Event

        def add(machine, source, start, end=None, **vals):
            return Event.create(
                {"equipment_id": machine.id, "source": source, "start": start, "end": end, **vals}
            )

        # The filler on 22 November, hand-worked:
        # manual 08:00-09:00, status 08:30-10:00, work order 09:30-09:45 (inside)
        # -> one island 08:00-10:00 = 120 min; a connector stop 11:00 + 15 min;
        # a status interval 23:30 -> 00:40 the next day = 70 min (30 + 40).
        add(cls.machine, "manual", "2026-11-22 08:00:00", "2026-11-22 09:00:00")
        add(cls.machine, "status", "2026-11-22 08:30:00", "2026-11-22 10:00:00")
        add(cls.machine, "work_order", "2026-11-22 09:30:00", "2026-11-22 09:45:00")
        add(cls.machine, "connector", "2026-11-22 11:00:00", duration_min=15)
        add(cls.machine, "status", "2026-11-22 23:30:00", "2026-11-23 00:40:00")
        # The crimper: down since 10:00, still down.
        add(cls.other, "status", "2026-11-22 10:00:00")

    def net(self, date_from, date_to, **kwargs):
        with freeze_time("2026-11-22 12:00:00"):
            return self.Event._net_downtime_minutes(date_from, date_to, **kwargs)

    def test_overlaps_are_merged_and_ongoing_runs_to_now(self):
        result = self.net(
            "2026-11-22 00:00:00",
            "2026-11-23 00:00:00",
            equipment_ids=(self.machine | self.other).ids,
        )
        # 120 + 15 + 30 (until midnight); the crimper 10:00 -> now (12:00).
        self.assertEqual(result, {self.machine.id: 165.0, self.other.id: 120.0})
        raw = sum(self.events().mapped("duration_min"))
        self.assertEqual(raw, 60 + 90 + 15 + 15 + 70, "the intervals alone overlap")

    def test_clipped_to_the_period(self):
        result = self.net("2026-11-22 08:15:00", "2026-11-22 11:05:00", equipment_ids=None)
        self.assertEqual(result[self.machine.id], 105.0 + 5.0)
        self.assertEqual(result[self.other.id], 65.0)
        ids = (self.machine | self.other).ids
        self.assertEqual(
            self.net("2026-11-21 00:00:00", "2026-11-22 00:00:00", equipment_ids=ids), {}
        )
        self.assertEqual(
            self.net("2026-11-23 00:00:00", "2026-11-22 00:00:00", equipment_ids=ids), {}
        )

    def test_grouped_by_day_in_the_plant_time_zone(self):
        span = ("2026-11-01 00:00:00", "2026-12-01 00:00:00")
        by_day = self.net(*span, equipment_ids=self.machine.ids, groupby="day", tz="UTC")
        self.assertEqual(
            by_day,
            {
                (self.machine.id, date(2026, 11, 22)): 165.0,
                (self.machine.id, date(2026, 11, 23)): 40.0,
            },
        )
        # Jakarta is UTC+7: every interval but the night one falls on the 22nd.
        jakarta = self.net(*span, equipment_ids=self.machine.ids, groupby="day", tz="Asia/Jakarta")
        self.assertEqual(jakarta, {(self.machine.id, date(2026, 11, 22)): 135.0,
                                   (self.machine.id, date(2026, 11, 23)): 70.0})  # fmt: skip
        by_month = self.net(*span, equipment_ids=self.machine.ids, groupby="month", tz="UTC")
        self.assertEqual(by_month, {(self.machine.id, date(2026, 11, 1)): 205.0})
        with self.assertRaises(UserError):
            self.net(*span, groupby="year")

    def test_one_query_whatever_the_machines(self):
        self.env.flush_all()
        self.assertTrue(self.env.companies)  # read before counting
        before = self.env.cr.sql_log_count
        by_week = self.net("2026-11-01 00:00:00", "2026-12-01 00:00:00", groupby="week", tz="UTC")
        self.assertEqual(self.env.cr.sql_log_count - before, 1)
        # 22 November 2026 is a Sunday: the night interval ends in the next week.
        self.assertEqual(by_week[(self.machine.id, date(2026, 11, 16))], 165.0)
        self.assertEqual(by_week[(self.machine.id, date(2026, 11, 23))], 40.0)

    def test_downtime_this_month_on_the_machine(self):
        with freeze_time("2026-11-22 12:00:00"):
            machine = self.machine.with_user(self.operator)
            self.assertEqual(machine.downtime_month_hours, 135.0 / 60.0)
            self.assertEqual(self.other.with_user(self.operator).downtime_month_hours, 2.0)
        action = self.machine.with_user(self.supervisor).action_view_downtime()
        self.assertEqual(action["domain"], [("equipment_id", "=", self.machine.id)])
        self.assertEqual(self.feeder.action_view_downtime()["domain"], action["domain"])

    def test_the_kpis_count_merged_downtime(self):
        with freeze_time("2026-12-02 00:00:00"):
            result = (
                self.env["cmms.kpi"]
                .with_user(self.manager)
                .compute_kpis("2026-11-01", "2026-11-30", groupby="machine")
            )
        groups = {group["name"]: group for group in result["groups"]}
        # 205 minutes net, not the 250 minutes of the intervals.
        self.assertEqual(groups[self.machine.display_name]["downtime_hours"], 3.42)


class TestDowntimeEntries(DowntimeCommon):
    def test_supervisor_enters_a_stop_by_duration_or_end(self):
        Event = self.Event.with_user(self.supervisor)
        by_duration = Event.create(
            {"equipment_id": self.machine.id, "start": "2026-11-22 08:00:00", "duration_min": 25}
        )
        self.assertEqual(by_duration.end, self.at("2026-11-22 08:25:00"))
        self.assertEqual(by_duration.source, "manual")
        with Form(Event) as form:
            form.equipment_id = self.machine
            form.start = datetime(2026, 11, 22, 9, 0)
            form.end = datetime(2026, 11, 22, 9, 40)
        self.assertEqual(form.record.duration_min, 40.0)

    def test_bad_intervals_are_refused_and_nothing_is_written(self):
        Event = self.Event.with_user(self.supervisor)
        bad = [
            {"start": "2026-11-22 09:00:00", "end": "2026-11-22 08:00:00"},
            {"start": "2026-11-22 09:00:00", "duration_min": -10},
            {"start": "2026-11-22 09:00:00", "duration_min": 0, "end": "2026-11-22 09:00:00"},
        ]
        for vals in bad:
            with self.assertRaises(ValidationError), self.cr.savepoint():
                Event.create({"equipment_id": self.machine.id, **vals})
        self.assertFalse(self.events())
        event = Event.create(
            {"equipment_id": self.machine.id, "start": "2026-11-22 08:00:00", "duration_min": 5}
        )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            event.write({"end": "2026-11-22 07:00:00"})
        event.invalidate_recordset()
        self.assertEqual(event.end, self.at("2026-11-22 08:05:00"))

    def test_operators_and_technicians_only_read(self):
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                self.Event.with_user(user).create(
                    {"equipment_id": self.machine.id, "start": "2026-11-22 08:00:00",
                     "duration_min": 5}
                )  # fmt: skip
        self.assertFalse(self.events())
        self.assertFalse(self.Event.with_user(self.supervisor).has_access("unlink"))
        # Nothing is deleted by the CMMS roles (the audit trail's rule).
        self.assertFalse(self.Event.with_user(self.manager).has_access("unlink"))

    def test_views_open_for_supervisors_and_the_machine_form_for_operators(self):
        action = self.env.ref("cmms_parfum.cmms_downtime_event_action")
        Event = self.Event.with_user(self.supervisor)
        modes = [(False, mode) for mode in action.view_mode.split(",")] + [(False, "search")]
        views = Event.get_views(modes)
        self.assertEqual(set(views["views"]), {"list", "pivot", "graph", "form", "search"})
        Event.web_search_read([], {"name": {}, "duration_min": {}, "source": {}}, limit=5)
        Event.read_group([], ["duration_min:sum"], ["equipment_id", "source"])
        form = (
            self.env["maintenance.equipment"].with_user(self.operator).get_views([(False, "form")])
        )
        arch = form["views"]["form"]["arch"]
        # The operator opens a machine as the web client does.
        spec = {
            name: {"fields": {"display_name": {}}} if field["type"] == "many2one" else {}
            for name, field in form["models"]["maintenance.equipment"]["fields"].items()
            if field["type"] not in ("one2many", "many2many")
        }
        values = self.machine.with_user(self.operator).web_read(spec)[0]
        self.assertEqual(values["machine_status"], "running")
        self.assertIn("action_machine_down", arch)
        self.assertNotIn("action_machine_running", arch, "operators do not see that button")
        menu = self.env.ref("cmms_parfum.cmms_downtime_event_menu")
        self.assertFalse(menu.with_user(self.operator)._filter_visible_menus())
        self.assertTrue(menu.with_user(self.supervisor)._filter_visible_menus())
