# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form
from odoo.tools import mute_logger

from .common import CmmsCommon


def dt(text):
    return datetime.fromisoformat(text)


class EnergyCommon(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reading = cls.env["cmms.energy.reading"]
        cls.Report = cls.env["cmms.energy.report"]
        cls.flexo = cls.env["maintenance.equipment"].create(
            {"name": "Test printer slotter", "cmms_tag": "FLX-E1", "power_kw": 75.0}
        )

    def reading(self, start, end, kwh, units=0, machine=None, user=None, **vals):
        Reading = self.Reading.with_user(user) if user else self.Reading
        return Reading.create(
            {
                "equipment_id": (machine or self.flexo).id,
                "period_start": dt(start),
                "period_end": dt(end),
                "kwh": kwh,
                "produced_units": units,
                **vals,
            }
        )

    def month_rows(self, machine=None):
        self.env.flush_all()
        self.env.invalidate_all()  # a view: its rows change with the readings
        rows = self.Report.search([("equipment_id", "=", (machine or self.flexo).id)])
        return {str(row.month): row for row in rows}


class TestEnergyReadings(EnergyCommon):
    def test_supervisor_and_manager_enter_readings(self):
        form = Form(self.Reading.with_user(self.supervisor))
        form.equipment_id = self.flexo
        form.period_start = dt("2026-03-01 00:00:00")
        form.period_end = dt("2026-04-01 00:00:00")
        form.kwh = 9800.5
        form.produced_units = 2_800_000
        reading = form.save()
        self.assertEqual(reading.source, "manual")
        self.assertEqual(reading.company_id, self.flexo.company_id)
        self.assertEqual(reading.name, "FLX-E1 2026-03-01 00:00")
        by_manager = self.reading(
            "2026-04-01", "2026-05-01", 9000.0, machine=self.machine, user=self.manager
        )
        by_manager.with_user(self.manager).write({"kwh": 9100.0, "note": "Meter re-read."})
        self.assertEqual(by_manager.kwh, 9100.0)
        # Records are archived, not deleted.
        with self.assertRaises(AccessError):
            by_manager.with_user(self.manager).unlink()
        by_manager.with_user(self.supervisor).action_archive()
        self.assertFalse(by_manager.active)

    def test_technicians_and_operators_read_nothing_of_energy(self):
        reading = self.reading("2026-03-01", "2026-03-02", 120.0, units=30000)
        self.flexo.energy_baseline_kwh_per_unit = 0.004
        for user in (self.technician, self.operator):
            with self.assertRaises(AccessError):
                self.Reading.with_user(user).search([])
            with self.assertRaises(AccessError):
                reading.with_user(user).read(["kwh"])
            with self.assertRaises(AccessError):
                self.reading("2026-03-02", "2026-03-03", 100.0, user=user)
            with self.assertRaises(AccessError):
                self.Report.with_user(user).search([])
            with self.assertRaises(AccessError):
                self.flexo.with_user(user).read(["energy_baseline_kwh_per_unit"])
            with self.assertRaises(AccessError):
                self.flexo.with_user(user).action_compute_energy_baseline()
            with self.assertRaises(AccessError):
                self.flexo.with_user(user).action_open_energy()
            # The equipment itself stays readable without its energy fields.
            self.assertEqual(self.flexo.with_user(user).read(["name"])[0]["name"], self.flexo.name)
        self.assertEqual(self.Reading.search_count([("equipment_id", "=", self.flexo.id)]), 1)
        self.assertEqual(self.flexo.energy_baseline_kwh_per_unit, 0.004)

    def test_bad_values_are_refused_and_nothing_written(self):
        cases = [
            ({"kwh": -1.0}, "cannot be negative"),
            ({"produced_units": -5}, "cannot be negative"),
            ({"period_end": dt("2026-03-01 00:00:00")}, "must end after it starts"),
            ({"period_end": dt("2026-02-28 00:00:00")}, "must end after it starts"),
            ({"period_end": dt("2026-04-02 00:00:00")}, "at most 31 days"),
        ]
        Reading = self.Reading.with_user(self.supervisor)
        for vals, message in cases:
            with self.subTest(vals=vals), self.assertRaises(ValidationError) as caught:
                Reading.create(
                    {
                        "equipment_id": self.flexo.id,
                        "period_start": dt("2026-03-01 00:00:00"),
                        "period_end": dt("2026-03-02 00:00:00"),
                        "kwh": 10.0,
                        **vals,
                    }
                )
            self.assertIn(message, str(caught.exception))
        with self.assertRaises(ValueError):
            Reading.create(
                {
                    "equipment_id": self.flexo.id,
                    "period_start": dt("2026-03-01 00:00:00"),
                    "period_end": dt("2026-03-02 00:00:00"),
                    "kwh": "a lot",
                }
            )
        self.assertFalse(self.Reading.search([("equipment_id", "=", self.flexo.id)]))

    def test_one_reading_per_machine_and_period_without_overlap(self):
        first = self.reading("2026-03-01", "2026-03-02", 100.0, user=self.supervisor)
        with self.assertRaises(ValidationError) as caught:
            self.reading("2026-03-01 12:00", "2026-03-02 12:00", 50.0, user=self.supervisor)
        self.assertIn("overlaps", str(caught.exception))
        with self.assertRaises(ValidationError):
            self.reading("2026-02-01", "2026-04-01", 50.0, user=self.supervisor)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.reading("2026-03-01", "2026-03-02", 70.0, user=self.supervisor)
        # Adjacent periods and another machine are fine; an archived reading
        # no longer blocks its period.
        self.reading("2026-03-02", "2026-03-03", 90.0, user=self.supervisor)
        with self.assertRaises(ValidationError):
            first.with_user(self.supervisor).write({"period_end": dt("2026-03-05 00:00:00")})
        self.reading("2026-03-01", "2026-03-02", 10.0, machine=self.machine, user=self.supervisor)
        first.with_user(self.supervisor).action_archive()
        self.reading("2026-03-01 06:00", "2026-03-01 14:00", 40.0, user=self.supervisor)
        self.assertEqual(
            self.Reading.search_count([("equipment_id", "=", self.flexo.id)]), 2, "active ones"
        )


class TestEnergyReport(EnergyCommon):
    def test_month_figures_are_sums_and_ratios_of_sums(self):
        # March: two days with units, one without (an idle day: no dilution).
        self.reading("2026-03-01", "2026-03-02", 100.0, units=20000)
        self.reading("2026-03-02", "2026-03-03", 300.0, units=80000)
        self.reading("2026-03-03", "2026-03-04", 50.0)
        self.reading("2026-04-10", "2026-04-11", 200.0, units=40000)
        self.reading("2026-03-01", "2026-03-02", 30.0, machine=self.machine)
        archived = self.reading("2026-03-05", "2026-03-06", 999.0, units=1)
        archived.action_archive()
        rows = self.month_rows()
        self.assertEqual(set(rows), {"2026-03-01", "2026-04-01"})
        march = rows["2026-03-01"]
        self.assertAlmostEqual(march.kwh, 450.0)
        self.assertEqual(march.produced_units, 100000)
        self.assertEqual(march.reading_count, 3)
        self.assertAlmostEqual(march.kwh_per_unit, 400.0 / 100000, places=8)
        self.assertFalse(march.baseline_kwh_per_unit)
        self.assertFalse(march.deviation_pct, "no baseline, no deviation")
        # With a baseline of 0.0045 kWh per unit: March used 400 kWh for what
        # the baseline does with 450 (-11.1 %), April 200 for 180 (+11.1 %).
        self.flexo.energy_baseline_kwh_per_unit = 0.0045
        rows = self.month_rows()
        self.assertAlmostEqual(rows["2026-03-01"].deviation_pct, (400 / 450 - 1) * 100, places=4)
        self.assertAlmostEqual(rows["2026-04-01"].deviation_pct, (200 / 180 - 1) * 100, places=4)
        # A machine without units has energy but no ratio.
        other = self.month_rows(self.machine)["2026-03-01"]
        self.assertEqual((other.kwh, other.produced_units, other.kwh_per_unit), (30.0, 0, 0.0))
        # Grouped further, ratios come from the sums, not from averages.
        [(kwh, units, per_unit, deviation)] = self.Report._read_group(
            [("equipment_id", "in", (self.flexo | self.machine).ids)],
            [],
            ["kwh:sum", "produced_units:sum", "kwh_per_unit:avg", "deviation_pct:avg"],
        )
        self.assertAlmostEqual(kwh, 680.0)
        self.assertEqual(units, 140000)
        self.assertAlmostEqual(per_unit, 600.0 / 140000, places=8)
        self.assertAlmostEqual(deviation, (600 / 630 - 1) * 100, places=4)
        # The pivot and graph views read it as the supervisor.
        groups = self.Report.with_user(self.supervisor).read_group(
            [("equipment_id", "=", self.flexo.id)],
            ["kwh_per_unit:avg", "kwh:sum"],
            ["month:month"],
        )
        self.assertEqual(len(groups), 2)

    def test_month_is_that_of_the_plant(self):
        self.env.company.partner_id.tz = "Asia/Jakarta"
        self.flexo.company_id = self.env.company
        # 1 January 00:00 in Jakarta is 31 December 17:00 UTC: January.
        self.reading("2025-12-31 17:00", "2026-01-01 17:00", 100.0)
        # A month entered from the 1st, local time.
        self.reading("2026-01-31 17:00", "2026-02-28 17:00", 2800.0)
        self.assertEqual(set(self.month_rows()), {"2026-01-01", "2026-02-01"})

    @freeze_time("2026-11-15 10:00:00")
    def test_baseline_from_the_previous_twelve_complete_months(self):
        self.reading("2025-10-10", "2025-10-11", 1000.0, units=1000)  # 13 months ago
        self.reading("2025-11-10", "2025-11-11", 40.0, units=10000)
        self.reading("2026-06-10", "2026-06-11", 60.0, units=10000)
        self.reading("2026-06-11", "2026-06-12", 25.0)  # no units: left out
        self.reading("2026-11-02", "2026-11-03", 500.0, units=1000)  # this month
        machine = self.flexo.with_user(self.supervisor)
        machine.action_compute_energy_baseline()
        self.assertAlmostEqual(machine.energy_baseline_kwh_per_unit, 100.0 / 20000, places=6)
        # By hand, too.
        machine.energy_baseline_kwh_per_unit = 0.006
        self.assertEqual(self.flexo.energy_baseline_kwh_per_unit, 0.006)
        # A machine without units in those months: refused, nothing written.
        self.machine.energy_baseline_kwh_per_unit = 0.25
        self.reading("2026-06-10", "2026-06-11", 60.0, machine=self.machine)
        with self.assertRaises(UserError) as caught:
            (machine | self.machine.with_user(self.supervisor)).action_compute_energy_baseline()
        self.assertIn("FL-T1", str(caught.exception))
        self.assertEqual(self.machine.energy_baseline_kwh_per_unit, 0.25)
        self.assertEqual(self.flexo.energy_baseline_kwh_per_unit, 0.006)

    @freeze_time("2026-11-15 10:00:00")
    def test_equipment_form_shows_energy_to_supervisors(self):
        self.reading("2026-10-01", "2026-10-02", 120.0, units=30000)
        self.reading("2024-10-01", "2024-10-02", 999.0, units=1)
        machine = self.flexo.with_user(self.supervisor)
        self.assertEqual(machine.energy_kwh_12m, 120.0)
        self.assertEqual(len(machine.energy_month_ids), 2)
        action = machine.action_open_energy()
        self.assertEqual(action["res_model"], "cmms.energy.report")
        self.assertEqual(action["domain"], [("equipment_id", "=", self.flexo.id)])
        with Form(machine) as form:
            form.energy_baseline_kwh_per_unit = 0.005
        self.assertEqual(self.flexo.energy_baseline_kwh_per_unit, 0.005)
        for view in ("graph", "pivot", "list", "search"):
            self.Report.with_user(self.supervisor).get_views([(False, view)])
