# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

CRITICALITY = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("critical", "Critical"),
]

EQUIPMENT_KINDS = [
    ("machine", "Machine"),
    ("component", "Component"),
    ("instrument", "Instrument"),
    ("utility", "Utility"),
]


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    cmms_tag = fields.Char(
        "Tag",
        index=True,
        copy=False,
        tracking=True,
        help="Plant tag of the asset (PT-101, FLX-104...). Instruments are "
        "found by this tag in telemetry and on AR glasses.",
    )
    cmms_kind = fields.Selection(
        EQUIPMENT_KINDS, "Kind", default="machine", required=True, tracking=True
    )
    criticality = fields.Selection(
        CRITICALITY, default="medium", required=True, tracking=True, index=True
    )
    process_area = fields.Char()
    manufacturer = fields.Char()
    power_kw = fields.Float("Rated power (kW)", digits=(12, 2))
    capacity = fields.Char(help="Nominal capacity, with its unit.")
    commissioning_year = fields.Integer()
    specification = fields.Text(help="Technical specification of the asset.")
    energy_baseline_kwh_per_unit = fields.Float(
        "Energy baseline (kWh per unit)",
        digits=(16, 6),
        tracking=True,
        groups="cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager",
        help="The machine's own energy per unit produced, against which each month's "
        "energy efficiency is compared. Set it by hand or compute it from the previous "
        "12 complete months.",
    )
    energy_kwh_12m = fields.Float(
        "Energy, 12 months (kWh)",
        digits=(16, 0),
        compute="_compute_energy_kwh_12m",
        groups="cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager",
    )
    energy_month_ids = fields.One2many(
        "cmms.energy.report",
        "equipment_id",
        "Energy per month",
        groups="cmms_parfum.cmms_parfum_group_supervisor,cmms_parfum.cmms_parfum_group_manager",
    )

    _sql_constraints = [
        (
            "cmms_tag_company_uniq",
            "unique(cmms_tag, company_id)",
            "The tag must be unique per company.",
        ),
    ]

    def _compute_energy_kwh_12m(self):
        """Energy of the last 12 months and the current one (one grouped query)."""
        since = fields.Date.context_today(self).replace(day=1) - relativedelta(months=12)
        groups = self.env["cmms.energy.report"]._read_group(
            [("equipment_id", "in", self.ids), ("month", ">=", since)],
            ["equipment_id"],
            ["kwh:sum"],
        )
        kwh = {equipment.id: total for equipment, total in groups}
        for equipment in self:
            equipment.energy_kwh_12m = kwh.get(equipment.id, 0.0)

    @api.depends("cmms_tag")
    def _compute_display_name(self):
        res = super()._compute_display_name()
        for equipment in self.filtered("cmms_tag"):
            if not (equipment.display_name or "").startswith(equipment.cmms_tag):
                equipment.display_name = f"[{equipment.cmms_tag}] {equipment.display_name}"
        return res

    @api.model
    def _search_display_name(self, operator, value):
        domain = super()._search_display_name(operator, value)
        if operator in ("ilike", "=ilike", "=", "like") and value:
            return ["|", ("cmms_tag", operator, value), *domain]
        return domain

    def _check_energy_planner(self):
        user = self.env.user
        if not (
            self.env.su
            or user.has_group("cmms_parfum.cmms_parfum_group_supervisor")
            or user.has_group("cmms_parfum.cmms_parfum_group_manager")
        ):
            raise AccessError(
                self.env._("Only supervisors and managers set the energy baseline of a machine.")
            )

    def action_compute_energy_baseline(self):
        """Set the baseline to the kWh per unit of the previous 12 complete months.

        One grouped query over the monthly figures; a machine without produced
        units in those months is refused, and then nothing is written.
        """
        self._check_energy_planner()
        end = fields.Date.context_today(self).replace(day=1)
        start = end - relativedelta(months=12)
        groups = self.env["cmms.energy.report"]._read_group(
            [("equipment_id", "in", self.ids), ("month", ">=", start), ("month", "<", end)],
            ["equipment_id"],
            ["kwh_with_units:sum", "produced_units:sum"],
        )
        ratio = {
            equipment.id: kwh / units for equipment, kwh, units in groups if units and units > 0
        }
        missing = self.filtered(lambda equipment: equipment.id not in ratio)
        if missing:
            raise UserError(
                self.env._(
                    "%(machines)s: no energy reading with produced units between %(start)s "
                    "and %(end)s, so no baseline can be computed. Enter it by hand.",
                    machines=", ".join(missing.mapped("display_name")),
                    start=start,
                    end=end - relativedelta(days=1),
                )
            )
        for equipment in self:
            equipment.energy_baseline_kwh_per_unit = round(ratio[equipment.id], 6)
        return True

    def action_open_energy(self):
        """The machine's energy per month (graph, pivot, list)."""
        self.ensure_one()
        self._check_energy_planner()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cmms_parfum.cmms_energy_report_action"
        )
        action["domain"] = [("equipment_id", "=", self.id)]
        action["display_name"] = self.env._("Energy: %(machine)s", machine=self.display_name)
        return action
