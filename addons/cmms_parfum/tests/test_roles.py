# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError

from .common import CmmsCommon, image_b64


class TestRoles(CmmsCommon):
    def test_who_may_request_a_work_order(self):
        for user in (self.operator, self.supervisor, self.manager):
            request = self.Request.with_user(user).create(
                {"name": f"Request of {user.login}", "equipment_id": self.machine.id}
            )
            self.assertEqual(request.cmms_state, "requested")
        with self.assertRaises(AccessError):
            self.Request.with_user(self.technician).create(
                {"name": "Technician's own idea", "equipment_id": self.machine.id}
            )

    def test_a_new_request_always_starts_requested(self):
        request = self.Request.with_user(self.operator).create(
            {
                "name": "Sneaky",
                "equipment_id": self.machine.id,
                "cmms_state": "closed",
                "stage_id": self.env.ref("maintenance.stage_3").id,
            }
        )
        self.assertEqual(request.cmms_state, "requested")
        self.assertEqual(request.stage_id, self.env.ref("maintenance.stage_0"))

    def test_who_sees_which_work_orders(self):
        own = self.request_as_operator()
        other = self.Request.with_user(self.operator2).create(
            {"name": "Other operator", "equipment_id": self.machine.id}
        )
        # Following a request does not widen what an operator sees.
        other.message_subscribe(partner_ids=self.operator.partner_id.ids)
        seen = self.Request.with_user(self.operator).search([])
        self.assertIn(own, seen)
        self.assertNotIn(other, seen)
        with self.assertRaises(AccessError):
            other.with_user(self.operator).read(["name"])
        assigned = self.approved()
        self.assertEqual(self.Request.with_user(self.technician).search([]), assigned)
        self.assertFalse(self.Request.with_user(self.technician2).search([]))
        # Reassigned away: the former technician no longer sees it, even as a follower.
        assigned.sudo().user_id = self.technician2
        self.assertFalse(self.Request.with_user(self.technician).search([]))
        for user in (self.supervisor, self.manager):
            self.assertEqual(
                self.Request.with_user(user).search([("id", "in", (own | other).ids)]), own | other
            )

    def test_every_role_sees_equipment_only_planners_edit(self):
        Equipment = self.env["maintenance.equipment"]
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            self.assertIn(self.machine, Equipment.with_user(user).search([]))
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                Equipment.with_user(user).create({"name": "Nope"})
            with self.assertRaises(AccessError):
                self.machine.with_user(user).write({"criticality": "low"})
        for user in (self.supervisor, self.manager):
            self.assertTrue(Equipment.with_user(user).create({"name": f"Pump of {user.login}"}))

    def test_budgets_for_managers_only(self):
        vals = {
            "name": "2026",
            "date_from": "2026-01-01",
            "date_to": "2026-12-31",
            "amount": 150000.0,
        }
        budget = self.env["cmms.budget"].with_user(self.manager).create(vals)
        self.assertEqual(budget.amount, 150000.0)
        for user in (self.operator, self.technician, self.supervisor):
            with self.assertRaises(AccessError):
                self.env["cmms.budget"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["cmms.budget"].with_user(user).create(vals)
        with self.assertRaises(ValidationError):
            budget.write({"date_to": "2025-01-01"})

    def test_equipment_found_by_tag(self):
        found = self.env["maintenance.equipment"].name_search("FL-T1")
        self.assertEqual([r[0] for r in found], [self.machine.id])
        self.assertIn("FL-T1", self.machine.display_name)


class TestUserRegistration(CmmsCommon):
    def _register(self, user, **vals):
        wizard = (
            self.env["cmms.user.register"]
            .with_user(user)
            .create({"name": "New Tech", "login": "new_tech", "role": "technician", **vals})
        )
        return wizard.action_register()

    def test_supervisor_and_manager_register_one_cmms_role(self):
        for registrar, login in ((self.supervisor, "reg_sup"), (self.manager, "reg_mgr")):
            action = self._register(registrar, login=login, password="s3cret-pass")
            user = self.env["res.users"].browse(action["res_id"])
            self.assertEqual(user.cmms_role, "technician")
            self.assertEqual(
                user.action_id.id,
                self.env.ref("cmms_parfum.maintenance_request_action_my_tasks").id,
            )
            self.assertTrue(user.has_group("base.group_user"))
            self.assertFalse(user.has_group("base.group_system"))
            self.assertFalse(user.has_group("base.group_erp_manager"))
            self.assertFalse(user.has_group("maintenance.group_equipment_manager"))

    def test_others_cannot_register(self):
        for user in (self.operator, self.technician):
            with self.assertRaises(AccessError):
                self._register(user)

    def test_no_path_to_administration(self):
        wizard = self.env["cmms.user.register"].with_user(self.manager)
        with self.assertRaises(ValueError):
            wizard.create({"name": "X", "login": "x_admin", "role": "admin"}).action_register()
        # A registrar cannot hand out groups through res.users either.
        with self.assertRaises(AccessError):
            self.env["res.users"].with_user(self.manager).create(
                {
                    "name": "Root",
                    "login": "root2",
                    "groups_id": [fields.Command.set([self.env.ref("base.group_system").id])],
                }
            )
        with self.assertRaises(AccessError):
            self.technician.with_user(self.supervisor).write(
                {"groups_id": [fields.Command.link(self.env.ref("base.group_system").id)]}
            )
        with self.assertRaises(UserError):
            self._register(self.manager, login=self.technician.login)

    def test_deactivate_keeps_history(self):
        request = self.request_as_operator()
        self.operator.with_user(self.supervisor).action_cmms_deactivate()
        self.assertFalse(self.operator.active)
        self.assertEqual(request.owner_user_id, self.operator)
        self.assertTrue(request.exists())
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(AccessError):
            admin.with_user(self.manager).action_cmms_deactivate()
        with self.assertRaises(AccessError):
            self.technician.with_user(self.technician2).action_cmms_deactivate()


class TestPhotos(CmmsCommon):
    def _photo(self, image, user=None, request=None):
        request = request or self.request_as_operator()
        return (
            self.env["cmms.request.photo"]
            .with_user(user or self.operator)
            .create(
                {"request_id": request.id, "stage": "request", "image": image, "filename": "x.png"}
            )
        )

    def test_png_jpeg_gif_accepted_by_content(self):
        for fmt in ("PNG", "JPEG", "GIF"):
            photo = self._photo(image_b64(fmt))
            self.assertEqual(photo.image_format, fmt)

    def test_other_content_refused_whatever_the_name(self):
        request = self.request_as_operator()
        before = self.env["cmms.request.photo"].search_count([])
        for data in (
            base64.b64encode(b"%PDF-1.4 not an image"),
            base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            image_b64("BMP"),
            base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # damaged PNG
            b"***not base64***",
        ):
            with self.assertRaises(ValidationError):
                self._photo(data, request=request)
        self.assertEqual(self.env["cmms.request.photo"].search_count([]), before)

    def test_size_limit_16_mb(self):
        big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (16 * 1024 * 1024)
        with self.assertRaises(ValidationError) as caught:
            self._photo(base64.b64encode(big))
        self.assertIn("16 MB", str(caught.exception))

    def test_who_may_add_photos(self):
        request = self.request_as_operator()
        self._photo(image_b64(), user=self.operator, request=request)
        other = self.Request.with_user(self.operator2).create(
            {"name": "Other", "equipment_id": self.machine.id}
        )
        with self.assertRaises(AccessError):
            self._photo(image_b64(), user=self.operator, request=other)
        with self.assertRaises(AccessError, msg="not assigned to this technician"):
            self._photo(image_b64(), user=self.technician, request=request)


class TestSpareParts(CmmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create(
            {"name": "Seal kit", "is_storable": True, "default_code": "SP-T1"}
        )
        cls.stock = cls.env.ref("stock.stock_location_stock")
        cls.env["stock.quant"]._update_available_quantity(cls.product, cls.stock, 10.0)
        cls.quant = cls.env["stock.quant"].search([("product_id", "=", cls.product.id)])

    def test_operators_do_not_see_stock_records(self):
        Quant = self.env["stock.quant"]
        self.assertFalse(
            Quant.with_user(self.operator).search([("product_id", "=", self.product.id)])
        )
        with self.assertRaises(AccessError):
            self.quant.with_user(self.operator).read(["quantity"])
        for user in (self.technician, self.supervisor, self.manager):
            self.assertEqual(
                Quant.with_user(user).search([("product_id", "=", self.product.id)]), self.quant
            )
            self.assertEqual(self.quant.with_user(user).quantity, 10.0)

    def test_only_supervisors_adjust_stock(self):
        for user in (self.technician, self.manager):
            quant = self.quant.with_user(user).with_context(inventory_mode=True)
            with self.assertRaises(AccessError, msg=user.login):
                quant.inventory_quantity = 4.0
                quant.action_apply_inventory()
        quant = self.quant.with_user(self.supervisor).with_context(inventory_mode=True)
        quant.inventory_quantity = 4.0
        quant.action_apply_inventory()
        self.assertEqual(self.quant.quantity, 4.0)
