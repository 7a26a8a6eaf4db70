# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from . import ingest_validation as ingest
from .cmms_alert_policy import SEVERITIES, SEVERITY_RANK

ALERT_TYPES = [
    ("calibration_overdue", "Calibration overdue"),
    ("rule_violation", "Rule violation"),
    ("drift", "Drift"),
    ("anomaly", "Anomaly"),
    ("instrument_fault", "Instrument fault"),
    ("data_gap", "Data gap"),
    ("health_degraded", "Health degraded"),
]
STATES = [
    ("raised", "Raised"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
]
CONDITIONS = [("active", "Active"), ("cleared", "Cleared")]


class CmmsAlert(models.Model):
    """An alert on a piece of equipment.

    At most one alert per equipment and type is open (not resolved) at a
    time: repeats raise its counter and last-seen time. ``state`` is the
    people's lifecycle; ``condition`` is what the connector last reported.
    """

    _name = "cmms.alert"
    _description = "Equipment alert"
    _inherit = ["cmms.undeletable.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "state_sequence, last_seen desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment", required=True, index=True, ondelete="cascade"
    )
    sensor_id = fields.Many2one("cmms.sensor", index=True, ondelete="set null")
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    equipment_criticality = fields.Selection(related="equipment_id.criticality")
    alert_type = fields.Selection(ALERT_TYPES, required=True, index=True)
    severity = fields.Selection(SEVERITIES, required=True, tracking=True)
    state = fields.Selection(STATES, default="raised", required=True, tracking=True, index=True)
    state_sequence = fields.Integer(compute="_compute_state_sequence", store=True)
    condition = fields.Selection(CONDITIONS, default="active", required=True, tracking=True)
    message = fields.Char()
    last_value = fields.Float()
    drift_rate = fields.Float(
        "Drift rate (units/day)",
        readonly=True,
        copy=False,
        help="Reported by the connector with a drift alert; calibration interval analysis "
        "uses it.",
    )
    drift_rate_at = fields.Datetime(readonly=True, copy=False)
    first_seen = fields.Datetime(required=True, default=fields.Datetime.now)
    last_seen = fields.Datetime(required=True, default=fields.Datetime.now)
    cleared_at = fields.Datetime()
    occurrence_count = fields.Integer("Occurrences", default=1)
    acknowledged_by_id = fields.Many2one("res.users", readonly=True)
    acknowledged_at = fields.Datetime(readonly=True)
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    resolution_note = fields.Text(tracking=True)
    request_id = fields.Many2one(
        "maintenance.request", "Work order", index=True, ondelete="set null", copy=False
    )
    suppressed_until = fields.Datetime(
        readonly=True,
        copy=False,
        help="A work order on this equipment was completed shortly before: the alert is "
        "kept up to date but opens no work order before this time.",
    )
    supervisors_notified = fields.Boolean(readonly=True, copy=False)

    @api.depends("equipment_id", "alert_type")
    def _compute_name(self):
        types = dict(ALERT_TYPES)
        for alert in self:
            tag = alert.equipment_id.cmms_tag or alert.equipment_id.name or ""
            alert.name = f"{tag}: {types.get(alert.alert_type, '')}"

    @api.depends("state")
    def _compute_state_sequence(self):
        order = {"raised": 0, "acknowledged": 1, "resolved": 2}
        for alert in self:
            alert.state_sequence = order.get(alert.state, 3)

    def init(self):
        # One open alert per equipment and type, held by the database.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS cmms_alert_open_uniq
                ON cmms_alert (equipment_id, alert_type)
             WHERE state != 'resolved'
            """
        )

    @api.model_create_multi
    def create(self, vals_list):
        # Resolutions still in the cache must reach the database before the
        # partial unique index judges the new rows.
        self.flush_model(["state"])
        return super().create(vals_list)

    def action_acknowledge(self):
        for alert in self:
            if alert.state != "raised":
                raise UserError(
                    self.env._(
                        "Only a raised alert can be acknowledged (%(name)s).", name=alert.name
                    )
                )
        self.write(
            {
                "state": "acknowledged",
                "acknowledged_by_id": self.env.uid,
                "acknowledged_at": fields.Datetime.now(),
            }
        )
        return True

    def action_resolve(self):
        for alert in self:
            if alert.state == "resolved":
                raise UserError(self.env._("%(name)s is already resolved.", name=alert.name))
            if not (alert.resolution_note or "").strip():
                raise UserError(
                    self.env._(
                        "Write a resolution note before resolving %(name)s.", name=alert.name
                    )
                )
        self.write(
            {
                "state": "resolved",
                "resolved_by_id": self.env.uid,
                "resolved_at": fields.Datetime.now(),
            }
        )
        return True

    def action_create_request(self, priority=None):
        """Open a corrective work order for each alert that has none."""
        for alert in self:
            if alert.request_id:
                continue
            alert._create_request(priority or "high")
        if len(self) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "maintenance.request",
                "res_id": self.request_id.id,
                "view_mode": "form",
            }
        return True

    def _create_request(self, priority):
        self.ensure_one()
        if self.alert_type == "calibration_overdue":
            # The instrument's calibration work order, never a second one.
            request = self.equipment_id._calibration_request()
            self.sudo().request_id = request
            return request
        types = dict(ALERT_TYPES)
        vals = {"maintenance_type": "corrective"}
        if self.alert_type == "health_degraded":
            # A component heading for failure: predictive maintenance, with
            # the repair time the connector's model predicted, when it has one.
            vals["maintenance_type"] = "predictive"
            prediction = (
                self.env["cmms.prediction"]
                .sudo()
                .search(
                    [("equipment_id", "=", self.equipment_id.id)],
                    order="predicted_at desc, id desc",
                    limit=1,
                )
            )
            if prediction:
                vals["duration"] = prediction.predicted_hours
        request = (
            self.env["maintenance.request"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "%(tag)s: %(type)s",
                        tag=self.equipment_id.cmms_tag or self.equipment_id.name,
                        type=types[self.alert_type],
                    ),
                    "equipment_id": self.equipment_id.id,
                    **vals,
                    "cmms_priority": priority,
                    "source": "alert",
                    "alert_id": self.id,
                    "description": self.message or False,
                }
            )
        )
        self.sudo().request_id = request
        self.sudo().message_post(
            body=self.env._("Work order %(name)s opened.", name=request.name),
        )
        return request

    def _apply_policy(self):
        """Open a work order when the policy for severity x criticality says so."""
        policies = self.env["cmms.alert.policy"].sudo()
        for alert in self:
            if alert.request_id:
                continue
            policy = policies._for(alert.severity, alert.equipment_id.criticality)
            if policy and policy.create_request:
                request = alert._create_request(policy.request_priority)
                if policy.approve_request:
                    alert._approve_request(request)

    def _approve_request(self, request):
        """Approve the work order the policy opened, when it has a technician:
        a breakdown goes straight to the technician's tasks."""
        self.ensure_one()
        if request.cmms_state != "requested":
            return
        technician = request.user_id or self.equipment_id.technician_user_id
        if not technician or not technician.has_group("cmms_parfum.cmms_parfum_group_technician"):
            request.sudo().message_post(
                body=self.env._(
                    "Not approved at once: the equipment has no technician to assign it to."
                )
            )
            return
        request.sudo().write(
            {
                "user_id": technician.id,
                "schedule_date": request.schedule_date or fields.Datetime.now(),
            }
        )
        request.sudo().action_approve()

    def _notify_supervisors(self):
        """Tell the CMMS supervisors of the alert's company, once per alert."""
        group = self.env.ref("cmms_parfum.cmms_parfum_group_supervisor")
        types = dict(self._fields["alert_type"]._description_selection(self.env))
        severities = dict(self._fields["severity"]._description_selection(self.env))
        for alert in self.sudo().filtered(lambda a: not a.supervisors_notified):
            users = group.users.filtered(
                lambda u, alert=alert: not alert.company_id or alert.company_id in u.company_ids
            )
            if users:
                body = self.env._(
                    "New %(severity)s alert on %(equipment)s: %(type)s.",
                    severity=severities[alert.severity].lower(),
                    equipment=alert.equipment_id.display_name,
                    type=types[alert.alert_type],
                )
                if alert.message:
                    body = Markup("%s<br/>%s") % (body, alert.message)
                # Queued for the mail cron: the connector's call does not wait on SMTP.
                alert.with_context(mail_notify_force_send=False).message_post(
                    body=body,
                    partner_ids=users.partner_id.ids,
                    subtype_xmlid="mail.mt_note",
                )
            alert.supervisors_notified = True

    @api.model
    def _open_for(self, equipment, alert_type):
        """The open (not resolved) alert of that equipment and type, if any."""
        return self.search(
            [
                ("equipment_id", "=", equipment.id),
                ("alert_type", "=", alert_type),
                ("state", "!=", "resolved"),
            ],
            limit=1,
        )

    @api.model
    def _report(
        self,
        equipment,
        alert_type,
        kind,
        ts,
        severity="warning",
        value=None,
        message="",
        sensor=None,
    ):
        """Apply one report of a condition: the single path every alert goes through.

        Parameters
        ----------
        equipment : maintenance.equipment record
        alert_type : str
            One of ``ALERT_TYPES``.
        kind : str
            ``alert_raised`` (the condition started), ``alert_active`` (it
            goes on) or ``alert_cleared`` (it ended).
        ts : datetime
            When the condition was observed (naive UTC).

        Returns
        -------
        cmms.alert record
            The alert that was created or updated (may be empty on a clear
            that finds nothing open).

        Notes
        -----
        Raised and active reports update the open alert of that equipment
        and type or open one. Within the suppression window that follows a
        completed work order on the equipment
        (``maintenance.equipment._alert_suppression_end``), the alert is
        updated the same way but neither opens a work order nor notifies:
        ``suppressed_until`` tells until when. The first report after the
        window applies the policy and notifies as usual.
        """
        alert = self.sudo()._open_for(equipment, alert_type)
        if kind == "alert_cleared":
            # The alert keeps the value and time of the fault it reports.
            if alert and alert.condition != "cleared":
                alert.write({"condition": "cleared", "cleared_at": ts})
            return alert
        vals = {"last_seen": ts}
        if value is not None:
            vals["last_value"] = value
        if message:
            vals["message"] = message[:500]
        if alert:
            if kind == "alert_raised" or alert.condition == "cleared":
                vals["occurrence_count"] = alert.occurrence_count + 1
            vals["condition"] = "active"
            alert.write(vals)
            alert._escalate(severity)
        else:
            alert = self.sudo().create(
                {
                    **vals,
                    "equipment_id": equipment.id,
                    "sensor_id": sensor.id if sensor else False,
                    "alert_type": alert_type,
                    "severity": severity,
                    "first_seen": ts,
                }
            )
        suppressed_until = equipment._alert_suppression_end(ts)
        if suppressed_until:
            if not alert.suppressed_until or alert.suppressed_until < suppressed_until:
                alert.suppressed_until = suppressed_until
            return alert
        alert._apply_policy()
        alert._notify_supervisors()
        return alert

    def _escalate(self, severity):
        """Raise the severity, never lower it."""
        for alert in self:
            if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]:
                alert.severity = severity

    def _cmms_unlink_way_out(self):
        return self.env._("resolve the alert, with a resolution note, instead.")

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_alert(self, kind, ts, data, batch):
        """Apply one ``alert_raised``, ``alert_active`` or ``alert_cleared`` item."""
        tag = data.get("tag")
        if not isinstance(tag, str) or not tag:
            raise ingest.ItemRejected("data.tag is missing")
        alert_type = ingest.choice(data.get("alert_type"), dict(ALERT_TYPES), "alert_type")
        severity = ingest.choice(data.get("severity", "warning"), dict(SEVERITIES), "severity")
        value = data.get("value")
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ingest.ItemRejected("data.value must be a finite number")
        message = data.get("message") or ""
        if not isinstance(message, str):
            raise ingest.ItemRejected("data.message must be a string")
        drift_rate = ingest.number(data, "drift_rate", required=False, minimum=-1e9, maximum=1e9)

        sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
        sensor = sensor.search([("tag", "=", tag)], limit=1)
        if sensor:
            equipment = sensor.equipment_id
        else:
            equipment = (
                self.env["maintenance.equipment"].sudo().search([("cmms_tag", "=", tag)], limit=1)
            )
        if not equipment:
            raise ingest.ItemRejected(f"no sensor or equipment with tag {ingest.short(tag)}")
        alert = self._report(
            equipment,
            alert_type,
            kind,
            ts,
            severity=severity,
            value=value,
            message=message,
            sensor=sensor,
        )
        if drift_rate is not None and alert and kind != "alert_cleared":
            alert.sudo().write({"drift_rate": drift_rate, "drift_rate_at": ts})
        return alert, None
