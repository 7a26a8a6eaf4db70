# Copyright 2031 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError

from .test_spare_parts import SparePartsCommon


class TestCosts(SparePartsCommon):
    def test_labour_parts_and_external_costs(self):
        self.company.cmms_labor_rate = 10.0
        self.technician.with_user(self.supervisor).cmms_hourly_cost = 25.0
        request = self.in_progress_with_parts((self.seal, 2.0))
        request.with_user(self.technician).write(
            {"part_line_ids": [Command.create({"name": "Sealant tube", "quantity": 1})]}
        )
        request.part_line_ids.filtered(lambda p: not p.product_id).with_user(
            self.supervisor
        ).unit_cost = 7.5
        request.with_user(self.supervisor).write(
            {
                "external_cost_ids": [
                    Command.create({"amount": 150.0, "note": "Crane hire"}),
                ]
            }
        )
        self.complete_as_technician(request)  # 2.0 hours
        request = request.with_user(self.supervisor)
        # 2 h x 25.0; 2 seals x 12.0 (stock valuation of the moves) + 7.5; 150.
        self.assertEqual(request.labor_cost, 50.0)
        self.assertEqual(request.parts_cost, 31.5)
        self.assertEqual(request.external_cost, 150.0)
        self.assertEqual(request.total_cost, 231.5)
        # The part keeps the cost it was consumed at.
        self.seal.standard_price = 99.0
        self.assertEqual(request.parts_cost, 31.5)

    def test_company_default_hourly_cost(self):
        self.company.cmms_labor_rate = 10.0
        request = self.in_progress()
        request.with_user(self.technician).write({"no_parts_used": True})
        self.complete_as_technician(request)
        self.assertEqual(request.sudo().labor_cost, 20.0)

    def test_costs_are_for_supervisors_and_managers_only(self):
        request = self.in_progress()
        for user in (self.technician, self.operator):
            with self.assertRaises(AccessError):
                request.with_user(user).read(["total_cost"])
            with self.assertRaises(AccessError):
                self.env["cmms.request.external.cost"].with_user(user).create(
                    {"request_id": request.id, "amount": 10.0}
                )
            with self.assertRaises(AccessError):
                self.technician.with_user(user).cmms_hourly_cost = 1.0
        self.assertFalse(request.sudo().external_cost_ids)
        self.assertEqual(request.with_user(self.manager).total_cost, 0.0)

    def test_bad_costs_are_refused(self):
        request = self.in_progress()
        with self.assertRaisesMsg(ValidationError, "cannot be negative"):
            request.with_user(self.supervisor).write(
                {"external_cost_ids": [Command.create({"amount": -5.0})]}
            )
        with self.assertRaisesMsg(ValidationError, "cannot be negative"):
            self.technician.with_user(self.supervisor).cmms_hourly_cost = -1.0
        self.assertFalse(request.sudo().external_cost_ids)


