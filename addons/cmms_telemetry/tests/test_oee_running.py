# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo.tools import mute_logger

from .common import TelemetryCommon

START = "2026-11-22T06:00:00Z"


class TestRunningShift(TelemetryCommon):
    """The running shift's provisional OEE records: one record per machine and
    start, upserted; the end never moves earlier; the close ends the running."""

    def oee(self, key, end, running=True, **data):
        values = {"machine": "FLX-T1", "shift": "A", "period_start": START, "period_end": end,
                  "run_min": 100, "downtime_min": 20, "produced": 300, "good": 290,
                  "rejected": 10, "design_speed": 250, "actual_speed": 200}  # fmt: skip
        if running is not None:
            values["running"] = running
        values.update(data)
        return self.item(key, "oee_record", values)

    def records(self):
        return self.env["cmms.oee.record"].search([("equipment_id", "=", self.machine.id)])

    def test_provisional_records_replace_each_other_then_the_close(self):
        reply = self.api.ingest([self.oee("r:1", "2026-11-22T08:00:00Z")])
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertIs(reply["results"][0]["computed"]["running"], True)
        record = self.records()
        self.assertTrue(record.is_running)
        self.assertEqual(record.source, "connector")
        self.assertEqual(record.planned_min, 120.0)
        reply = self.api.ingest(
            [self.oee("r:2", "2026-11-22T10:00:00Z", run_min=220, produced=700, good=680)]
        )
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(self.records(), record, "the same record, replaced")
        self.assertEqual(str(record.period_end), "2026-11-22 10:00:00")
        self.assertEqual((record.run_min, record.produced, record.good), (220, 700, 680))
        self.assertEqual(record.planned_min, 240.0, "follows the period")
        self.assertTrue(record.is_running)
        # The close: the same machine and start, under its own key.
        reply = self.api.ingest(
            [
                self.oee(
                    "close",
                    "2026-11-22T14:00:00Z",
                    running=None,
                    run_min=420,
                    produced=1500,
                    good=1460,
                    rejected=40,
                )
            ]  # fmt: skip
        )
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertIs(reply["results"][0]["computed"]["running"], False)
        self.assertEqual(self.records(), record)
        self.assertFalse(record.is_running)
        self.assertEqual((str(record.period_end), record.produced), ("2026-11-22 14:00:00", 1500))
        # A replay changes nothing.
        reply = self.api.ingest([self.oee("r:2", "2026-11-22T10:00:00Z")])
        self.assertEqual(self.statuses(reply), ["duplicate"])

    def test_the_end_never_moves_earlier(self):
        self.api.ingest([self.oee("e:2", "2026-11-22T10:00:00Z", produced=700, good=690)])
        record = self.records()
        # A provisional report that arrives late: consumed, nothing changes.
        reply = self.api.ingest([self.oee("e:1", "2026-11-22T08:00:00Z")])
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(reply["results"][0]["computed"]["running"], True)
        self.assertEqual((str(record.period_end), record.produced), ("2026-11-22 10:00:00", 700))
        # A closing report ending earlier still closes the record, figures kept.
        self.api.ingest([self.oee("e:close", "2026-11-22T09:00:00Z", running=False)])
        self.assertFalse(record.is_running)
        self.assertEqual((str(record.period_end), record.produced), ("2026-11-22 10:00:00", 700))
        # A closed shift is never reopened, even by a later provisional report.
        reply = self.api.ingest([self.oee("e:3", "2026-11-22T12:00:00Z", produced=900)])
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertFalse(record.is_running)
        self.assertEqual(record.produced, 700)
        self.assertEqual(len(self.records()), 1)

    def test_bad_running_flag_is_rejected_and_nothing_written(self):
        reply = self.api.ingest([self.oee("b:1", "2026-11-22T08:00:00Z", running="yes")])
        self.assertEqual(self.statuses(reply), ["rejected"])
        self.assertIn("data.running must be true or false", self.reasons(reply)[0])
        self.assertFalse(self.records())

    def test_running_updates_are_not_tracked(self):
        self.api.ingest([self.oee("t:1", "2026-11-22T08:00:00Z")])
        record = self.records()
        messages = len(record.message_ids)
        self.api.ingest([self.oee("t:2", "2026-11-22T08:15:00Z", produced=400, good=390)])
        self.api.ingest([self.oee("t:3", "2026-11-22T08:30:00Z", running=False, produced=500)])
        self.assertEqual(record.produced, 500)
        self.assertEqual(len(record.message_ids), messages)

    def test_one_record_per_machine_and_start(self):
        self.api.ingest([self.oee("u:1", "2026-11-22T08:00:00Z")])
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["cmms.oee.record"].create(
                {
                    "equipment_id": self.machine.id,
                    "period_start": "2026-11-22 06:00:00",
                    "period_end": "2026-11-22 07:00:00",
                    "run_min": 10,
                    "design_speed": 1,
                }  # fmt: skip
            )

    def test_each_report_notifies_the_open_views(self):
        for n, end in enumerate(("2026-11-22T08:00:00Z", "2026-11-22T08:15:00Z")):
            with patch.object(type(self.env["bus.bus"]), "_sendone", autospec=True) as sendone:
                self.api.ingest([self.oee(f"n:{n}", end)])
            payloads = [
                call.args[3]
                for call in sendone.call_args_list
                if call.args[2] == "cmms_telemetry/update"
            ]
            self.assertEqual(len(payloads), 1)
            self.assertEqual(payloads[0]["kinds"], ["oee_record"])
            self.assertEqual(payloads[0]["equipment_ids"], [self.machine.id])

    def test_the_line_view_shows_the_running_shift(self):
        LineView = self.env["cmms.line.view"].with_user(self.supervisor)
        self.api.ingest([self.oee("l:1", "2026-11-22T08:00:00Z")])
        record = self.records()
        view = LineView.get_line_view(self.machine.id)
        self.assertEqual(view["shift"]["id"], record.id)
        self.assertIs(view["shift"]["running"], True)
        self.assertEqual(view["shift"]["period_end"], "2026-11-22 08:00:00")
        self.assertEqual(view["shift"]["oee"], round(record.oee, 1))
        self.api.ingest([self.oee("l:2", "2026-11-22T09:00:00Z", actual_speed=150)])
        view = LineView.get_line_view(self.machine.id)
        self.assertEqual(view["shift"]["period_end"], "2026-11-22 09:00:00")
        self.assertEqual(view["shift"]["performance"], 60.0)
        self.assertEqual(view["shift"]["status"], "fault")
        self.api.ingest([self.oee("l:close", "2026-11-22T14:00:00Z", running=None)])
        view = LineView.get_line_view(self.machine.id)
        self.assertIs(view["shift"]["running"], False)
        # One point per shift in the trend: the provisional reports are not counted.
        self.assertEqual(len(view["trend"]["shift"]), 1)
