# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""KPIs against fixtures worked out by hand (June 2031, a plant of its own)."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon


def dt(text):
    return f"2031-{text}:00"


class KpiCommon(BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plant = cls.env["res.company"].create({"name": "KPI plant", "cmms_labor_rate": 20.0})
        common = {
            "company_id": cls.plant.id,
            "company_ids": [Command.set(cls.plant.ids)],
            "tz": "UTC",
        }
        cls.manager = new_test_user(
            cls.env, "kpi_mgr", groups="cmms_parfum.cmms_parfum_group_manager", **common
        )
        cls.supervisor = new_test_user(
            cls.env, "kpi_sup", groups="cmms_parfum.cmms_parfum_group_supervisor", **common
        )
        cls.technician = new_test_user(
            cls.env, "kpi_tech", groups="cmms_parfum.cmms_parfum_group_technician", **common
        )
        cls.team = cls.env["maintenance.team"].create(
            {"name": "KPI team", "company_id": cls.plant.id}
        )
        Category = cls.env["maintenance.equipment.category"]
        cls.fillers = Category.create({"name": "KPI fillers", "company_id": cls.plant.id})
        cls.mixers = Category.create({"name": "KPI mixers", "company_id": cls.plant.id})
        Equipment = cls.env["maintenance.equipment"].with_company(cls.plant)
        cls.m1 = Equipment.create(
            {"name": "KPI filler", "cmms_tag": "K-M1", "company_id": cls.plant.id,
             "category_id": cls.fillers.id, "process_area": "Line 1"}
        )  # fmt: skip
        cls.m2 = Equipment.create(
            {"name": "KPI mixer", "cmms_tag": "K-M2", "company_id": cls.plant.id,
             "category_id": cls.mixers.id, "process_area": "Compounding"}
        )  # fmt: skip

        def wo(name, machine, kind, state, requested, priority="medium", **vals):
            return (
                cls.env["maintenance.request"]
                .with_company(cls.plant)
                .create(
                    {
                        "name": name,
                        "company_id": cls.plant.id,
                        "equipment_id": machine.id,
                        "maintenance_type": kind,
                        "cmms_state": state,
                        "cmms_priority": priority,
                        "requested_at": dt(requested),
                        "user_id": cls.technician.id,
                        "maintenance_team_id": cls.team.id,
                        **vals,
                    }
                )
            )

        cls.wo1 = wo("1", cls.m1, "corrective", "closed", "06-02 08:00", "high",
                     schedule_date=dt("06-02 09:00"), approved_at=dt("06-02 08:30"),
                     completed_at=dt("06-02 12:00"), actual_duration=3.0,
                     part_line_ids=[Command.create({"name": "Seal", "quantity": 1,
                                                    "unit_cost": 40.0})])  # fmt: skip
        cls.wo2 = wo("2", cls.m1, "corrective", "closed", "06-10 09:00", "urgent",
                     schedule_date=dt("06-10 10:00"), approved_at=dt("06-10 09:30"),
                     completed_at=dt("06-11 10:00"), actual_duration=5.0)  # fmt: skip
        cls.wo3 = wo("3", cls.m2, "corrective", "done", "06-20 07:00", "low",
                     schedule_date=dt("06-20 08:00"), approved_at=dt("06-20 07:30"),
                     completed_at=dt("06-20 11:00"), actual_duration=1.0)  # fmt: skip
        cls.wo4 = wo("4", cls.m1, "preventive", "closed", "06-01 08:00",
                     schedule_date=dt("06-05 08:00"), approved_at=dt("06-01 09:00"),
                     completed_at=dt("06-05 15:00"), actual_duration=2.0)  # fmt: skip
        cls.wo5 = wo("5", cls.m2, "preventive", "closed", "06-10 08:00",
                     schedule_date=dt("06-15 08:00"), approved_at=dt("06-10 09:00"),
                     completed_at=dt("06-16 10:00"), actual_duration=1.0)  # fmt: skip
        cls.wo6 = wo("6", cls.m2, "preventive", "approved", "06-20 00:00",
                     schedule_date=dt("06-25 08:00"), approved_at=dt("06-20 09:00"))  # fmt: skip
        cls.wo7 = wo("7", cls.m1, "corrective", "in_progress", "05-28 00:00",
                     schedule_date=dt("05-29 08:00"), approved_at=dt("05-28 09:00"))  # fmt: skip
        cls.wo8 = wo("8", cls.m2, "corrective", "requested", "07-02 00:00")
        cls.wo9 = wo("9", cls.m2, "preventive", "cancelled", "06-01 00:00",
                     schedule_date=dt("06-12 08:00"), approved_at=dt("06-01 09:00"))  # fmt: skip
        # Energy of June: m1 1,000 kWh for 500 units, m2 200 kWh without counts.
        cls.env["cmms.energy.reading"].create(
            [
                {"equipment_id": cls.m1.id, "period_start": dt("06-01 00:00"),
                 "period_end": dt("06-30 00:00"), "kwh": 1000.0, "produced_units": 500},
                {"equipment_id": cls.m2.id, "period_start": dt("06-01 00:00"),
                 "period_end": dt("06-30 00:00"), "kwh": 200.0},
            ]
        )  # fmt: skip
        cls.env["cmms.budget"].create(
            {"name": "KPI 2031", "company_id": cls.plant.id, "date_from": date(2031, 1, 1),
             "date_to": date(2031, 12, 31), "amount": 3650.0}
        )  # fmt: skip

    def kpis(self, user=None, **kwargs):
        user = user or self.manager
        return (
            self.env["cmms.kpi"]
            .with_user(user)
            .with_context(allowed_company_ids=self.plant.ids)
            .compute_kpis("2031-06-01", "2031-06-30", **kwargs)
        )


class TestKpi(KpiCommon):
    def test_plant_kpis_worked_out_by_hand(self):
        result = self.kpis()
        k = result["kpis"]
        # Completed in June: 1, 2, 3, 4, 5. Costs: hours x 20 + the seal (40).
        self.assertEqual(k["work_orders_completed"], 5)
        self.assertEqual(k["cost_total"], 280.0)  # 100 + 100 + 20 + 40 + 20
        self.assertEqual(k["cost_per_work_order"], 56.0)
        # MTTR: corrective repairs 1, 2, 3: (3 + 5 + 1) / 3.
        self.assertEqual(k["mttr_hours"], 3.0)
        # Failures: corrective requested in June (7 is May, 8 is July).
        self.assertEqual(k["failures"], 3)
        # No downtime recorded: two machines x 720 h, all available.
        self.assertEqual(k["availability_pct"], 100.0)
        self.assertEqual(k["mtbf_hours"], 480.0)  # 1440 h / 3 failures
        # SLA: 1 (high, 8 h) and 3 (low, 72 h) met; 2 (urgent, 2 h), 4 and 5
        # (medium, 24 h) breached.
        self.assertEqual(k["sla_compliance_pct"], 40.0)
        # PM due in June: 4, 5, 6 (9 cancelled); on time within a day: 4 only.
        self.assertEqual(k["pm_due"], 3)
        self.assertEqual(k["pm_compliance_pct"], 33.33)
        # Scheduled in June and approved: 1, 2, 3, 4, 5, 6; done that day: 1, 3, 4.
        self.assertEqual(k["schedule_compliance_pct"], 50.0)
        # Backlog at the end of June: 6 (11 days old) and 7 (34 days old).
        self.assertEqual(k["backlog_count"], 2)
        self.assertEqual(k["backlog_age_days"], 22.5)
        # The 2031 budget prorated to June: 3650 x 30 / 365 = 300.
        self.assertEqual(k["budget_amount"], 300.0)
        self.assertEqual(k["budget_consumed_pct"], 93.33)
        # Energy: 1,200 kWh in all; per unit only where units are counted.
        self.assertEqual(k["energy_kwh"], 1200.0)
        self.assertEqual(k["energy_per_unit"], 2.0)
        by_priority = {
            b["priority"]: (b["count"], b["age_days"]) for b in result["backlog_by_priority"]
        }
        self.assertEqual(by_priority, {"medium": (2, 22.5)})

    def test_grace_window_is_a_setting(self):
        self.plant.cmms_pm_grace_days = 2.0
        self.assertEqual(self.kpis()["kpis"]["pm_compliance_pct"], 66.67)  # 4 and 5

    def test_per_machine_category_and_area(self):
        groups = {g["name"]: g for g in self.kpis(groupby="machine")["groups"]}
        m1, m2 = groups["[K-M1] KPI filler"], groups["[K-M2] KPI mixer"]
        self.assertEqual((m1["work_orders_completed"], m1["cost_total"]), (3, 240.0))
        self.assertEqual((m2["work_orders_completed"], m2["cost_total"]), (2, 40.0))
        self.assertEqual(m1["mttr_hours"], 4.0)
        self.assertEqual(m2["mttr_hours"], 1.0)
        self.assertEqual(m1["mtbf_hours"], 360.0)  # 720 h / 2 failures
        self.assertEqual(m2["mtbf_hours"], 720.0)
        by_area = {g["name"]: g for g in self.kpis(groupby="area")["groups"]}
        self.assertEqual(by_area["Line 1"]["cost_total"], 240.0)
        self.assertEqual(by_area["Compounding"]["pm_due"], 2)
        by_category = {g["name"]: g for g in self.kpis(groupby="category")["groups"]}
        self.assertEqual(by_category["KPI mixers"]["backlog_count"], 1)
        scoped = self.kpis(process_area="Line 1")["kpis"]
        self.assertEqual(scoped["work_orders_completed"], 3)
        ranking = self.kpis()["worst_machines"]
        self.assertEqual([r["name"] for r in ranking], ["[K-M1] KPI filler", "[K-M2] KPI mixer"])

    def test_a_figure_opens_its_records(self):
        action = (
            self.env["cmms.kpi"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=self.plant.ids)
            .kpi_action("mttr_hours", "2031-06-01", "2031-06-30")
        )
        records = self.env["maintenance.request"].search(
            [*action["domain"], ("company_id", "=", self.plant.id)]
        )
        self.assertEqual(records, self.wo1 | self.wo2 | self.wo3)

    def test_dashboard_opens_on_the_supervisors_area(self):
        self.supervisor.sudo().cmms_process_area = "Line 1"

        def dashboard(user, **kwargs):
            return (
                self.env["cmms.kpi"]
                .with_user(user)
                .with_context(allowed_company_ids=self.plant.ids)
                .dashboard_data("last_12_months", **kwargs)
            )

        self.assertEqual(dashboard(self.supervisor)["process_area"], "Line 1")
        self.assertEqual(dashboard(self.supervisor, process_area=False)["process_area"], False)
        self.assertEqual(dashboard(self.manager)["process_area"], False)
        self.assertIn("Compounding", dashboard(self.manager)["areas"])

    def test_rights_and_bad_input(self):
        with self.assertRaises(AccessError):
            self.kpis(user=self.technician)
        self.assertTrue(self.kpis(user=self.supervisor)["kpis"]["work_orders_completed"])
        KPI = self.env["cmms.kpi"].with_user(self.manager)
        with self.assertRaisesRegex(UserError, "ends before it starts"):
            KPI.compute_kpis("2031-06-30", "2031-06-01")
        with self.assertRaisesRegex(UserError, "two dates"):
            KPI.compute_kpis("June", "2031-06-01")
        with self.assertRaisesRegex(UserError, "Group KPIs by one of"):
            KPI.compute_kpis("2031-06-01", "2031-06-30", groupby="colour")


class TestExport(KpiCommon):
    def test_every_role_exports_what_it_reads(self):
        operator = new_test_user(
            self.env, "kpi_op", groups="cmms_parfum.cmms_parfum_group_operator",
            company_id=self.plant.id, company_ids=[Command.set(self.plant.ids)],
        )  # fmt: skip
        mine = self.env["maintenance.request"].with_user(operator).with_company(self.plant).create(
            {"name": "Operator's own", "equipment_id": self.m1.id,
             "maintenance_team_id": self.team.id}
        )  # fmt: skip
        fields = ["name", "equipment_id/name", "cmms_state"]
        for user, expected in (
            (operator, 1),
            (self.technician, 9),  # all nine fixtures are assigned to them
            (self.supervisor, 10),
            (self.manager, 10),
        ):
            self.assertTrue(user.has_group("base.group_allow_export"), user.login)
            Request = (
                self.env["maintenance.request"]
                .with_user(user)
                .with_context(allowed_company_ids=self.plant.ids)
            )
            records = Request.search([("company_id", "=", self.plant.id)])
            rows = records.export_data(fields)["datas"]
            self.assertEqual(len(rows), expected, user.login)
            if user == operator:
                self.assertEqual(records, mine, "operators export their own requests only")
        # Costs stay with those who may read them.
        with self.assertRaises(AccessError):
            self.wo1.with_user(self.technician).export_data(["total_cost"])
        rows = self.wo1.with_user(self.manager).export_data(["total_cost"])["datas"]
        self.assertEqual(rows, [[100.0]])


class TestReports(KpiCommon):
    def render(self, xmlid, records, user):
        html, _kind = (
            self.env["ir.actions.report"]
            .with_user(user)
            .with_context(allowed_company_ids=self.plant.ids)
            ._render_qweb_html(xmlid, records.ids)
        )
        return html.decode()

    def test_work_order_sheet(self):
        self.wo1.sudo().write(
            {"completion_note": "Seal replaced, tested.", "verified_by_id": self.supervisor.id}
        )
        html = self.render(
            "base_maintenance.action_report_maintenance_request", self.wo1, self.manager
        )
        for text in (
            "Seal replaced, tested.",
            "kpi_tech",
            "kpi_sup",
            "Seal",
            "Parts used",
            "Costs",
        ):
            self.assertIn(text, html)
        self.assertRegex(html, r"100[.,]00")  # total cost: 3 h x 20 + 40
        html = self.render(
            "base_maintenance.action_report_maintenance_request", self.wo1, self.technician
        )
        self.assertIn("Parts used", html)
        self.assertNotIn("Costs</h4>", html, "no costs for technicians")

    def test_machine_history(self):
        html = self.render("cmms_parfum.action_report_equipment_history", self.m1, self.manager)
        # m1's completed work orders: 1, 2 and 4 (7 is still in progress).
        for name in ("<td>1</td>", "<td>2</td>", "<td>4</td>"):
            self.assertIn(name, html)
        self.assertNotIn("<td>7</td>", html)
        self.assertEqual(self.m1._cmms_history_requests(), self.wo2 | self.wo4 | self.wo1)
        self.assertRegex(html, r"240[.,]00")

    def test_monthly_kpi_summary_and_pm_compliance(self):
        wizard = (
            self.env["cmms.kpi.report.wizard"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=self.plant.ids)
            .create({"date_from": date(2031, 6, 1), "date_to": date(2031, 6, 30)})
        )
        html = self.render("cmms_parfum.action_report_kpi_summary", wizard, self.manager)
        compact = " ".join(html.split())
        self.assertIn('data-kpi="mttr_hours"> <td>MTTR</td> <td class="text-end">3.0</td>', compact)
        self.assertIn(
            'data-kpi="pm_compliance_pct"> <td>PM compliance</td> <td class="text-end">33.33</td>',
            compact,
        )
        self.assertIn(
            'data-kpi="cost_total"> <td>Maintenance cost</td> <td class="text-end">280.0</td>',
            compact,
        )
        html = self.render("cmms_parfum.action_report_pm_compliance", wizard, self.manager)
        compact = " ".join(html.split())
        self.assertIn("Due: 3", compact)
        self.assertIn("on time: 1", compact)
        self.assertIn("compliance: 33.33 %", compact)
        self.assertEqual(compact.count("Not done"), 1)  # 6
        self.assertEqual(compact.count(">Late<"), 1)  # 5
        with self.assertRaises(AccessError):
            wizard.with_user(self.technician).action_print()
