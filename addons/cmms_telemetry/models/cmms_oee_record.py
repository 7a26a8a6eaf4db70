# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from . import ingest_validation as ingest
from .telemetry_tools import OEE_STATUSES, get_param, oee_values

SOURCES = [("manual", "Manual entry"), ("connector", "Telemetry connector")]
OEE_INPUTS = (
    "planned_min",
    "run_min",
    "downtime_min",
    "produced",
    "good",
    "rejected",
    "design_speed",
    "actual_speed",
)
OEE_RESULTS = ("availability", "performance", "quality", "oee", "status")


class CmmsOeeRecord(models.Model):
    """Overall equipment effectiveness of one machine over one shift or period.

    The inputs come from the connector or from a supervisor's form; the
    formula lives here and only here (percentages):

    * availability = run / (run + downtime), or run / planned time when the
      setting ``cmms_telemetry.oee_availability_basis`` is ``planned``;
    * performance = actual speed / design speed;
    * quality = good / produced;
    * OEE = A x P x Q; status FAULT below 60 %, WARNING up to 75 %,
      NORMAL above (``cmms_telemetry.oee_fault_below`` and
      ``cmms_telemetry.oee_warning_below``).
    """

    _name = "cmms.oee.record"
    _description = "OEE record"
    _inherit = ["cmms.undeletable.mixin", "mail.thread"]
    _order = "period_start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Machine",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    shift = fields.Char(size=16, help="Shift label, e.g. A, B or C.")
    period_start = fields.Datetime(required=True, index=True, tracking=True)
    period_end = fields.Datetime(required=True, tracking=True)
    source = fields.Selection(SOURCES, default="manual", required=True, readonly=True)
    planned_min = fields.Float(
        "Planned time (min)",
        compute="_compute_planned_min",
        store=True,
        readonly=False,
        tracking=True,
        help="Defaults to the length of the period.",
    )
    run_min = fields.Float("Run time (min)", tracking=True)
    downtime_min = fields.Float("Downtime (min)", tracking=True)
    produced = fields.Integer("Produced units", tracking=True)
    good = fields.Integer("Good units", tracking=True)
    rejected = fields.Integer("Rejected units", tracking=True)
    design_speed = fields.Float("Design speed (units/min)", tracking=True)
    actual_speed = fields.Float("Actual speed (units/min)", tracking=True)
    availability = fields.Float(
        "Availability (%)", digits=(5, 2), compute="_compute_oee", store=True, aggregator="avg"
    )
    performance = fields.Float(
        "Performance (%)", digits=(5, 2), compute="_compute_oee", store=True, aggregator="avg"
    )
    quality = fields.Float(
        "Quality (%)", digits=(5, 2), compute="_compute_oee", store=True, aggregator="avg"
    )
    oee = fields.Float(
        "OEE (%)", digits=(5, 2), compute="_compute_oee", store=True, aggregator="avg"
    )
    status = fields.Selection(OEE_STATUSES, compute="_compute_oee", store=True, index=True)
    is_running = fields.Boolean(
        "Running shift",
        readonly=True,
        copy=False,
        index=True,
        help="A provisional record of a shift still in progress: the connector replaces its "
        "figures every few minutes until the shift closes.",
    )
    note = fields.Text()

    # One record per machine and start: a shift reported again (the running
    # shift every few minutes, then its close) replaces its record, so KPIs,
    # the fishbone and the trends never count a shift twice.
    _sql_constraints = [
        (
            "machine_period_uniq",
            "unique(equipment_id, period_start)",
            "There is already an OEE record for this machine starting at this time.",
        ),
    ]

    @api.depends("equipment_id.cmms_tag", "equipment_id.name", "period_start", "shift")
    def _compute_name(self):
        for record in self:
            tag = record.equipment_id.cmms_tag or record.equipment_id.name or ""
            start = record.period_start and fields.Datetime.to_string(record.period_start)[:16]
            shift = f" ({record.shift})" if record.shift else ""
            record.name = f"{tag} {start or ''}{shift}".strip()

    @api.depends("period_start", "period_end")
    def _compute_planned_min(self):
        for record in self:
            start, end = record.period_start, record.period_end
            if start and end and end > start:
                record.planned_min = (end - start).total_seconds() / 60
            else:
                record.planned_min = 0.0

    @api.depends(*OEE_INPUTS)
    def _compute_oee(self):
        basis = get_param(self.env, "oee_availability_basis")
        fault_below = get_param(self.env, "oee_fault_below")
        warning_below = get_param(self.env, "oee_warning_below")
        for record in self:
            values = self._oee_values(
                {name: record[name] for name in OEE_INPUTS}, basis, fault_below, warning_below
            )
            for name in OEE_RESULTS:
                record[name] = values[name]

    @api.model
    def _oee_values(self, inputs, basis, fault_below, warning_below):
        """Availability, performance, quality (%), OEE (%) and status of the inputs."""
        return oee_values(inputs, basis, fault_below, warning_below)

    @api.constrains("period_start", "period_end", *OEE_INPUTS)
    def _check_inputs(self):
        for record in self:
            if record.period_end <= record.period_start:
                raise ValidationError(
                    self.env._("%(name)s: the period must end after it starts.", name=record.name)
                )
            if min(record[name] for name in OEE_INPUTS) < 0:
                raise ValidationError(
                    self.env._(
                        "%(name)s: times, counts and speeds cannot be negative.", name=record.name
                    )
                )
            if record.good + record.rejected > record.produced:
                raise ValidationError(
                    self.env._(
                        "%(name)s: good and rejected units (%(good)s + %(rejected)s) exceed the "
                        "produced units (%(produced)s).",
                        name=record.name,
                        good=record.good,
                        rejected=record.rejected,
                        produced=record.produced,
                    )
                )
            if record.planned_min > 0 and record.run_min > record.planned_min:
                raise ValidationError(
                    self.env._("%(name)s: the run time exceeds the planned time.", name=record.name)
                )

    @api.model
    def _recompute_all(self):
        """Recompute every record after the OEE settings changed."""
        records = self.sudo().with_context(active_test=False).search([])
        for name in OEE_RESULTS:
            self.env.add_to_compute(self._fields[name], records)
        records.flush_recordset()

    def _connector_reply(self):
        """The computed values the ingestion reply carries back."""
        self.ensure_one()
        return {
            "availability": round(self.availability, 4),
            "performance": round(self.performance, 4),
            "quality": round(self.quality, 4),
            "oee": round(self.oee, 4),
            "status": self.status.upper(),
            "running": self.is_running,
        }

    def _cmms_unlink_way_out(self):
        return self.env._("correct its figures instead.")

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_oee_record(self, ts, data, batch):
        """Apply one ``oee_record`` item; the reply carries the computed figures."""
        machine = batch.equipment(ingest.text(data, "machine"), "machine")
        start, end = ingest.time(data, "period_start"), ingest.time(data, "period_end")
        if end <= start:
            raise ingest.ItemRejected("data.period_end must be after data.period_start")
        produced = ingest.number(data, "produced", integer=True, minimum=0)
        good = ingest.number(data, "good", integer=True, minimum=0)
        if good > produced:
            raise ingest.ItemRejected("data.good exceeds data.produced")
        rejected = ingest.number(
            data, "rejected", integer=True, minimum=0, required=False, default=produced - good
        )
        if good + rejected > produced:
            raise ingest.ItemRejected("data.good + data.rejected exceed data.produced")
        vals = {
            "equipment_id": machine.id,
            "shift": ingest.text(data, "shift", required=False, max_length=16) or False,
            "period_start": start,
            "period_end": end,
            "run_min": ingest.number(data, "run_min", minimum=0),
            "downtime_min": ingest.number(data, "downtime_min", minimum=0),
            "produced": produced,
            "good": good,
            "rejected": rejected,
            "design_speed": ingest.number(data, "design_speed", above=0),
            "actual_speed": ingest.number(data, "actual_speed", minimum=0),
            "source": "connector",
        }
        if not math.isfinite(vals["actual_speed"] / vals["design_speed"] * 100.0):
            raise ingest.ItemRejected("data.actual_speed / data.design_speed is out of range")
        planned = ingest.number(data, "planned_min", required=False, minimum=0)
        if planned is not None:
            vals["planned_min"] = planned
        if vals["run_min"] > (planned or (end - start).total_seconds() / 60.0) + 1e-6:
            raise ingest.ItemRejected("data.run_min exceeds the planned time")
        running = data.get("running", False)
        if not isinstance(running, bool):
            raise ingest.ItemRejected("data.running must be true or false")
        vals["is_running"] = running
        record = self._cmms_upsert(vals)
        return record, record._connector_reply()

    @api.model
    def _cmms_upsert(self, vals):
        """The one OEE record of ``vals``' machine and period start, created or
        updated (docs/contracts.md, the running shift).

        A report ending before the stored record changes no figure (the end
        never moves earlier), yet a closing one still closes the record; a
        closed record is never reopened by a provisional report. Updates of a
        running record are not tracked in its chatter.
        """
        Record = self.sudo()
        record = Record.search(
            [
                ("equipment_id", "=", vals["equipment_id"]),
                ("period_start", "=", vals["period_start"]),
            ],
            limit=1,
        )
        if not record:
            return Record.create(vals)
        if vals["is_running"] and not record.is_running:
            return record  # a late provisional report of a closed shift
        if record.is_running:
            record = record.with_context(mail_notrack=True)
        if vals["period_end"] < record.period_end:
            if record.is_running and not vals["is_running"]:
                record.is_running = False
            return record
        record.write(vals)
        return record
