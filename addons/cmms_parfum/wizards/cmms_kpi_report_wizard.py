# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

KPI_ROWS = [
    # (key, label, unit)
    ("work_orders_completed", _lt("Work orders completed"), ""),
    ("mttr_hours", _lt("MTTR"), "h"),
    ("mtbf_hours", _lt("MTBF"), "h"),
    ("availability_pct", _lt("Availability"), "%"),
    ("downtime_hours", _lt("Downtime"), "h"),
    ("failures", _lt("Failures"), ""),
    ("pm_compliance_pct", _lt("PM compliance"), "%"),
    ("schedule_compliance_pct", _lt("Schedule compliance"), "%"),
    ("backlog_count", _lt("Backlog (open work orders)"), ""),
    ("backlog_age_days", _lt("Backlog average age"), "days"),
    ("cost_total", _lt("Maintenance cost"), ""),
    ("cost_per_work_order", _lt("Cost per work order"), ""),
    ("budget_consumed_pct", _lt("Cost against budget"), "%"),
    ("sla_compliance_pct", _lt("SLA compliance"), "%"),
    ("energy_per_unit", _lt("Energy per unit produced"), "kWh"),
]


class CmmsKpiReportWizard(models.TransientModel):
    """Chooses the period of the monthly KPI summary or the PM compliance report."""

    _name = "cmms.kpi.report.wizard"
    _description = "Maintenance KPI report"

    def _default_from(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    def _default_to(self):
        return fields.Date.context_today(self).replace(day=1) - timedelta(days=1)

    date_from = fields.Date(required=True, default=_default_from)
    date_to = fields.Date(required=True, default=_default_to)
    process_area = fields.Char("Plant area", help="Empty: the whole plant.")
    report = fields.Selection(
        [("kpi", "Monthly KPI summary"), ("pm", "PM compliance")],
        required=True,
        default="kpi",
    )

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_to < wizard.date_from:
                raise UserError(self.env._("The period ends before it starts."))

    def action_print(self):
        self.ensure_one()
        self.env["cmms.kpi"]._check_kpi_reader()
        xmlid = {
            "kpi": "cmms_parfum.action_report_kpi_summary",
            "pm": "cmms_parfum.action_report_pm_compliance",
        }[self.report]
        return self.env.ref(xmlid).report_action(self)

    # -- report data ---------------------------------------------------------
    def _kpi_data(self):
        self.ensure_one()
        return self.env["cmms.kpi"].compute_kpis(
            self.date_from, self.date_to, groupby="machine", process_area=self.process_area or None
        )

    def _kpi_rows(self):
        lang = self.env.lang or "en_US"
        return [(key, label._translate(lang), unit) for key, label, unit in KPI_ROWS]

    def _pm_requests(self):
        """Preventive work orders due in the period, with whether each was on time."""
        self.ensure_one()
        self.env["cmms.kpi"]._check_kpi_reader()
        _first, _last, start, end = self.env["cmms.kpi"]._period_bounds(
            self.date_from, self.date_to
        )
        domain = [
            ("maintenance_type", "=", "preventive"),
            ("schedule_date", ">=", start),
            ("schedule_date", "<", end),
            ("cmms_state", "!=", "cancelled"),
        ]
        if self.process_area:
            domain.append(("equipment_id.process_area", "=", self.process_area))
        grace = timedelta(days=self.env.company.cmms_pm_grace_days or 0.0)
        requests = self.env["maintenance.request"].search(domain, order="schedule_date, id")
        return [
            (
                request,
                bool(
                    request.completed_at and request.completed_at <= request.schedule_date + grace
                ),
            )
            for request in requests
        ]
