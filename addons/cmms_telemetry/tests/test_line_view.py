# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError

from .common import TelemetryCommon

NOW = "2026-03-02 12:00:00"
SHIFT = ("2026-03-02 06:00:00", "2026-03-02 14:00:00")


@freeze_time(NOW)
class TestLossFishbone(TelemetryCommon):
    """The fishbone's sums against a hand-worked period (06:00-14:00, now 12:00)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Reason = cls.env["cmms.downtime.reason"]
        cls.printing_trouble = Reason._for_code("PRINTING UNIT TROUBLE MEKANIK")
        cls.feeder_trouble = Reason._for_code("FEEDER UNIT TROUBLE MEKANIK")
        cls.material = Reason._for_code("TUNGGU MATERIAL")
        cls.other_machine = cls.env["maintenance.equipment"].create(
            {"name": "Other FLEXO", "cmms_tag": "FLX-T9", "cmms_kind": "machine"}
        )
        Event = cls.env["cmms.downtime.event"]

        def stop(reason, start, minutes, component="", machine=None, end=None):
            vals = {
                "equipment_id": (machine or cls.machine).id,
                "source": "connector",
                "reason_id": reason.id,
                "start": start,
            }
            if component:
                vals["component_code"] = component
            if minutes:
                vals["duration_min"] = minutes
            return Event.create(vals)

        # PRINTING: 30 min inside, and 20 min of which 10 fall inside -> 40, 2 stops.
        stop(cls.printing_trouble, "2026-03-02 08:00:00", 30, "PRINTING")
        stop(cls.printing_trouble, "2026-03-02 13:50:00", 20, "PRINTING")
        # FEEDER: 15 min from 05:50, 5 of them inside.
        stop(cls.feeder_trouble, "2026-03-02 05:50:00", 15, "FEEDER")
        # The whole machine (a reason without component): 12 min, plus one
        # still going since 11:30 (30 min until now).
        stop(cls.material, "2026-03-02 10:00:00", 12)
        stop(cls.material, "2026-03-02 11:30:00", 0)
        # Left out: another machine, after the period, and an interval
        # without a reason (the machine's status).
        stop(cls.printing_trouble, "2026-03-02 08:00:00", 50, "PRINTING", cls.other_machine)
        stop(cls.printing_trouble, "2026-03-02 14:00:00", 10, "PRINTING")
        Event.create(
            {
                "equipment_id": cls.machine.id,
                "source": "status",
                "start": "2026-03-02 09:00:00",
                "end": "2026-03-02 10:00:00",
            }
        )
        Record = cls.env["cmms.oee.record"]
        common = {"equipment_id": cls.machine.id, "run_min": 400, "downtime_min": 40}
        # Rejects: 500 / 250 = 2 min; 800 / 200 = 4 min, half of it inside -> 2.
        Record.create(
            {
                **common,
                "period_start": SHIFT[0],
                "period_end": SHIFT[1],
                "produced": 10000,
                "good": 9500,
                "rejected": 500,
                "design_speed": 250,
                "actual_speed": 200,
            }
        )
        Record.create(
            {
                **common,
                "period_start": "2026-03-02 02:00:00",
                "period_end": "2026-03-02 10:00:00",
                "produced": 9000,
                "good": 8200,
                "rejected": 800,
                "design_speed": 200,
                "actual_speed": 180,
            }
        )

    def fishbone(self, user=None):
        LineView = self.env["cmms.line.view"].with_user(user or self.supervisor)
        return LineView._loss_fishbone(self.machine, *SHIFT)

    def test_sums_by_component_and_reason(self):
        fishbone = self.fishbone()
        summary = [
            (bone["kind"], bone["component_code"], bone["minutes"], [
                (rib["code"], rib["minutes"], rib["count"]) for rib in bone["ribs"]
            ])
            for bone in fishbone["bones"]
        ]  # fmt: skip
        self.assertEqual(
            summary,
            [
                ("downtime", "", 42.0, [("TUNGGU MATERIAL", 42.0, 2)]),
                ("downtime", "PRINTING", 40.0, [("PRINTING UNIT TROUBLE MEKANIK", 40.0, 2)]),
                ("downtime", "FEEDER", 5.0, [("FEEDER UNIT TROUBLE MEKANIK", 5.0, 1)]),
                ("reject", "", 4.0, [("REJECT", 4.0, 2)]),
            ],
        )
        self.assertEqual(fishbone["total_min"], 91.0)
        self.assertEqual(
            [bone["label"] for bone in fishbone["bones"]],
            ["Whole machine", "PRINTING", "FEEDER", "Rejects"],
        )

    def test_one_query(self):
        LineView = self.env["cmms.line.view"]
        self.env.flush_all()
        with self.assertQueryCount(1):
            LineView._fishbone_rows(self.machine, *SHIFT)

    def test_empty_and_reversed_periods(self):
        LineView = self.env["cmms.line.view"]
        empty = LineView._loss_fishbone(self.machine, "2026-02-01 00:00:00", "2026-02-02 00:00:00")
        self.assertEqual((empty["bones"], empty["total_min"]), ([], 0.0))
        reversed_ = LineView._loss_fishbone(self.machine, SHIFT[1], SHIFT[0])
        self.assertEqual(reversed_["bones"], [])

    def test_rib_opens_its_stops(self):
        LineView = self.env["cmms.line.view"].with_user(self.supervisor)
        action = LineView.get_rib_action(
            self.machine.id, *SHIFT, "downtime", "PRINTING", self.printing_trouble.id
        )
        stops = self.env["cmms.downtime.event"].search(action["domain"])
        self.assertEqual(len(stops), 2)
        self.assertEqual(set(stops.mapped("duration_min")), {30.0, 20.0})
        action = LineView.get_rib_action(self.machine.id, *SHIFT, "downtime", "", self.material.id)
        self.assertEqual(len(self.env["cmms.downtime.event"].search(action["domain"])), 2)
        action = LineView.get_rib_action(self.machine.id, *SHIFT, "reject", "", False)
        self.assertEqual(action["res_model"], "cmms.oee.record")
        self.assertEqual(len(self.env["cmms.oee.record"].search(action["domain"])), 2)

    def test_line_view_answers_supervisors_and_managers(self):
        for user in (self.supervisor, self.manager):
            view = self.env["cmms.line.view"].with_user(user).get_line_view(self.machine.id)
            self.assertEqual(view["machine"]["id"], self.machine.id)
            self.assertEqual([c["code"] for c in view["components"]], ["FEEDER", "PRINTING"])
            # The newest OEE record is the current shift.
            self.assertEqual(view["shift"]["period_start"], SHIFT[0])
            # 400 / 440 x 200 / 250 x 9500 / 10000 = 69.1 %: WARNING.
            self.assertEqual(view["shift"]["oee"], 69.1)
            self.assertEqual(view["shift"]["status"], "warning")
            self.assertEqual(view["limits"], {"fault_below": 60.0, "warning_below": 75.0})
            self.assertEqual(
                [(loss["code"], loss["minutes"]) for loss in view["top_losses"]],
                [
                    ("TUNGGU MATERIAL", 42.0),
                    ("PRINTING UNIT TROUBLE MEKANIK", 40.0),
                    ("FEEDER UNIT TROUBLE MEKANIK", 5.0),
                    ("REJECT", 4.0),
                ],
            )
            self.assertEqual(len(view["trend"]["shift"]), 2)
            # One day: the formula over the day's summed inputs.
            self.assertEqual(len(view["trend"]["day"]), 1)
            fishbone = (
                self.env["cmms.line.view"].with_user(user).get_fishbone(self.machine.id, "shift")
            )
            self.assertEqual(fishbone["total_min"], 91.0)

    def test_line_view_refused_to_other_roles(self):
        for user in (self.operator, self.technician):
            LineView = self.env["cmms.line.view"].with_user(user)
            with self.assertRaises(AccessError):
                LineView.get_line_view(self.machine.id)
            with self.assertRaises(AccessError):
                LineView.get_fishbone(self.machine.id, "day")
            with self.assertRaises(AccessError):
                LineView.get_rib_action(self.machine.id, *SHIFT, "reject", "", False)

    def test_bad_input(self):
        LineView = self.env["cmms.line.view"].with_user(self.supervisor)
        with self.assertRaises(UserError):
            LineView.get_fishbone(self.machine.id, "year")
        with self.assertRaises(UserError):
            LineView.get_line_view(self.other_machine.id)
        with self.assertRaises(UserError):
            LineView.get_line_view("FLX-T1")

    def test_day_trend_uses_the_one_formula(self):
        view = self.env["cmms.line.view"].with_user(self.supervisor).get_line_view(self.machine.id)
        day = view["trend"]["day"][0]
        # Sums: run 800, down 80 -> A = 800 / 880; speeds run-weighted
        # (200 + 180) / (250 + 200); quality 17700 / 19000.
        expected = 800 / 880 * (380 / 450) * (17700 / 19000) * 100
        self.assertAlmostEqual(day["oee"], round(expected, 1))


class TestLineViewLive(TelemetryCommon):
    def test_stops_and_shifts_notify_the_open_views(self):
        """The line view listens on the dashboard's channel: the ingested stops,
        OEE records and health snapshots of its machine wake it up."""
        stop = {"machine": "FLX-T1", "reason": "FEEDER UNIT TROUBLE MEKANIK", "duration_min": 12}
        shift = {
            "machine": "FLX-T1",
            "shift": "A",
            "period_start": "2026-11-22T00:00:00Z",
            "period_end": "2026-11-22T08:00:00Z",
            "run_min": 420,
            "downtime_min": 12,
            "produced": 1000,
            "good": 950,
            "design_speed": 250,
            "actual_speed": 210,
        }
        items = [
            self.item("line-stop-1", "downtime_event", stop),
            self.item("line-oee-1", "oee_record", shift),
        ]
        with patch.object(type(self.env["bus.bus"]), "_sendone", autospec=True) as sendone:
            reply = self.api.ingest(items)
        self.assertEqual(self.statuses(reply), ["accepted", "accepted"])
        payloads = [
            call.args[3]
            for call in sendone.call_args_list
            if call.args[2] == "cmms_telemetry/update"
        ]
        self.assertEqual(len(payloads), 1)
        self.assertEqual(payloads[0]["kinds"], ["downtime_event", "oee_record"])
        self.assertEqual(payloads[0]["equipment_ids"], [self.machine.id])
