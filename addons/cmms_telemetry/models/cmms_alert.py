# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError

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
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
        types = dict(ALERT_TYPES)
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
                    "maintenance_type": "corrective",
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
                alert._create_request(policy.request_priority)

    def _escalate(self, severity):
        """Raise the severity, never lower it."""
        for alert in self:
            if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]:
                alert.severity = severity
