# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.cmms_parfum.models.calibration_tools import point_result, suggest_interval

from .common import CmmsCommon


class CalibrationCommon(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Equipment = cls.env["maintenance.equipment"]
        cls.pt = Equipment.create(
            {
                "name": "Test pressure transmitter",
                "cmms_tag": "PT-C1",
                "cmms_kind": "instrument",
                "criticality": "high",
                "technician_user_id": cls.technician.id,
                "instrument_type": "pressure",
                "instrument_unit": "bar",
                "range_low": 0.0,
                "range_high": 16.0,
                "tolerance_mode": "span",
                "adjust_limit": 0.25,
                "fail_limit": 0.5,
                "calibration_interval_days": 180,
            }
        )
        cls.tt = Equipment.create(
            {
                "name": "Test thermometer",
                "cmms_tag": "TT-C1",
                "cmms_kind": "instrument",
                "instrument_unit": "degC",
                "range_low": 0.0,
                "range_high": 150.0,
                "tolerance_mode": "units",
                "adjust_limit": 0.5,
                "fail_limit": 1.0,
                "calibration_interval_days": 365,
            }
        )
        Standard = cls.env["cmms.calibration.standard"]
        cls.calibrator = Standard.create(
            {
                "name": "Pressure calibrator",
                "serial_number": "PC-1",
                "certificate_number": "LAB-001",
                "calibrated_on": "2025-01-01",
                "due_date": "2030-12-31",
                "uncertainty": 0.01,
                "uncertainty_unit": "bar",
            }
        )
        cls.thermometer = Standard.create(
            {
                "name": "Reference thermometer",
                "serial_number": "RT-1",
                "certificate_number": "LAB-002",
                "calibrated_on": "2025-01-01",
                "due_date": "2030-12-31",
                "uncertainty": 0.05,
                "uncertainty_unit": "degC",
            }
        )
        cls.Calibration = cls.env["cmms.calibration"]
        cls.Wizard = cls.env["cmms.calibration.sign.wizard"]

    def record(self, equipment=None, errors=None, user=None, standards=None, **vals):
        """A draft recorded by ``user``; ``errors`` maps a point index to its as-found error."""
        equipment = equipment or self.pt
        record = self.Calibration.with_user(user or self.technician).create(
            {
                "equipment_id": equipment.id,
                "standard_ids": [fields.Command.set((standards or self.calibrator).ids)],
                **vals,
            }
        )
        for index, point in enumerate(record.point_ids):
            point.as_found_value = point.reference_value + (errors or {}).get(index, 0.0)
        return record

    def sign(self, record, user=None, password=None):
        user = user or self.technician
        wizard = self.Wizard.with_user(user).create(
            {"calibration_id": record.id, "action": "sign", "password": password or self.pw(user)}
        )
        return wizard.action_confirm()

    def approve(self, record, user=None, password=None):
        user = user or self.supervisor
        wizard = self.Wizard.with_user(user).create(
            {
                "calibration_id": record.id,
                "action": "approve",
                "password": password or self.pw(user),
            }
        )
        return wizard.action_confirm()

    @staticmethod
    def pw(user):
        return user.login + "x" * (8 - len(user.login))

    def approved(self, equipment=None, errors=None, when=None, standards=None):
        with freeze_time(when or datetime.now()):
            record = self.record(equipment, errors, standards=standards)
            self.sign(record)
            self.approve(record)
        return record


class TestCalibrationComputations(CalibrationCommon):
    def test_points_against_hand_worked_values(self):
        # 0-16 bar, adjust 0.25 % and fail 0.5 % of span (0.04 and 0.08 bar).
        record = self.record(errors={2: 0.032, 3: 0.056, 4: -0.1})
        points = record.point_ids
        self.assertEqual(points.mapped("percent"), [0, 25, 50, 75, 100, 75, 50, 25, 0])
        self.assertEqual(points.mapped("direction"), ["up"] * 5 + ["down"] * 4)
        self.assertEqual(points[2].reference_value, 8.0)
        self.assertAlmostEqual(points[2].as_found_error_pct, 0.2)
        self.assertEqual(points[2].as_found_result, "pass")
        self.assertAlmostEqual(points[3].as_found_error_pct, 0.35)
        self.assertEqual(points[3].as_found_result, "adjusted")
        self.assertAlmostEqual(points[4].as_found_error_pct, -0.625)
        self.assertEqual(points[4].as_found_result, "fail")
        self.assertEqual(record.as_found_result, "fail")
        self.assertAlmostEqual(record.as_found_max_error_pct, 0.625)
        self.assertAlmostEqual(record.as_found_ratio, 1.25)
        # Not adjusted: as-left is as-found.
        self.assertEqual(record.as_left_result, "fail")
        record.adjusted = True
        points[3].as_left_value = 12.0
        points[4].as_left_value = 16.01
        self.assertEqual(record.as_left_result, "pass")
        self.assertEqual(record.as_found_result, "fail")
        # The limits themselves still pass / are adjusted.
        self.assertEqual(point_result(0.25, 0.25, 0.5), "pass")
        self.assertEqual(point_result(0.5, 0.25, 0.5), "adjusted")

    def test_tolerance_in_units(self):
        record = self.record(self.tt, errors={3: 0.7}, standards=self.thermometer)
        point = record.point_ids[3]
        self.assertEqual(point.reference_value, 112.5)
        self.assertAlmostEqual(point.as_found_error, 0.7)
        self.assertAlmostEqual(point.as_found_error_pct, 0.7 / 150 * 100, places=3)
        self.assertEqual(point.as_found_result, "adjusted")
        self.assertAlmostEqual(record.as_found_ratio, 0.7)
        # TUR: 1.0 degC / 0.05 degC.
        self.assertAlmostEqual(record.tur, 20.0)
        self.assertFalse(record.tur_low)

    def test_test_uncertainty_ratio(self):
        # Fail limit 0.5 % of 16 bar = 0.08 bar; U = 0.01 bar: TUR 8.
        record = self.record()
        self.assertAlmostEqual(record.tur, 8.0)
        self.assertFalse(record.tur_low)
        gauge = self.calibrator.copy(
            {"name": "Test gauge", "serial_number": "TG-1", "uncertainty": 0.02}
        )
        # Standards in the instrument's unit add up as a root sum of squares:
        # 0.08 / sqrt(0.01^2 + 0.02^2) = 3.578; the thermometer does not count.
        record.standard_ids = gauge | self.calibrator | self.thermometer
        self.assertAlmostEqual(record.tur, 0.08 / (0.0005**0.5), places=2)
        self.assertTrue(record.tur_low)

    def test_interval_suggestion_against_hand_worked_values(self):
        # Drifting: as-found at 0.3, 0.6, 0.9 of the limit after 180 days each.
        # rates 0.0016667, 0.0033333, 0.005 per day; mean 0.0033333, sd 0.0016667;
        # z(95 %) = 1.6449; rate 0.0060748; 1 / rate = 164.6 days.
        drifting = [(180, 0.3), (180, 0.6), (180, 0.9)]
        result = suggest_interval(drifting, 180, 0.95)
        self.assertAlmostEqual(result["mean"], 0.0033333, places=7)
        self.assertAlmostEqual(result["sd"], 0.0016667, places=7)
        self.assertAlmostEqual(result["z"], 1.6449, places=4)
        self.assertAlmostEqual(result["rate"], 0.0060748, places=7)
        self.assertEqual(result["suggested"], 164)
        # Telemetry measured a faster drift (0.01 of the limit per day): 100 days.
        self.assertEqual(suggest_interval(drifting, 180, 0.95, 0.01)["suggested"], 100)
        # Well inside: 0.1, 0.12, 0.08 after 365 days -> 2746 days, capped at twice 365.
        self.assertEqual(suggest_interval([(365, 0.1), (365, 0.12), (365, 0.08)], 365, 0.95)[
            "suggested"], 730)  # fmt: skip
        # A fast drift is capped at half the interval.
        self.assertEqual(suggest_interval([(180, 1.5), (180, 2.0)], 180, 0.95)["suggested"], 90)
        with self.assertRaises(ValueError):
            suggest_interval([(180, 0.3)], 180, 0.95)

    def test_interval_analysis_on_the_instrument(self):
        for day, error in (("2024-01-01", 0.0), ("2024-06-29", 0.024), ("2024-12-26", 0.048),
                           ("2025-06-24", 0.072)):  # fmt: skip
            self.approved(errors={2: error}, when=f"{day} 08:00:00")
        as_tech = self.pt.with_user(self.technician)
        as_tech.action_analyse_interval()
        self.assertEqual(self.pt.suggested_interval_days, 164)
        self.assertIn("164", self.pt.interval_analysis)
        with self.assertRaises(AccessError):
            as_tech.action_apply_suggested_interval()
        self.assertEqual(self.pt.calibration_interval_days, 180)
        self.pt.with_user(self.supervisor).action_apply_suggested_interval()
        self.assertEqual(self.pt.calibration_interval_days, 164)
        self.assertEqual(self.pt.next_calibration_date, date(2025, 12, 5))


class TestCalibrationSignatures(CalibrationCommon):
    def test_sign_approve_and_due_date(self):
        with freeze_time("2026-03-02 08:00:00"):
            record = self.record(errors={2: 0.02})
            self.sign(record)
            self.assertEqual(record.state, "signed")
            self.assertEqual(record.signed_by_id, self.technician)
            self.assertIn("Performed", record.signature_meaning)
            self.assertTrue(record.content_hash)
            self.approve(record)
        self.assertEqual(record.state, "approved")
        self.assertEqual(record.approved_by_id, self.supervisor)
        self.assertEqual(str(record.approved_at), "2026-03-02 08:00:00")
        self.assertIn("Approved", record.approval_meaning)
        self.assertEqual(self.pt.last_calibration_id, record)
        self.assertEqual(self.pt.next_calibration_date, date(2026, 8, 29))
        self.assertFalse(record.corrective_request_id)

    def test_wrong_password_saves_nothing(self):
        record = self.record()
        with self.assertRaises(UserError):
            self.sign(record, password="wrong")
        self.assertEqual(record.state, "draft")
        self.assertFalse(record.signed_by_id)
        self.sign(record)
        with self.assertRaises(UserError):
            self.approve(record, password="wrong")
        self.assertEqual(record.state, "signed")
        self.assertFalse(record.approved_by_id)
        self.assertFalse(self.pt.last_calibration_id)

    def test_who_signs_and_who_approves(self):
        record = self.record()
        with self.assertRaises(AccessError):
            self.sign(record, user=self.technician2)
        self.sign(record)
        with self.assertRaises(AccessError):
            self.approve(record, user=self.technician)
        with self.assertRaises(AccessError):
            record.with_user(self.technician).action_approve()
        # A supervisor who performed a calibration does not approve it himself.
        own = self.record(user=self.supervisor)
        self.sign(own, user=self.supervisor)
        with self.assertRaises(AccessError):
            self.approve(own, user=self.supervisor)
        self.approve(own, user=self.manager)
        self.assertEqual(own.state, "approved")

    def test_a_signed_record_is_never_edited_or_deleted(self):
        record = self.record()
        self.sign(record)
        for user in (self.technician, self.supervisor):
            with self.assertRaises(UserError):
                record.with_user(user).write({"notes": "changed"})
            with self.assertRaises(UserError):
                record.point_ids[0].with_user(user).as_found_value = 3.0
            with self.assertRaises(UserError):
                record.point_ids[0].with_user(user).unlink()
            with self.assertRaises(UserError):
                record.with_user(user).point_ids = [fields.Command.create({"percent": 10})]
        with self.assertRaises(UserError):
            record.unlink()
        with self.assertRaises(UserError):
            record.with_user(self.technician).action_cancel()
        self.assertFalse(record.notes)
        self.assertEqual(record.point_ids[0].as_found_value, 0.0)
        self.assertEqual(len(record.point_ids), 9)
        self.assertEqual(record.content_hash, record._hash())

    def test_a_correction_is_a_new_version(self):
        first = self.approved(errors={2: 0.02})
        action = first.with_user(self.technician).action_new_version()
        second = self.Calibration.browse(action["res_id"])
        self.assertEqual((second.version, second.previous_id, second.state), (2, first, "draft"))
        self.assertEqual(second.name, first.name)
        with self.assertRaises(UserError):
            first.with_user(self.technician).action_new_version()
        second.with_user(self.technician).point_ids[2].as_found_value = 8.01
        self.sign(second)
        self.assertEqual(first.state, "approved")
        self.approve(second)
        self.assertEqual(first.state, "superseded")
        self.assertEqual(first.superseded_by_id, second)
        self.assertEqual(self.pt.last_calibration_id, second)

    def test_failed_as_found_opens_a_corrective_work_order(self):
        record = self.record(errors={4: -0.1})
        record.adjusted = True
        record.point_ids[4].as_left_value = 16.0
        self.sign(record)
        self.assertFalse(record.corrective_request_id)
        self.approve(record)
        request = record.corrective_request_id
        self.assertTrue(request)
        self.assertEqual(
            (request.equipment_id, request.maintenance_type, request.source),
            (self.pt, "corrective", "calibration"),
        )


class TestCalibrationRefusals(CalibrationCommon):
    def test_expired_or_out_of_tolerance_standard_is_refused(self):
        expired = self.calibrator.copy(
            {"serial_number": "PC-OLD", "calibrated_on": "2020-01-01", "due_date": "2021-01-01"}
        )
        count = self.Calibration.search_count([])
        with self.assertRaises(ValidationError) as refused:
            self.record(standards=expired)
        self.assertIn("expired on 2021-01-01", str(refused.exception))
        self.assertEqual(self.Calibration.search_count([]), count)
        record = self.record()
        with self.assertRaises(ValidationError):
            record.with_user(self.technician).standard_ids = expired
        self.assertEqual(record.standard_ids, self.calibrator)
        self.calibrator.out_of_tolerance_note = "Drifted at 10 bar."
        self.calibrator.with_user(self.supervisor).action_report_out_of_tolerance()
        with self.assertRaises(ValidationError) as refused:
            self.sign(record)
        self.assertIn("out of tolerance", str(refused.exception))
        self.assertEqual(record.state, "draft")

    def test_values_outside_the_range_are_refused(self):
        record = self.record()
        point = record.point_ids[4].with_user(self.technician)
        # 0-16 bar with a 10 % margin: -1.6 to 17.6 bar.
        with self.assertRaises(ValidationError) as refused:
            point.as_found_value = 25.0
        self.assertIn("outside the range -1.6 to 17.6 bar", str(refused.exception))
        with self.assertRaises(ValidationError):
            point.reference_value = -2.0
        with self.assertRaises(ValidationError):
            point.percent = 120
        self.assertEqual(point.as_found_value, 16.0)
        point.as_found_value = 17.5

    def test_closing_a_calibration_work_order_needs_its_approved_record(self):
        # Never calibrated: due on the date a supervisor set.
        self.pt.write({"next_calibration_date": "2026-05-01", "criticality": "medium"})
        with freeze_time("2026-06-01 06:00:00"):
            self.env["maintenance.equipment"]._cron_calibration_due()
        request = self.pt._open_calibration_request()
        self.assertTrue(request.cmms_calibration)
        request.with_user(self.supervisor).write(
            {"user_id": self.technician.id, "schedule_date": fields.Datetime.now()}
        )
        request.with_user(self.supervisor).action_approve()
        request.with_user(self.technician).action_start()
        request.with_user(self.technician).write(
            {"completion_note": "Calibrated.", "actual_duration": 1.0, "no_parts_used": True}
        )
        request.with_user(self.technician).action_complete()
        with self.assertRaises(UserError) as refused:
            request.with_user(self.supervisor).action_close()
        self.assertIn("approved calibration record", str(refused.exception))
        self.assertEqual(request.cmms_state, "done")
        closed = self.env.ref("maintenance.stage_3")
        with self.assertRaises(UserError):
            request.with_user(self.supervisor).stage_id = closed
        record = self.record()
        self.assertEqual(record.request_id, request)
        self.sign(record)
        with self.assertRaises(UserError):
            request.with_user(self.supervisor).action_close()
        self.approve(record)
        request.with_user(self.supervisor).action_close()
        self.assertEqual(request.cmms_state, "closed")


class TestCalibrationDue(CalibrationCommon):
    def test_the_job_run_twice_opens_one_work_order(self):
        self.approved(when="2025-12-01 08:00:00")
        self.assertEqual(self.pt.next_calibration_date, date(2026, 5, 30))
        Request = self.env["maintenance.request"]
        with freeze_time("2026-05-20 06:00:00"):
            self.assertEqual(self.pt.calibration_state, "due_soon")
            self.env["maintenance.equipment"]._cron_calibration_due()
            self.assertFalse(Request.search([("equipment_id", "=", self.pt.id)]))
            self.assertEqual(self.pt.calibration_notice_date, date(2026, 5, 30))
        with freeze_time("2026-06-01 06:00:00"):
            self.assertEqual(self.pt.calibration_state, "overdue")
            cron = self.env.ref("cmms_parfum.ir_cron_cmms_calibration_due")
            cron.method_direct_trigger()
            cron.method_direct_trigger()
            requests = Request.search([("equipment_id", "=", self.pt.id)])
            self.assertEqual(len(requests), 1)
            self.assertTrue(requests.cmms_calibration)
            self.assertEqual(requests.source, "calibration")
            self.assertEqual(requests.cmms_priority, "high")
            self.assertIn(
                self.pt, self.env["maintenance.equipment"].search(
                    [("calibration_state", "=", "overdue")])
            )  # fmt: skip
        self.assertEqual(
            len(self.pt.message_ids.filtered(lambda m: "is due on" in (m.body or ""))), 1
        )


class TestCalibrationRights(CalibrationCommon):
    def test_operators_read_nothing_of_it(self):
        record = self.record()
        for model in ("cmms.calibration", "cmms.calibration.point", "cmms.calibration.standard"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.operator).search([])
        with self.assertRaises(AccessError):
            record.with_user(self.operator).read(["name"])
        with self.assertRaises(AccessError):
            self.pt.with_user(self.operator).action_record_calibration()
        with self.assertRaises(AccessError):
            self.pt.with_user(self.operator).read(["calibration_ids"])
        # The instrument's due date is equipment status: operators see it.
        self.pt.with_user(self.operator).read(["next_calibration_date", "calibration_state"])

    def test_technicians_and_operators_open_the_instrument(self):
        for user in (self.operator, self.technician):
            self.pt.with_user(user).invalidate_recordset()
            self.assertFalse(self.pt.with_user(user).match_serial)

    def test_technicians_record_supervisors_approve(self):
        action = self.pt.with_user(self.technician).action_record_calibration()
        self.assertEqual(action["res_model"], "cmms.calibration")
        record = self.record()
        # Another technician reads it but does not change it.
        self.assertTrue(record.with_user(self.technician2).read(["name"]))
        with self.assertRaises(AccessError):
            record.with_user(self.technician2).write({"notes": "mine"})
        # Technicians read the standards but do not manage them.
        self.assertTrue(self.calibrator.with_user(self.technician).read(["name"]))
        with self.assertRaises(AccessError):
            self.calibrator.with_user(self.technician).write({"due_date": "2040-01-01"})
        with self.assertRaises(AccessError):
            self.calibrator.with_user(self.technician).action_report_out_of_tolerance()
        # Nobody creates a record already signed or approved.
        sneaky = self.Calibration.with_user(self.supervisor).create(
            {"equipment_id": self.pt.id, "state": "approved", "approved_by_id": self.manager.id}
        )
        self.assertEqual((sneaky.state, sneaky.approved_by_id.id), ("draft", False))
        with self.assertRaises(UserError):
            sneaky.with_user(self.supervisor)._approve("x")

    def test_out_of_tolerance_standard_is_traced_to_the_instruments(self):
        old = self.approved(when="2024-06-01 08:00:00")
        self.approved(self.tt, when="2025-06-01 08:00:00", standards=self.thermometer)
        self.assertEqual(self.pt.calibration_standard_ids, self.calibrator)
        # The calibrator's last good calibration was on 2025-01-01: only what
        # it measured since then is suspect.
        self.calibrator.write({"calibrated_on": "2024-09-01"})
        newer = self.approved(when="2025-03-01 08:00:00")
        self.calibrator.out_of_tolerance_note = "Found 0.05 bar off at 10 bar."
        self.calibrator.with_user(self.supervisor).action_report_out_of_tolerance()
        self.assertEqual(self.calibrator.state, "out_of_tolerance")
        self.assertEqual(self.calibrator._affected_calibrations(), newer)
        self.assertTrue(self.pt.calibration_review)
        self.assertIn(newer.display_name, self.pt.calibration_review_note)
        self.assertNotIn(old.display_name, self.pt.calibration_review_note)
        self.assertFalse(self.tt.calibration_review)
        with self.assertRaises(AccessError):
            self.pt.with_user(self.technician).action_clear_calibration_review()
        self.pt.with_user(self.supervisor).action_clear_calibration_review()
        self.assertFalse(self.pt.calibration_review)


class TestCalibrationReports(CalibrationCommon):
    def test_reports_render(self):
        record = self.approved(errors={4: -0.1})
        Report = self.env["ir.actions.report"].with_user(self.technician)
        html, _kind = Report._render_qweb_html(
            "cmms_parfum.cmms_calibration_report_certificate", record.ids
        )
        for text in (record.name, "PC-1", "LAB-001", self.supervisor.name, "Approved:"):
            self.assertIn(text, html.decode())
        html, _kind = Report._render_qweb_html(
            "cmms_parfum.maintenance_equipment_report_calibration_history", self.pt.ids
        )
        self.assertIn(record.name, html.decode())
        self.tt.next_calibration_date = "2020-01-01"
        html, _kind = Report._render_qweb_html(
            "cmms_parfum.maintenance_equipment_report_calibration_compliance",
            (self.pt | self.tt).ids,
        )
        text = html.decode()
        self.assertIn("TT-C1", text)
        # One of two instruments in calibration; the one approved record failed as found.
        self.assertIn("50.0", text)
        self.assertIn("100.0", text)