class TestBudget(SparePartsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.cmms_labor_rate = 100.0
        cls.category = cls.env["maintenance.equipment.category"].create({"name": "Fillers"})
        cls.machine.write({"category_id": cls.category.id, "process_area": "Filling line 1"})
        cls.other_machine = cls.env["maintenance.equipment"].create(
            {"name": "Labeller", "cmms_tag": "LB-T1", "criticality": "low"}
        )
        cls.Budget = cls.env["cmms.budget"].with_user(cls.manager)

    def completed_costing(self, hours, equipment=None):
        request = self.in_progress(equipment)
        request.with_user(self.technician).write(
            {"completion_note": "Done.", "actual_duration": hours, "no_parts_used": True}
        )
        request.with_user(self.technician).action_complete()
        return request

    @freeze_time("2031-06-15 10:00:00")
    def test_actuals_per_category_and_area(self):
        self.completed_costing(3.0)  # 300 on the filler
        self.completed_costing(2.0, self.other_machine)  # 200 elsewhere, no category
        with freeze_time("2031-07-02"):
            self.completed_costing(1.0)  # July: outside the June budgets
        plant = self.Budget.create(
            {"name": "June", "date_from": date(2031, 6, 1), "date_to": date(2031, 6, 30),
             "amount": 1000.0}
        )  # fmt: skip
        fillers = self.Budget.create(
            {"name": "June fillers", "date_from": date(2031, 6, 1),
             "date_to": date(2031, 6, 30), "amount": 400.0, "category_id": self.category.id}
        )  # fmt: skip
        area = self.Budget.create(
            {"name": "June line 1", "date_from": date(2031, 6, 1),
             "date_to": date(2031, 6, 30), "amount": 250.0, "process_area": "filling line 1"}
        )  # fmt: skip
        self.assertEqual(plant.actual_amount, 500.0)
        self.assertEqual(plant.remaining_amount, 500.0)
        self.assertEqual(plant.consumed_pct, 50.0)
        self.assertEqual(fillers.actual_amount, 300.0)
        self.assertEqual(fillers.variance_amount, 100.0)
        self.assertEqual(fillers.consumed_pct, 75.0)
        self.assertEqual(area.actual_amount, 300.0)
        self.assertEqual(area.variance_amount, -50.0)
        self.assertEqual(area.consumed_pct, 120.0)
        action = fillers.action_view_work_orders()
        self.assertEqual(len(self.env["maintenance.request"].search(action["domain"])), 1)

    @freeze_time("2031-06-15 10:00:00")
    def test_managers_notified_once_at_90_and_once_at_100(self):
        budget = self.Budget.create(
            {"name": "June", "date_from": date(2031, 6, 1), "date_to": date(2031, 6, 30),
             "amount": 1000.0}
        )  # fmt: skip

        def notices():
            return budget.message_ids.filtered(lambda m: "has reached" in (m.body or ""))

        self.completed_costing(8.0)  # 80 %
        self.assertFalse(notices())
        self.completed_costing(1.0)  # 90 %
        self.assertEqual(len(notices()), 1)
        self.assertIn(self.manager.partner_id, notices().partner_ids)
        self.completed_costing(0.5)  # 95 %: nothing new
        self.env["cmms.budget"]._cmms_check_consumption()
        self.assertEqual(len(notices()), 1)
        self.completed_costing(0.5)  # 100 %
        self.assertEqual(len(notices()), 2)
        self.completed_costing(1.0)  # 110 %
        self.env["cmms.budget"]._cmms_check_consumption()
        self.assertEqual(len(notices()), 2)
        self.assertTrue(budget.notified_90 and budget.notified_100)

    def test_budgets_are_for_managers_only(self):
        budget = self.Budget.create(
            {"name": "Year", "date_from": date(2031, 1, 1), "date_to": date(2031, 12, 31),
             "amount": 1000.0}
        )  # fmt: skip
        for user in (self.technician, self.operator, self.supervisor):
            with self.assertRaises(AccessError):
                budget.with_user(user).read(["actual_amount"])
            with self.assertRaises(AccessError):
                self.env["cmms.budget"].with_user(user).create(
                    {"name": "Mine", "date_from": date(2031, 1, 1),
                     "date_to": date(2031, 1, 31), "amount": 1.0}
                )  # fmt: skip
        self.assertEqual(self.env["cmms.budget"].search_count([("name", "=", "Mine")]), 0)

    def test_bad_budgets_are_refused(self):
        with self.assertRaisesMsg(ValidationError, "ends after it starts"):
            self.Budget.create(
                {"name": "Bad", "date_from": date(2031, 2, 1), "date_to": date(2031, 1, 1),
                 "amount": 1.0}
            )  # fmt: skip
        with self.assertRaisesMsg(ValidationError, "cannot be negative"):
            self.Budget.create(
                {"name": "Bad", "date_from": date(2031, 1, 1), "date_to": date(2031, 2, 1),
                 "amount": -1.0}
            )  # fmt: skip
        self.assertEqual(self.env["cmms.budget"].search_count([("name", "=", "Bad")]), 0)
