# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time, timedelta
from itertools import pairwise

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .calibration_tools import suggest_interval

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
INSTRUMENT_TYPES = [
    ("pressure", "Pressure"),
    ("temperature", "Temperature"),
    ("flow", "Flow"),
    ("level", "Level"),
    ("other", "Other"),
]
CALIBRATION_GROUPS = (
    "cmms_parfum.cmms_parfum_group_technician,cmms_parfum.cmms_parfum_group_supervisor,"
    "cmms_parfum.cmms_parfum_group_manager"
)
CALIBRATION_STATES = [
    ("ok", "In calibration"),
    ("due_soon", "Due soon"),
    ("overdue", "Overdue"),
]
TOLERANCE_MODES = [
    ("span", "% of span"),
    ("units", "Units"),
]


class MaintenanceEquipment(models.Model):
    _name = "maintenance.equipment"
    _inherit = ["cmms.undeletable.mixin", "maintenance.equipment"]

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
    # The instrument register: tag (above), unit and range are kept here
    # once; the telemetry sensor of the instrument reads them.
    instrument_type = fields.Selection(INSTRUMENT_TYPES, tracking=True)
    measured_variable = fields.Char(
        tracking=True, help="What the instrument measures, e.g. pump discharge pressure."
    )
    instrument_unit = fields.Char("Unit", tracking=True, help="Engineering unit: bar, degC...")
    range_low = fields.Float(
        "Range low", tracking=True, help="Lower end of the calibrated range (4 mA)."
    )
    range_high = fields.Float(
        "Range high",
        default=100.0,
        tracking=True,
        help="Upper end of the calibrated range (20 mA).",
    )
    nominal_value = fields.Float("Nominal value", tracking=True, help="Expected operating point.")
    tolerance_mode = fields.Selection(
        TOLERANCE_MODES,
        "Tolerances in",
        default="span",
        required=True,
        tracking=True,
    )
    adjust_limit = fields.Float(
        tracking=True,
        help="An error beyond this (and within the fail limit) passes but is adjusted.",
    )
    fail_limit = fields.Float(
        tracking=True, help="An error beyond this is out of tolerance: the point fails."
    )
    calibration_interval_days = fields.Integer(
        "Calibration interval (days)",
        tracking=True,
        help="0: the equipment is not under calibration management.",
    )
    # Calibration status (calibration records are read by technicians,
    # supervisors and managers only).
    calibration_ids = fields.One2many(
        "cmms.calibration", "equipment_id", "Calibrations", groups=CALIBRATION_GROUPS
    )
    last_calibration_id = fields.Many2one(
        "cmms.calibration",
        "Last approved calibration",
        compute="_compute_last_calibration_id",
        store=True,
        groups=CALIBRATION_GROUPS,
    )
    last_calibration_at = fields.Datetime(
        "Last calibration",
        compute="_compute_last_calibration_id",
        store=True,
        help="When the instrument was last calibrated (its newest approved record).",
    )
    next_calibration_date = fields.Date(
        "Next calibration due",
        compute="_compute_next_calibration_date",
        store=True,
        readonly=False,
        index="btree_not_null",
        tracking=True,
        help="Last approved calibration + interval. Before the first calibration, the date "
        "a supervisor sets (today by default).",
    )
    calibration_state = fields.Selection(
        CALIBRATION_STATES,
        compute="_compute_calibration_state",
        search="_search_calibration_state",
    )
    calibration_notice_date = fields.Date(
        readonly=True,
        copy=False,
        groups=CALIBRATION_GROUPS,
        help="The due date the supervisors were last told about.",
    )
    calibration_standard_ids = fields.Many2many(
        "cmms.calibration.standard",
        string="Reference standards used",
        compute="_compute_calibration_standard_ids",
        groups=CALIBRATION_GROUPS,
    )
    calibration_review = fields.Boolean(
        "Calibration under review",
        readonly=True,
        copy=False,
        tracking=True,
        groups=CALIBRATION_GROUPS,
        help="A reference standard used on this instrument was found out of tolerance.",
    )
    calibration_review_note = fields.Text(readonly=True, copy=False, groups=CALIBRATION_GROUPS)
    suggested_interval_days = fields.Integer(
        "Suggested interval (days)", readonly=True, copy=False, groups=CALIBRATION_GROUPS
    )
    interval_analysis = fields.Text(readonly=True, copy=False, groups=CALIBRATION_GROUPS)
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

    @api.depends("calibration_ids.state", "calibration_ids.calibration_date")
    def _compute_last_calibration_id(self):
        for equipment in self:
            approved = equipment.sudo().calibration_ids.filtered(lambda c: c.state == "approved")
            last = approved.sorted("calibration_date", reverse=True)[:1]
            equipment.last_calibration_id = last
            equipment.last_calibration_at = last.calibration_date

    def _compute_match_serial(self):
        # Core counts stock.lot, which CMMS technicians and operators may not
        # read: without this they could not open an equipment form.
        return super(MaintenanceEquipment, self.sudo())._compute_match_serial()

    @api.depends("last_calibration_at", "calibration_interval_days")
    def _compute_next_calibration_date(self):
        for equipment in self:
            days = equipment.calibration_interval_days
            if days <= 0:
                equipment.next_calibration_date = False
            elif equipment.last_calibration_at:
                equipment.next_calibration_date = equipment.last_calibration_at.date() + timedelta(
                    days=days
                )
            else:
                equipment.next_calibration_date = (
                    equipment.next_calibration_date or fields.Date.context_today(equipment)
                )

    def _compute_calibration_state(self):
        today = fields.Date.context_today(self)
        for equipment in self:
            due = equipment.next_calibration_date
            notice = (equipment.company_id or self.env.company).cmms_calibration_notice_days
            if not due or equipment.calibration_interval_days <= 0:
                equipment.calibration_state = False
            elif due < today:
                equipment.calibration_state = "overdue"
            elif due <= today + timedelta(days=notice):
                equipment.calibration_state = "due_soon"
            else:
                equipment.calibration_state = "ok"

    def _search_calibration_state(self, operator, value):
        if operator != "=" or value not in dict(CALIBRATION_STATES):
            raise UserError(self.env._("Search the calibration status with = a status."))
        today = fields.Date.context_today(self)
        managed = [("calibration_interval_days", ">", 0), ("next_calibration_date", "!=", False)]
        if value == "overdue":
            return [*managed, ("next_calibration_date", "<", today)]
        soon = today + timedelta(days=self.env.company.cmms_calibration_notice_days)
        if value == "due_soon":
            return [
                *managed,
                ("next_calibration_date", ">=", today),
                ("next_calibration_date", "<=", soon),
            ]
        return [*managed, ("next_calibration_date", ">", soon)]

    def _compute_calibration_standard_ids(self):
        for equipment in self:
            records = equipment.sudo().calibration_ids.filtered(
                lambda c: c.state in ("signed", "approved", "superseded")
            )
            equipment.calibration_standard_ids = records.standard_ids

    @api.constrains(
        "range_low",
        "range_high",
        "adjust_limit",
        "fail_limit",
        "calibration_interval_days",
    )
    def _check_instrument(self):
        for equipment in self:
            name = equipment.cmms_tag or equipment.name
            if equipment.range_low >= equipment.range_high:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the low end of the range must be below the high end.",
                        name=name,
                    )
                )
            if equipment.adjust_limit < 0 or equipment.fail_limit < equipment.adjust_limit:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the limits must satisfy 0 <= adjust limit <= fail limit.",
                        name=name,
                    )
                )
            if equipment.calibration_interval_days < 0:
                raise ValidationError(
                    self.env._("%(name)s: the calibration interval cannot be negative.", name=name)
                )
            if equipment.calibration_interval_days and equipment.fail_limit <= 0:
                raise ValidationError(
                    self.env._(
                        "%(name)s: an instrument under calibration needs a fail limit.", name=name
                    )
                )

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

    def _span(self):
        self.ensure_one()
        return self.range_high - self.range_low

    def _limit_in_units(self, limit):
        """A tolerance limit of this instrument in engineering units."""
        self.ensure_one()
        if self.tolerance_mode == "span":
            return limit / 100.0 * self._span()
        return limit

    # ------------------------------------------------------------------
    # Calibration
    # ------------------------------------------------------------------
    def _check_calibration_user(self, planner=False):
        user = self.env.user
        groups = CALIBRATION_GROUPS.split(",")
        if planner:
            groups = groups[1:]
        if not (self.env.su or any(user.has_group(g) for g in groups)):
            if planner:
                raise AccessError(
                    self.env._("Only supervisors and managers may do this on instruments.")
                )
            raise AccessError(
                self.env._("Only technicians, supervisors and managers work on calibrations.")
            )

    def action_record_calibration(self):
        """The recording dialog, with the instrument's test points."""
        self.ensure_one()
        self._check_calibration_user()
        if self.calibration_interval_days <= 0:
            raise UserError(
                self.env._(
                    "%(name)s is not under calibration: set its calibration interval first.",
                    name=self.display_name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record calibration of %(tag)s", tag=self.cmms_tag or self.name),
            "res_model": "cmms.calibration",
            "view_mode": "form",
            "views": [(self.env.ref("cmms_parfum.cmms_calibration_view_form_dialog").id, "form")],
            "target": "new",
            "context": {"default_equipment_id": self.id},
        }

    def action_view_calibrations(self):
        self.ensure_one()
        self._check_calibration_user()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cmms_parfum.cmms_calibration_action"
        )
        action["domain"] = [("equipment_id", "=", self.id)]
        action["context"] = {"default_equipment_id": self.id}
        return action

    def action_clear_calibration_review(self):
        self._check_calibration_user(planner=True)
        for equipment in self:
            equipment.sudo().write({"calibration_review": False, "calibration_review_note": False})
            equipment.message_post(
                body=self.env._("Calibration review closed by %(user)s.", user=self.env.user.name)
            )
        return True

    def _flag_calibration_review(self, reason):
        for equipment in self:
            note = "\n".join(filter(None, [equipment.calibration_review_note, reason]))
            equipment.write({"calibration_review": True, "calibration_review_note": note})
            equipment.message_post(body=reason, subtype_xmlid="mail.mt_note")

    def _open_calibration_request(self):
        """The open calibration work order of this instrument, if any."""
        self.ensure_one()
        return (
            self.env["maintenance.request"]
            .sudo()
            .search(
                [
                    ("equipment_id", "=", self.id),
                    ("cmms_calibration", "=", True),
                    ("cmms_state", "in", ("requested", "approved", "in_progress", "done")),
                ],
                order="id",
                limit=1,
            )
        )

    def _calibration_request(self):
        """The open calibration work order of this instrument, opened if there is none."""
        self.ensure_one()
        request = self._open_calibration_request()
        if request:
            return request
        priority = "high" if self.criticality in ("high", "critical") else "medium"
        return (
            self.env["maintenance.request"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "%(tag)s: calibration due %(date)s",
                        tag=self.cmms_tag or self.name,
                        date=fields.Date.to_string(self.next_calibration_date),
                    ),
                    "equipment_id": self.id,
                    "maintenance_type": "preventive",
                    "cmms_calibration": True,
                    "cmms_priority": priority,
                    "source": "calibration",
                    "schedule_date": fields.Datetime.now(),
                }
            )
        )

    def _on_calibration_approved(self, calibration):
        """Hook: a calibration of this instrument was approved (telemetry extends it)."""
        self.ensure_one()
        self.sudo().calibration_notice_date = False

    def _calibration_overdue(self, request):
        """Hook: this instrument is overdue; ``request`` is its calibration work order."""
        self.ensure_one()

    @api.model
    def _cron_calibration_due(self):
        """Tell the supervisors about calibrations coming due; give each overdue
        instrument its calibration work order (and, with telemetry, its alert).

        Idempotent: however often it runs, an instrument gets one notice per due
        date, one open calibration work order and one open alert.
        """
        today = fields.Date.context_today(self)
        instruments = self.sudo().search(
            [("calibration_interval_days", ">", 0), ("next_calibration_date", "!=", False)]
        )
        supervisors = self.env.ref("cmms_parfum.cmms_parfum_group_supervisor").users.filtered(
            "active"
        )
        for equipment in instruments:
            due = equipment.next_calibration_date
            company = equipment.company_id or self.env.company
            if due < today:
                equipment._calibration_overdue(equipment._calibration_request())
            if (
                due <= today + timedelta(days=company.cmms_calibration_notice_days)
                and equipment.calibration_notice_date != due
            ):
                partners = supervisors.filtered(lambda u, c=company: c in u.company_ids).partner_id
                equipment.message_post(
                    body=self.env._(
                        "Calibration of %(name)s is due on %(date)s.",
                        name=equipment.display_name,
                        date=fields.Date.to_string(due),
                    ),
                    partner_ids=partners.ids,
                    subtype_xmlid="mail.mt_note",
                )
                equipment.calibration_notice_date = due
        return True

    def _calibration_history(self):
        """(days since the previous calibration, as-found ratio) per approved calibration."""
        self.ensure_one()
        records = (
            self.sudo()
            .calibration_ids.filtered(lambda c: c.state == "approved")
            .sorted("calibration_date")
        )
        return [
            (
                (record.calibration_date - previous.calibration_date).total_seconds() / 86400.0,
                record.as_found_ratio,
            )
            for previous, record in pairwise(records)
        ]

    def _calibration_drift_rate(self):
        """Hook: drift measured by telemetry, in fail limits per day, or None."""
        self.ensure_one()
        return None

    def action_analyse_interval(self):
        """Suggest an interval from the as-found history (see the readme)."""
        self._check_calibration_user()
        for equipment in self:
            history = equipment._calibration_history()
            company = equipment.company_id or self.env.company
            reliability = company.cmms_calibration_reliability / 100.0
            drift = equipment._calibration_drift_rate()
            try:
                result = suggest_interval(
                    history, equipment.calibration_interval_days, reliability, drift
                )
            except ValueError:
                equipment.sudo().write(
                    {
                        "suggested_interval_days": 0,
                        "interval_analysis": self.env._(
                            "Not enough history: the analysis needs three approved calibrations."
                        ),
                    }
                )
                continue
            lines = [
                self.env._(
                    "%(count)s intervals; drift per day (share of the fail limit): %(rates)s.",
                    count=len(result["rates"]),
                    rates=", ".join(f"{rate:.6f}" for rate in result["rates"]),
                ),
                self.env._(
                    "Mean %(mean).6f, standard deviation %(sd).6f; at %(reliability)s %% "
                    "reliability (z = %(z).4f) the drift rate is at most %(rate).6f per day.",
                    mean=result["mean"],
                    sd=result["sd"],
                    reliability=f"{company.cmms_calibration_reliability:g}",
                    z=result["z"],
                    rate=result["rate"],
                ),
            ]
            if drift is not None:
                lines.append(
                    self.env._(
                        "Telemetry measured %(drift).6f per day since the last calibration.",
                        drift=drift,
                    )
                )
            lines.append(
                self.env._(
                    "The error reaches the fail limit after %(days).0f days: suggested "
                    "interval %(suggested)s days (kept between half and twice the current "
                    "%(current)s days).",
                    days=min(result["days_to_limit"], 1e6),
                    suggested=result["suggested"],
                    current=equipment.calibration_interval_days,
                )
            )
            equipment.sudo().write(
                {
                    "suggested_interval_days": result["suggested"],
                    "interval_analysis": "\n".join(lines),
                }
            )
        return True

    def action_apply_suggested_interval(self):
        """A supervisor accepts the suggested interval."""
        self._check_calibration_user(planner=True)
        for equipment in self:
            suggested = equipment.sudo().suggested_interval_days
            if suggested <= 0:
                raise UserError(
                    self.env._(
                        "Analyse the interval of %(name)s first.", name=equipment.display_name
                    )
                )
            old = equipment.calibration_interval_days
            equipment.sudo().write({"calibration_interval_days": suggested})
            equipment.message_post(
                body=self.env._(
                    "Calibration interval changed from %(old)s to %(new)s days (interval "
                    "analysis approved by %(user)s).",
                    old=old,
                    new=suggested,
                    user=self.env.user.name,
                )
            )
        return True

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
