# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import mute_logger

from .common import CmmsCommon


class SparePartsCommon(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.stock = cls.company._cmms_parts_location()
        cls.warehouse = cls.stock.warehouse_id
        cls.seal = cls._spare_part("Filler seal 40 mm", "SP-T-SEAL", 12.0, qty=5.0)
        cls.blade = cls._spare_part("Slotter blade", "SP-T-BLADE", 300.0, qty=1.0)
        cls.seal.cmms_equipment_ids = cls.machine

    @classmethod
    def _spare_part(cls, name, code, cost, qty=0.0):
        product = cls.env["product.product"].create(
            {
                "name": name,
                "default_code": code,
                "is_storable": True,
                "cmms_is_spare_part": True,
                "standard_price": cost,
            }
        )
        if qty:
            cls.env["stock.quant"]._update_available_quantity(product, cls.stock, qty)
        return product

    def on_hand(self, product):
        return product.with_context(location=self.stock.id).qty_available

    def in_progress_with_parts(self, *parts, equipment=None):
        request = self.in_progress(equipment)
        request.with_user(self.technician).write(
            {
                "part_line_ids": [
                    Command.create({"product_id": product.id, "quantity": qty})
                    for product, qty in parts
                ]
            }
        )
        return request

    def assertRaisesMsg(self, exception, regex):
        """assertRaises (which rolls back to a savepoint) with a message check."""
        test = self

        class Check:
            def __enter__(self):
                self.cm = test.assertRaises(exception)
                self.caught = self.cm.__enter__()
                return self.caught

            def __exit__(self, *exc):
                result = self.cm.__exit__(*exc)
                test.assertRegex(str(self.caught.exception), regex)
                return result

        return Check()

    def complete_as_technician(self, request):
        as_tech = request.with_user(self.technician)
        as_tech.write({"completion_note": "Seal replaced.", "actual_duration": 2.0})
        as_tech.action_complete()


class TestSpareParts(SparePartsCommon):
    def test_technician_sees_availability_before_starting(self):
        request = self.approved()
        request.with_user(self.supervisor).write(
            {"part_line_ids": [Command.create({"product_id": self.seal.id, "quantity": 2})]}
        )
        line = request.with_user(self.technician).part_line_ids
        self.assertEqual(line.qty_available, 5.0)
        self.assertEqual(line.name, "Filler seal 40 mm")
        self.assertEqual(line.part_number, "SP-T-SEAL")
        self.assertEqual(line.qty_consumed, 0.0, "nothing leaves stock before completion")
        self.assertEqual(self.on_hand(self.seal), 5.0)

    def test_completion_consumes_by_validated_moves_pointing_to_the_work_order(self):
        request = self.in_progress_with_parts((self.seal, 2.0))
        self.complete_as_technician(request)
        self.assertEqual(request.cmms_state, "done")
        self.assertEqual(self.on_hand(self.seal), 3.0)
        move = request.part_line_ids.sudo().move_ids
        self.assertEqual(move.state, "done")
        self.assertEqual(move.quantity, 2.0)
        self.assertEqual(move.location_id, self.stock)
        self.assertEqual(move.location_dest_id, self.warehouse.wh_cons_loc_id)
        self.assertEqual(move.maintenance_request_id, request)
        self.assertEqual(move.maintenance_equipment_id, self.machine)
        self.assertEqual(move.picking_id.picking_type_id, self.warehouse.cons_type_id)
        self.assertEqual(move.create_uid, self.technician, "the technician's move")
        self.assertEqual(request.part_line_ids.qty_consumed, 2.0)

    def test_shortage_is_refused_and_nothing_is_written(self):
        request = self.in_progress_with_parts((self.seal, 1.0), (self.blade, 3.0))
        moves_before = self.env["stock.move"].search_count([])
        with self.assertRaisesMsg(
            UserError, r"Not enough spare parts.*Slotter blade: 3.0 needed, 1.0 on hand"
        ):
            self.complete_as_technician(request)
        self.assertEqual(request.cmms_state, "in_progress")
        self.assertEqual(self.env["stock.move"].search_count([]), moves_before)
        self.assertEqual(self.on_hand(self.seal), 5.0)
        self.assertEqual(self.on_hand(self.blade), 1.0)

    def test_shortage_allowed_when_the_company_allows_negative_stock(self):
        self.company.cmms_allow_negative_stock = True
        request = self.in_progress_with_parts((self.blade, 3.0))
        self.complete_as_technician(request)
        self.assertEqual(request.cmms_state, "done")
        self.assertEqual(self.on_hand(self.blade), -2.0)

    def test_cancelled_work_order_consumes_nothing(self):
        request = self.in_progress_with_parts((self.seal, 2.0))
        request.with_user(self.supervisor).action_cancel(reason="Machine sold")
        self.assertFalse(request.part_line_ids.sudo().move_ids)
        self.assertEqual(self.on_hand(self.seal), 5.0)
        # Completed, then cancelled at verification: the parts go back.
        request = self.in_progress_with_parts((self.seal, 2.0))
        self.complete_as_technician(request)
        self.assertEqual(self.on_hand(self.seal), 3.0)
        request.with_user(self.supervisor).action_cancel(reason="Wrong machine booked")
        self.assertEqual(self.on_hand(self.seal), 5.0)
        self.assertEqual(request.part_line_ids.qty_consumed, 0.0)
        self.assertEqual(request.sudo().parts_cost, 0.0)

    def test_rejected_and_completed_again_consumes_once(self):
        request = self.in_progress_with_parts((self.seal, 2.0))
        self.complete_as_technician(request)
        request.with_user(self.supervisor).action_reject(reason="Seal still leaks")
        # One more seal was needed.
        request.part_line_ids.with_user(self.technician).quantity = 3.0
        request.with_user(self.technician).action_complete()
        self.assertEqual(self.on_hand(self.seal), 2.0)
        self.assertEqual(request.part_line_ids.qty_consumed, 3.0)
        self.assertEqual(len(request.part_line_ids.sudo().move_ids), 2)

    def test_unused_parts_are_returned(self):
        request = self.in_progress_with_parts((self.seal, 3.0))
        self.complete_as_technician(request)
        action = request.with_user(self.technician).action_cmms_return_parts()
        wizard = (
            self.env["cmms.part.return.wizard"]
            .with_user(self.technician)
            .with_context(**action["context"])
            .create({})
        )
        self.assertEqual(wizard.line_ids.consumed, 3.0)
        wizard.line_ids.quantity = 5.0
        with self.assertRaisesMsg(UserError, "at most 3.0 can be returned"):
            wizard.action_confirm()
        self.assertEqual(self.on_hand(self.seal), 2.0)
        wizard.line_ids.quantity = 1.0
        wizard.action_confirm()
        self.assertEqual(self.on_hand(self.seal), 3.0)
        line = request.part_line_ids
        self.assertEqual(line.qty_consumed, 2.0)
        self.assertEqual(line.quantity_returned, 1.0)
        self.assertEqual(line.sudo().cost, 24.0, "2 seals at 12.0 after the return")
        back = line.sudo().move_ids.filtered(lambda m: m.location_dest_id == self.stock)
        self.assertEqual(back.maintenance_request_id, request)

    def test_return_refused_to_another_technician_and_operators(self):
        request = self.in_progress_with_parts((self.seal, 1.0))
        self.complete_as_technician(request)
        for user in (self.technician2, self.operator):
            with self.assertRaises(AccessError):
                request.with_user(user).action_cmms_return_parts()

    def test_bad_quantities_are_refused(self):
        request = self.in_progress()
        as_tech = request.with_user(self.technician)
        for qty in (0, -2):
            with self.assertRaisesMsg(ValidationError, "quantity must be positive"):
                as_tech.write(
                    {
                        "part_line_ids": [
                            Command.create({"product_id": self.seal.id, "quantity": qty})
                        ]
                    }
                )
        with self.assertRaises(ValueError), mute_logger("odoo.sql_db"):
            as_tech.write(
                {"part_line_ids": [Command.create({"product_id": self.seal.id, "quantity": "two"})]}
            )
        self.assertFalse(request.part_line_ids)

    def test_part_of_another_company_is_refused(self):
        other = self.env["res.company"].create({"name": "Other plant"})
        foreign = self.env["product.product"].create(
            {
                "name": "Foreign seal",
                "is_storable": True,
                "cmms_is_spare_part": True,
                "company_id": other.id,
            }
        )
        request = self.in_progress()
        with self.assertRaises(UserError):
            request.with_user(self.technician).write(
                {"part_line_ids": [Command.create({"product_id": foreign.id, "quantity": 1})]}
            )
        self.assertFalse(request.part_line_ids)

    def test_only_spare_parts_go_on_a_work_order(self):
        product = self.env["product.product"].create({"name": "Office chair", "is_storable": True})
        request = self.in_progress()
        with self.assertRaisesMsg(ValidationError, "is not a spare part"):
            request.with_user(self.technician).write(
                {"part_line_ids": [Command.create({"product_id": product.id, "quantity": 1})]}
            )

    def test_non_stock_item_keeps_its_description_and_cost(self):
        request = self.in_progress()
        request.with_user(self.technician).write(
            {"part_line_ids": [Command.create({"name": "Cable ties", "quantity": 10})]}
        )
        request.part_line_ids.with_user(self.supervisor).unit_cost = 0.5
        self.complete_as_technician(request)
        self.assertEqual(request.sudo().parts_cost, 5.0)
        self.assertFalse(request.part_line_ids.sudo().move_ids)

    def test_equipment_lists_its_spare_parts_with_stock(self):
        category = self.env["maintenance.equipment.category"].create({"name": "Fillers"})
        self.machine.category_id = category
        self.blade.cmms_equipment_category_ids = category
        parts = self.machine.with_user(self.technician).cmms_spare_part_ids
        self.assertEqual(parts, self.seal | self.blade)
        self.assertEqual(
            {p.default_code: p.qty_available for p in parts}, {"SP-T-SEAL": 5.0, "SP-T-BLADE": 1.0}
        )
        self.assertFalse(self.critical_machine.cmms_spare_part_ids)


class TestLowStock(SparePartsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": cls.seal.id,
                "warehouse_id": cls.warehouse.id,
                "location_id": cls.stock.id,
                "product_min_qty": 3.0,
                "product_max_qty": 10.0,
            }
        )

    def low_messages(self):
        return self.seal.product_tmpl_id.message_ids.filtered(
            lambda m: "Low stock" in (m.body or "")
        )

    def test_supervisors_notified_once_per_crossing(self):
        request = self.in_progress_with_parts((self.seal, 3.0))
        self.complete_as_technician(request)
        self.assertEqual(self.on_hand(self.seal), 2.0)
        messages = self.low_messages()
        self.assertEqual(len(messages), 1)
        self.assertIn(self.supervisor.partner_id, messages.partner_ids)
        self.assertTrue(self.rule.cmms_low_notified)
        # Still low: a second consumption notifies nobody.
        request = self.in_progress_with_parts((self.seal, 1.0))
        self.complete_as_technician(request)
        self.assertEqual(len(self.low_messages()), 1)
        # Restocking re-arms; the next fall notifies again.
        quant = self.env["stock.quant"].with_user(self.supervisor).with_context(inventory_mode=True)
        quant.create(
            {"product_id": self.seal.id, "location_id": self.stock.id, "inventory_quantity": 6.0}
        ).action_apply_inventory()
        self.assertFalse(self.rule.cmms_low_notified)
        request = self.in_progress_with_parts((self.seal, 4.0))
        self.complete_as_technician(request)
        self.assertEqual(len(self.low_messages()), 2)

    def test_stock_adjusted_by_supervisors_only(self):
        quant = self.env["stock.quant"].with_context(inventory_mode=True)
        for user in (self.technician, self.operator, self.manager):
            with self.assertRaises(AccessError):
                quant.with_user(user).create(
                    {
                        "product_id": self.seal.id,
                        "location_id": self.stock.id,
                        "inventory_quantity": 50.0,
                    }
                ).action_apply_inventory()
        self.assertEqual(self.on_hand(self.seal), 5.0)
        self.assertFalse(
            self.env["stock.quant"]
            .with_user(self.operator)
            .search([("product_id", "=", self.seal.id)]),
            "operators see no stock",
        )

    def test_supervisor_sets_minimum_quantities(self):
        rule = (
            self.env["stock.warehouse.orderpoint"]
            .with_user(self.supervisor)
            .create(
                {
                    "product_id": self.blade.id,
                    "warehouse_id": self.warehouse.id,
                    "location_id": self.stock.id,
                    "product_min_qty": 2.0,
                    "product_max_qty": 4.0,
                }
            )
        )
        self.assertEqual(rule.product_min_qty, 2.0)
        with self.assertRaises(AccessError):
            self.env["stock.warehouse.orderpoint"].with_user(self.technician).create(
                {"product_id": self.blade.id, "location_id": self.stock.id}
            )
