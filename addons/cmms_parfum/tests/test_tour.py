# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTechnicianTour(HttpCase):
    def test_technician_opens_urgent_task_from_my_tasks(self):
        technician = new_test_user(
            self.env, "tour_tech", groups="cmms_parfum.cmms_parfum_group_technician"
        )
        machine = self.env["maintenance.equipment"].create(
            {"name": "Tour filler", "cmms_tag": "FL-TOUR", "criticality": "critical"}
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
            login="tour_tech",
        )
