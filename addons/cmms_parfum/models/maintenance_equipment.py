# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

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
    cmms_spare_part_ids = fields.Many2many(
        "product.product",
        string="Spare parts",
        compute="_compute_cmms_spare_part_ids",
        help="Spare parts that fit this equipment or its category.",
    )
    meter_ids = fields.One2many("cmms.meter", "equipment_id", "Meters")

    _sql_constraints = [
        (
            "cmms_tag_company_uniq",
            "unique(cmms_tag, company_id)",
            "The tag must be unique per company.",
        ),
    ]

    def _compute_cmms_spare_part_ids(self):
        Product = self.env["product.product"]
        for equipment in self:
            fits = [("cmms_equipment_ids", "in", equipment._origin.ids)]
            if equipment.category_id:
                fits = [
                    "|",
                    *fits,
                    ("cmms_equipment_category_ids", "in", equipment.category_id.ids),
                ]
            equipment.cmms_spare_part_ids = Product.search(
                [("cmms_is_spare_part", "=", True), *fits]
            )

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

    # ------------------------------------------------------------------
    # Preventive plans (OCA maintenance_plan)
    # ------------------------------------------------------------------
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
