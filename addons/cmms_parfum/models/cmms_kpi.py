# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class CmmsKpi(models.AbstractModel):
    """Maintenance KPIs of a period, for supervisors and managers."""

    _name = "cmms.kpi"
    _description = "Maintenance KPIs"

    @api.model
    def compute_kpis(self, date_from, date_to):
        """MTTR, availability, PM compliance, SLA compliance and cost per WO.

        Over the work orders closed between ``date_from`` and ``date_to``
        (dates, inclusive). Hours are the technicians' actual durations.
        """
        user = self.env.user
        if not (
            user.has_group("cmms_parfum.cmms_parfum_group_supervisor")
            or user.has_group("cmms_parfum.cmms_parfum_group_manager")
        ):
            raise AccessError(self.env._("Only supervisors and managers read KPIs."))
        try:
            first, last = fields.Date.to_date(date_from), fields.Date.to_date(date_to)
        except (TypeError, ValueError):
            first = last = None
        if not (first and last):
            raise UserError(self.env._("Give the period as two dates (YYYY-MM-DD)."))
        start = datetime.combine(first, time.min)
        end = datetime.combine(last, time.max)
        Request = self.env["maintenance.request"]
        closed = Request.search(
            [("cmms_state", "=", "closed"), ("closed_at", ">=", start), ("closed_at", "<=", end)]
        )
        corrective = closed.filtered(lambda r: r.maintenance_type == "corrective")
        preventive_due = Request.search(
            [
                ("maintenance_type", "=", "preventive"),
                ("schedule_date", ">=", start),
                ("schedule_date", "<=", end),
                ("cmms_state", "!=", "cancelled"),
            ]
        )
        preventive_on_time = preventive_due.filtered(
            lambda r: r.completed_at
            and r.completed_at <= r.schedule_date.replace(hour=23, minute=59)
        )
        period_hours = max((end - start).total_seconds() / 3600.0, 1.0)
        equipment = closed.equipment_id
        downtime = sum(corrective.mapped("actual_duration"))
        possible = period_hours * max(len(equipment), 1)
        with_sla = closed.filtered("sla_deadline")
        return {
            "work_orders_closed": len(closed),
            "mttr_hours": round(downtime / len(corrective), 2) if corrective else 0.0,
            "availability_pct": round(100.0 * (1 - downtime / possible), 2) if equipment else 100.0,
            "pm_compliance_pct": round(100.0 * len(preventive_on_time) / len(preventive_due), 2)
            if preventive_due
            else 100.0,
            "sla_compliance_pct": round(
                100.0 * len(with_sla.filtered(lambda r: not r.sla_breached)) / len(with_sla), 2
            )
            if with_sla
            else 100.0,
            "cost_per_work_order": round(sum(closed.mapped("total_cost")) / len(closed), 2)
            if closed
            else 0.0,
        }
