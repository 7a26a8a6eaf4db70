# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time

import pytz

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

MACHINE_STATUSES = [
    ("running", "Running"),
    ("down", "Down"),
    ("maintenance", "Under maintenance"),
]
# Which CMMS role may set which machine status (server side): operators
# report a machine down; maintenance (technicians, supervisors, managers)
# takes it into maintenance and releases it.
STATUS_ROLES = {
    "down": {"operator", "technician", "supervisor", "manager"},
    "maintenance": {"technician", "supervisor", "manager"},
    "running": {"technician", "supervisor", "manager"},
}
CMMS_ROLE_GROUPS = (
    ("operator", "cmms_parfum.cmms_parfum_group_operator"),
    ("technician", "cmms_parfum.cmms_parfum_group_technician"),
    ("supervisor", "cmms_parfum.cmms_parfum_group_supervisor"),
    ("manager", "cmms_parfum.cmms_parfum_group_manager"),
)


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
    machine_status = fields.Selection(
        MACHINE_STATUSES,
        default="running",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
        copy=False,
        help="Set with the buttons of the machine; a corrective work order in progress on the "
        "machine or one of its components puts it under maintenance.",
    )
    downtime_event_ids = fields.One2many("cmms.downtime.event", "equipment_id", "Downtime")
    downtime_month_hours = fields.Float(
        "Downtime this month",
        compute="_compute_downtime_month_hours",
        help="Hours the machine was not running since the first of the month, overlapping "
        "intervals of every source counted once.",
    )

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

    def _cmms_history_requests(self):
        """Completed work orders of this equipment and its components, newest first."""
        self.ensure_one()
        return self.env["maintenance.request"].search(
            [
                ("equipment_id", "child_of", self.id),
                ("cmms_state", "in", ("done", "closed")),
            ],
            order="completed_at desc, id desc",
        )

    @api.depends("cmms_tag")
    def _compute_display_name(self):
        res = super()._compute_display_name()
        for equipment in self.filtered("cmms_tag"):
            if not (equipment.display_name or "").startswith(equipment.cmms_tag):
                equipment.display_name = f"[{equipment.cmms_tag}] {equipment.display_name}"
        return res

    def _compute_match_serial(self):
        # Odoo counts the stock lots of the serial number: operators, who see
        # no stock, would get an access error on every equipment form.
        if not self.env["stock.lot"].has_access("read"):
            self.match_serial = False
            return
        return super()._compute_match_serial()

    def _compute_downtime_month_hours(self):
        tz = pytz.timezone(self.env.user.tz or "UTC")
        today = fields.Datetime.now().replace(tzinfo=pytz.utc).astimezone(tz)
        month_start = tz.localize(datetime.combine(today.date().replace(day=1), time.min))
        minutes = self.env["cmms.downtime.event"]._net_downtime_minutes(
            month_start.astimezone(pytz.utc).replace(tzinfo=None),
            fields.Datetime.now(),
            equipment_ids=self.ids,
        )
        for equipment in self:
            equipment.downtime_month_hours = minutes.get(equipment.id, 0.0) / 60.0

    @api.model
    def _search_display_name(self, operator, value):
        domain = super()._search_display_name(operator, value)
        if operator in ("ilike", "=ilike", "=", "like") and value:
            return ["|", ("cmms_tag", operator, value), *domain]
        return domain

    def write(self, vals):
        if (
            "machine_status" in vals
            and not self.env.su
            and not self.env.context.get("cmms_machine_status")
        ):
            raise UserError(self.env._("Use the machine's buttons to change its status."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Machine status and downtime
    # ------------------------------------------------------------------
    def action_machine_down(self):
        """Report the machine down (operators and maintenance)."""
        return self._set_machine_status("down")

    def action_machine_maintenance(self):
        return self._set_machine_status("maintenance")

    def action_machine_running(self):
        return self._set_machine_status("running")

    def action_view_downtime(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cmms_parfum.cmms_downtime_event_action"
        )
        action["domain"] = [("equipment_id", "=", self._top_machine().id)]
        action["context"] = {"search_default_this_month": 1}
        return action

    def _top_machine(self):
        """The machine at the top of this equipment's hierarchy."""
        self.ensure_one()
        top = self
        while top.parent_id:
            top = top.parent_id
        return top

    def _check_machine_status_rights(self, status):
        if self.env.su:
            return
        user = self.env.user
        roles = {role for role, group in CMMS_ROLE_GROUPS if user.has_group(group)}
        if roles & STATUS_ROLES[status]:
            return
        # Odoo's equipment managers without a CMMS role keep their rights.
        if not roles and user.has_group("maintenance.group_equipment_manager"):
            return
        label = dict(MACHINE_STATUSES)[status]
        raise AccessError(
            self.env._(
                "You may not set a machine to %(status)s: operators report a machine down, "
                "maintenance puts it under maintenance and back to running.",
                status=label,
            )
        )

    def _set_machine_status(self, status, by_work_order=False):
        """Set ``status``; leaving "running" opens a status interval,
        returning to it closes the machine's open status intervals.

        A change made by a work order (``by_work_order``) opens no status
        interval: the work order's own interval covers that time.
        """
        if not by_work_order:
            self._check_machine_status_rights(status)
            for equipment in self:
                if equipment.parent_id:
                    raise UserError(
                        self.env._(
                            "%(equipment)s is part of %(machine)s: set the status of the machine.",
                            equipment=equipment.display_name,
                            machine=equipment._top_machine().display_name,
                        )
                    )
        Event = self.env["cmms.downtime.event"]
        now = fields.Datetime.now()
        for machine in self.sudo():
            if machine.machine_status == status:
                continue
            open_status = Event.sudo().search(
                [("equipment_id", "=", machine.id), ("source", "=", "status"), ("end", "=", False)]
            )
            machine.with_context(cmms_machine_status=True).write({"machine_status": status})
            if status == "running":
                open_status._close(now)
            elif not by_work_order and not open_status:
                Event._open_interval(machine, "status", start=now)
        return True
