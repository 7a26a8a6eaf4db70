# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from . import ingest_validation as ingest
from .telemetry_tools import json_display

JOB_TYPES = [
    ("predict_duration", "Repair-duration prediction"),
    ("train_isolation", "Anomaly model training"),
]
JOB_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
# Who may ask for what (checked on the server, whatever the view shows).
REQUEST_GROUPS = {
    "predict_duration": (
        "cmms_parfum.cmms_parfum_group_supervisor",
        "cmms_parfum.cmms_parfum_group_manager",
    ),
    "train_isolation": ("cmms_parfum.cmms_parfum_group_manager",),
}
# A claimed job whose connector has not renewed its lease for this long is
# given to the next connector that asks (a connector that died for good).
LEASE_S = 600
# Claims of one job before it is given up as failed.
MAX_ATTEMPTS = 3
# The longest clean period a training may read (raw readings of a tag).
MAX_TRAINING_DAYS = 31


class CmmsConnectorJob(models.Model):
    """A request Odoo hands to the telemetry connector: a repair-duration
    prediction or the training of an instrument's anomaly model.

    Odoo only records the request. The connector claims it through
    ``cmms.telemetry.api.claim_jobs`` (with a lease), runs it, and reports
    progress and the outcome as ``job_update`` items through ``ingest``;
    the outcome item's key is the job's, so a job ends once even when the
    connector restarts in the middle and runs it again.
    """

    _name = "cmms.connector.job"
    _description = "Connector job"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    job_type = fields.Selection(JOB_TYPES, "Type", required=True, index=True)
    state = fields.Selection(
        JOB_STATES, default="queued", required=True, readonly=True, index=True, tracking=True
    )
    requested_by_id = fields.Many2one(
        "res.users", "Requested by", default=lambda self: self.env.user, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True
    )
    # Repair-duration prediction
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Machine",
        index=True,
        help="The machine whose component is predicted.",
    )
    component_id = fields.Many2one(
        "maintenance.equipment",
        "Component",
        domain="[('parent_id', '=', equipment_id), ('cmms_component_code', '!=', False)]",
        help="The component stopped: its code is the model's input.",
    )
    request_id = fields.Many2one("maintenance.request", "Work order", index=True)
    produced = fields.Integer(
        "Produced units", help="Units produced in the shift (prefilled from the latest OEE record)."
    )
    rejected = fields.Integer(
        "Rejected units",
        help="Units rejected in that shift (prefilled from the latest OEE record).",
    )
    # Anomaly model training
    sensor_id = fields.Many2one("cmms.sensor", "Sensor", index=True)
    period_start = fields.Datetime("Clean from")
    period_end = fields.Datetime("Clean until")
    window = fields.Integer(default=60, help="Readings per feature window.")
    contamination = fields.Float(
        digits=(4, 3),
        default=0.01,
        help="Share of the clean windows allowed above the alarm threshold (0 < c <= 0.5).",
    )
    activate = fields.Boolean(
        "Activate the new version", default=True, help="The connector uses it at once."
    )
    # Progress and outcome, written by the connector's items
    progress = fields.Float(readonly=True, help="Percent done, as the connector last reported.")
    progress_note = fields.Char("Step", readonly=True)
    attempt = fields.Integer(readonly=True, help="How many times a connector claimed the job.")
    claimed_by = fields.Char("Connector", readonly=True)
    claimed_at = fields.Datetime(readonly=True)
    lease_until = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    result = fields.Json("Result data", readonly=True)
    result_display = fields.Text("Result", compute="_compute_result_display")
    prediction_id = fields.Many2one("cmms.prediction", "Prediction", readonly=True)
    predicted_hours = fields.Float(
        "Predicted duration (h)", related="prediction_id.predicted_hours"
    )
    model_version_id = fields.Many2one("cmms.model.version", "Model version", readonly=True)

    @api.depends("job_type", "equipment_id", "component_id", "sensor_id")
    def _compute_name(self):
        labels = dict(self._fields["job_type"]._description_selection(self.env))
        for job in self:
            target = job.sensor_id.tag or job.component_id.display_name or job.equipment_id.name
            job.name = f"{labels.get(job.job_type, '')} {target or ''}".strip()

    @api.depends("result")
    def _compute_result_display(self):
        for job in self:
            job.result_display = json_display(job.result)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        machine = self.env["maintenance.equipment"].browse(values.get("equipment_id"))
        if values.get("request_id") and not machine:
            request = self.env["maintenance.request"].browse(values["request_id"])
            machine = request.equipment_id
        if machine.cmms_component_code and machine.parent_id:
            values["component_id"] = machine.id
            machine = machine.parent_id
        if machine:
            values["equipment_id"] = machine.id
            latest = self.env["cmms.oee.record"].search(
                [("equipment_id", "=", machine.id)], order="period_end desc, id desc", limit=1
            )
            if latest:
                values.setdefault("produced", latest.produced)
                values.setdefault("rejected", latest.rejected)
        return values

    @api.constrains(
        "job_type",
        "equipment_id",
        "component_id",
        "produced",
        "rejected",
        "sensor_id",
        "period_start",
        "period_end",
        "window",
        "contamination",
    )
    def _check_request(self):
        for job in self:
            if job.job_type == "predict_duration":
                job._check_prediction_inputs()
            elif job.job_type == "train_isolation":
                job._check_training_inputs()

    def _check_prediction_inputs(self):
        if not self.component_id.cmms_component_code:
            raise ValidationError(
                self.env._("Choose the component of the machine the prediction is for.")
            )
        if self.produced <= 0 or self.rejected < 0:
            raise ValidationError(
                self.env._(
                    "The produced and rejected units must be positive numbers (produced "
                    "%(produced)s, rejected %(rejected)s).",
                    produced=self.produced,
                    rejected=self.rejected,
                )
            )
        if self.rejected > self.produced:
            raise ValidationError(
                self.env._(
                    "The rejected units (%(rejected)s) cannot exceed the produced units "
                    "(%(produced)s).",
                    produced=self.produced,
                    rejected=self.rejected,
                )
            )

    def _check_training_inputs(self):
        if not self.sensor_id:
            raise ValidationError(self.env._("Choose the sensor whose model is trained."))
        if not (self.period_start and self.period_end) or self.period_end <= self.period_start:
            raise ValidationError(self.env._("The clean period needs a start before its end."))
        if self.period_end - self.period_start > timedelta(days=MAX_TRAINING_DAYS):
            raise ValidationError(
                self.env._("A clean period is at most %(days)s days long.", days=MAX_TRAINING_DAYS)
            )
        if self.window < 2:
            raise ValidationError(self.env._("A window holds at least 2 readings."))
        if not 0 < self.contamination <= 0.5:
            raise ValidationError(self.env._("The contamination lies in (0, 0.5]."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_may_request(vals.get("job_type"))
            # What the connector reports is not the requester's to set.
            for name in ("state", "progress", "attempt", "result", "prediction_id"):
                vals.pop(name, None)
        return super().create(vals_list)

    @api.model
    def _check_may_request(self, job_type):
        if self.env.su:
            return
        groups = REQUEST_GROUPS.get(job_type, ())
        if not any(self.env.user.has_group(group) for group in groups):
            if job_type == "train_isolation":
                message = self.env._("Only CMMS managers may train an anomaly model.")
            else:
                message = self.env._(
                    "Only CMMS supervisors and managers may ask for a repair-duration prediction."
                )
            raise AccessError(message)

    def write(self, vals):
        if not self.env.su and set(vals) & {"job_type", "state"}:
            raise AccessError(self.env._("The state of a connector job is the connector's."))
        if not self.env.su and any(job.state != "queued" for job in self):
            raise UserError(self.env._("A job the connector has taken cannot be changed."))
        return super().write(vals)

    def action_cancel(self):
        """Withdraw a request the connector has not finished."""
        for job in self:
            job._check_may_request(job.job_type)
            job.check_access("write")
            if job.state not in ("queued", "running"):
                raise UserError(self.env._("Only a queued or running job can be cancelled."))
        self.sudo().write({"state": "cancelled", "finished_at": fields.Datetime.now()})
        return True

    def action_submit(self):
        """Send the request (saved by the dialog) and follow it on its own form."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_open_result(self):
        self.ensure_one()
        record = self.prediction_id or self.model_version_id
        if not record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }

    # -- the connector's side (called through cmms.telemetry.api) -------------

    @api.model
    def _claim(self, connector_id, running_ids, limit):
        """Renew the leases of ``running_ids``, claim up to ``limit`` more jobs.

        Claimable: queued jobs, jobs whose lease ran out, and jobs this
        connector claimed before but no longer runs (it restarted). Rows
        are locked (``SKIP LOCKED``), so two connectors never get one job.
        """
        now = fields.Datetime.now()
        lease = now + timedelta(seconds=LEASE_S)
        mine = self.search(
            [
                ("id", "in", running_ids),
                ("state", "=", "running"),
                ("claimed_by", "=", connector_id),
            ]
        )
        if mine:
            mine.write({"lease_until": lease})
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT id FROM cmms_connector_job
             WHERE state = 'queued'
                OR (state = 'running'
                    AND (lease_until < %(now)s
                         OR (claimed_by = %(me)s AND NOT id = ANY(%(running)s))))
             ORDER BY id
             LIMIT %(limit)s
               FOR UPDATE SKIP LOCKED
            """,
            {"now": now, "me": connector_id, "running": list(running_ids) or [0], "limit": limit},
        )
        jobs = self.browse([row[0] for row in self.env.cr.fetchall()])
        claimed = self.browse()
        for job in jobs:
            if job.attempt >= MAX_ATTEMPTS:
                job.write(
                    {
                        "state": "failed",
                        "finished_at": now,
                        "error": self.env._(
                            "Given up after %(n)s attempts: the connector stopped each time "
                            "before finishing.",
                            n=job.attempt,
                        ),
                    }
                )
                continue
            job.write(
                {
                    "state": "running",
                    "claimed_by": connector_id,
                    "claimed_at": now,
                    "lease_until": lease,
                    "attempt": job.attempt + 1,
                    "progress": 0.0,
                    "progress_note": False,
                }
            )
            claimed |= job
        return [job._connector_spec() for job in claimed]

    def _connector_spec(self):
        """The job as the connector receives it (no None: XML-RPC)."""
        self.ensure_one()
        spec = {
            "job_id": self.id,
            "key": f"job:{self.id}",
            "type": self.job_type,
            "attempt": self.attempt,
        }
        if self.job_type == "predict_duration":
            spec.update(
                tag=self.component_id.cmms_tag or self.component_id.display_name,
                component=self.component_id.cmms_component_code,
                produced=self.produced,
                reject=self.rejected,
            )
        else:
            spec.update(
                tag=self.sensor_id.tag,
                period_start=self.period_start.isoformat(timespec="seconds") + "Z",
                period_end=self.period_end.isoformat(timespec="seconds") + "Z",
                window=self.window,
                contamination=self.contamination,
                activate=self.activate,
                trained_by=self.requested_by_id.login or "",
            )
        return spec

    def _report(self, attempt, state, progress, note, result, error, ts):
        """Apply what the connector reports; return what the reply says.

        A job that already ended (done, failed or cancelled) does not
        change, nor does a job another attempt now runs; both answers are
        "ignored", not errors, so the connector's outbox does not keep them.
        """
        self.ensure_one()
        if self.state in ("done", "failed", "cancelled"):
            return {"job_state": self.state, "ignored": "the job has ended"}
        if state == "running":
            if attempt != self.attempt:
                return {"job_state": self.state, "ignored": "an older attempt"}
            # A connector that reports progress still holds the job.
            lease = fields.Datetime.now() + timedelta(seconds=LEASE_S)
            self.write({"progress": progress, "progress_note": note or False, "lease_until": lease})
            return {"job_state": self.state}
        vals = {
            "state": state,
            "finished_at": ts,
            "progress": 100.0 if state == "done" else self.progress,
            "progress_note": note or False,
            "error": error or False,
            "result": result or False,
        }
        self.write(vals)
        if self.request_id and self.prediction_id:
            self.request_id.message_post(
                body=self.env._(
                    "Predicted repair duration: %(hours)s h (model %(model)s).",
                    hours=round(self.prediction_id.predicted_hours, 2),
                    model=self.prediction_id.model_version,
                )
            )
        return {"job_state": self.state}

    @api.model
    def _request_action(self, job_type, **defaults):
        """The request dialog, prefilled; refused to whom may not ask."""
        self._check_may_request(job_type)
        self.check_access("create")
        context = {"default_job_type": job_type}
        context.update({f"default_{name}": value for name, value in defaults.items()})
        title = dict(self._fields["job_type"]._description_selection(self.env))[job_type]
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": context,
        }

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_job_update(self, ts, data, batch):
        """Apply one ``job_update`` item: the connector's progress on a job."""
        job_id = ingest.number(data, "job_id", integer=True, minimum=1)
        job = self.sudo().browse(job_id).exists()
        if not job:
            raise ingest.ItemRejected(f"no connector job {job_id}")
        state = ingest.choice(data.get("state"), dict(JOB_STATES), "data.state")
        if state not in ("running", "done", "failed"):
            raise ingest.ItemRejected("data.state must be running, done or failed")
        attempt = ingest.number(data, "attempt", integer=True, minimum=1)
        progress = ingest.number(
            data, "progress", required=False, default=0.0, minimum=0, maximum=100
        )
        note = ingest.text(data, "message", required=False, max_length=255)
        error = ingest.text(data, "error", required=False, max_length=2000)
        result = ingest.json_object(data, "result")
        if state == "failed" and not error:
            raise ingest.ItemRejected("data.error is missing: a failed job says why")
        if job.state in ("done", "failed", "cancelled") or state == "running":
            return job, job._report(attempt, state, progress, note, result, error, ts)
        if state == "done":
            if job.job_type == "predict_duration":
                prediction = ingest.json_object(data, "prediction", required=True)
                record, _computed = self.env["cmms.prediction"]._cmms_ingest_prediction(
                    ts, prediction, batch
                )
                job.prediction_id = record
            else:
                version = ingest.json_object(data, "model_version", required=True)
                if version.get("tag") != job.sensor_id.tag:
                    raise ingest.ItemRejected("data.model_version.tag is not the job's sensor")
                record, _computed = self.env["cmms.model.version"]._cmms_ingest_model_version(
                    ts, version, batch
                )
                job.model_version_id = record
        return job, job._report(attempt, state, progress, note, result, error, ts)
