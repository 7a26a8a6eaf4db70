# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTechnicianTour(HttpCase):
    def test_technician_opens_urgent_task_from_my_tasks(self):
        technician = new_test_user(
            self.env, "tour_tech1", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        machine = self.env["maintenance.equipment"].create(
            {"name": "Tour filler", "cmms_tag": "FL-TOUR1", "criticality": "critical"}
        )
        self.env["maintenance.request"].create(
            {
                "name": "Replace the filler nozzle seal",
                "equipment_id": machine.id,
                "user_id": technician.id,
                "cmms_priority": "urgent",
            }
        )
        self.env["maintenance.request"].create(
            {"name": "Someone else's job", "equipment_id": machine.id}
        )
        self.start_tour(
            "/odoo/action-cmms_parfum.maintenance_request_action_my_tasks",
            "cmms_parfum_my_tasks",
            login="tour_tech1",
        )


@tagged("post_install", "-at_install")
class TestWorkOrderTour(HttpCase):
    """Request -> approve and assign -> start -> complete -> verify and close,
    each step by its role in the browser; the technician's on a phone."""

    def test_work_order_from_request_to_close_across_roles(self):
        for login, role in (
            ("tour_op", "operator"),
            ("tour_sup", "supervisor"),
            ("tour_mgr", "manager"),
        ):
            new_test_user(self.env, login, groups=f"cmms_parfum.cmms_parfum_group_{role}")
        new_test_user(self.env, "tour_tech", groups="cmms_parfum.cmms_parfum_group_technician")
        self.env["maintenance.equipment"].create(
            {"name": "Tour filler", "cmms_tag": "FL-TOUR", "criticality": "medium"}
        )
        Request = self.env["maintenance.request"]
        stock = self.env.company._cmms_parts_location()
        oring, seal = self.env["product.product"].create(
            [
                {
                    "name": "Tour O-ring kit",
                    "default_code": "SP-TOUR-ORING",
                    "is_storable": True,
                    "cmms_is_spare_part": True,
                },
                {
                    "name": "Tour seal",
                    "default_code": "SP-TOUR-SEAL",
                    "is_storable": True,
                    "cmms_is_spare_part": True,
                },
            ]
        )
        for part in (oring, seal):
            self.env["stock.quant"]._update_available_quantity(part, stock, 5.0)

        self.start_tour(
            "/odoo/action-cmms_parfum.maintenance_request_action_my_requests",
            "cmms_wo_operator_request",
            login="tour_op",
        )
        request = Request.search([("name", "=", "Tour: filler nozzle drips")])
        self.assertEqual(request.cmms_state, "requested")
        self.assertEqual(request.owner_user_id.login, "tour_op")

        self.start_tour(
            "/odoo/action-cmms_parfum.maintenance_request_action_verification",
            "cmms_wo_supervisor_assign",
            login="tour_sup",
        )
        self.assertEqual(request.cmms_state, "approved")
        self.assertEqual(request.user_id.login, "tour_tech")
        # The supervisor planned the O-rings; the technician adds a seal.
        request.write(
            {"part_line_ids": [Command.create({"product_id": oring.id, "quantity": 2.0})]}
        )

        # The technician works from a phone-sized screen.
        self.browser_size = "390x844"
        self.touch_enabled = True
        try:
            self.start_tour(
                "/odoo/action-cmms_parfum.maintenance_request_action_my_tasks",
                "cmms_wo_technician_phone",
                login="tour_tech",
            )
        finally:
            self.browser_size = HttpCase.browser_size
            self.touch_enabled = False
        self.assertEqual(request.cmms_state, "done")
        self.assertEqual(request.actual_duration, 1.5)
        # The parts left the stock with the completion.
        self.assertEqual(oring.with_context(location=stock.id).qty_available, 3.0)
        self.assertEqual(seal.with_context(location=stock.id).qty_available, 4.0)
        self.assertEqual(request.part_line_ids.move_ids.mapped("state"), ["done", "done"])

        self.start_tour(
            "/odoo/action-cmms_parfum.maintenance_request_action_verification",
            "cmms_wo_manager_close",
            login="tour_mgr",
        )
        self.assertEqual(request.cmms_state, "closed")
        self.assertEqual(request.verified_by_id.login, "tour_mgr")


@tagged("post_install", "-at_install")
class TestKpiDashboardTour(HttpCase):
    def test_manager_dashboard_opens_the_records_behind_a_figure(self):
        new_test_user(self.env, "tour_kpi_mgr", groups="cmms_parfum.cmms_parfum_group_manager")
        machine = self.env["maintenance.equipment"].create(
            {"name": "Dashboard filler", "cmms_tag": "FL-DASH"}
        )
        today = fields.Datetime.now()
        self.env["maintenance.request"].create(
            {
                "name": "Dashboard repair",
                "equipment_id": machine.id,
                "maintenance_type": "corrective",
                "cmms_state": "closed",
                "requested_at": today - timedelta(days=3),
                "completed_at": today - timedelta(days=2),
                "actual_duration": 2.0,
            }
        )
        self.start_tour(
            "/odoo/action-cmms_parfum.cmms_kpi_dashboard_action",
            "cmms_kpi_dashboard",
            login="tour_kpi_mgr",
        )
