# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Equipment side of preventive plans and meters."""

from odoo import fields, models


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    meter_ids = fields.One2many("cmms.meter", "equipment_id", "Meters")

    def _prepare_request_from_plan(self, maintenance_plan, next_maintenance_date):
        """OCA's request of a plan, as a CMMS work order waiting for approval:
        assigned to the plan's (or the equipment's) technician and scheduled,
        so a supervisor only approves it."""
        vals = super()._prepare_request_from_plan(maintenance_plan, next_maintenance_date)
        user = (
            maintenance_plan.technician_user_id
            or self.technician_user_id
            or self.category_id.technician_user_id
        )
        schedule = maintenance_plan._cmms_schedule_at(next_maintenance_date, user.id)
        vals.update(
            {
                "user_id": user.id,
                "schedule_date": schedule,
                # The response time of planned work runs from its due time.
                "requested_at": schedule,
                "source": "plan",
                "maintenance_type": "preventive",
                "recurring_maintenance": False,
            }
        )
        return vals

    def _create_new_request(self, mtn_plan):
        # Meter-based plans make their requests from meter readings.
        if mtn_plan.trigger_type == "meter":
            return self.env["maintenance.request"]
        return super()._create_new_request(mtn_plan)
