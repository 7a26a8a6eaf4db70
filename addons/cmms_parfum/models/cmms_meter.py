# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError

METER_KINDS = [
    ("run_hours", "Run hours"),
    ("cycles", "Cycles"),
    ("units", "Produced units"),
    ("other", "Other"),
]


class CmmsMeter(models.Model):
    """A counter of a machine (run hours, cycles, produced units).

    ``value`` is what the meter shows now; ``total_value`` the machine's
    lifetime usage, which meter-based plans follow: a reset or a replaced
    meter starts ``value`` again while ``total_value`` goes on.
    """

    _name = "cmms.meter"
    _description = "Machine meter"
    _inherit = ["mail.thread"]
    _order = "equipment_id, name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="How the telemetry connector names this meter of the machine "
        "(run_hours, produced_units...).",
    )
    kind = fields.Selection(METER_KINDS, default="run_hours", required=True)
    uom = fields.Char("Unit", required=True, default="h")
    equipment_id = fields.Many2one(
        "maintenance.equipment", required=True, ondelete="restrict", index=True, tracking=True
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    active = fields.Boolean(default=True)
    value = fields.Float("Current reading", readonly=True, digits=(16, 2))
    offset = fields.Float(
        "Before the last reset",
        readonly=True,
        digits=(16, 2),
        help="Usage counted before the meter was last reset or replaced.",
    )
    total_value = fields.Float(
        "Lifetime total", compute="_compute_total_value", store=True, digits=(16, 2)
    )
    last_read_at = fields.Datetime("Last reading", readonly=True)
    reading_ids = fields.One2many("cmms.meter.reading", "meter_id", "Readings")
    plan_ids = fields.One2many("maintenance.plan", "meter_id", "Plans")

    _sql_constraints = [
        (
            "equipment_code_uniq",
            "unique(equipment_id, code)",
            "A machine has each meter code once.",
        ),
    ]

    @api.depends("value", "offset")
    def _compute_total_value(self):
        for meter in self:
            meter.total_value = meter.offset + meter.value

    @api.depends("name", "equipment_id.cmms_tag", "equipment_id.name")
    def _compute_display_name(self):
        for meter in self:
            machine = meter.equipment_id.cmms_tag or meter.equipment_id.name or ""
            meter.display_name = f"{machine} {meter.name}".strip()

    def action_record_reading(self):
        self.ensure_one()
        return self._reading_dialog(self.env._("Record a reading"), {})

    def action_reset(self):
        """Reset or replace the meter: an explicit action of a supervisor."""
        self.ensure_one()
        self._check_may_reset()
        return self._reading_dialog(
            self.env._("Reset or replace the meter"), {"default_is_reset": True}
        )

    def _reading_dialog(self, title, context):
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": "cmms.meter.reading",
            "view_mode": "form",
            "views": [(self.env.ref("cmms_parfum.cmms_meter_reading_view_form").id, "form")],
            "target": "new",
            "context": {"default_meter_id": self.id, **context},
        }

    @api.model
    def _check_may_reset(self):
        user = self.env.user
        if not (
            self.env.su
            or user.has_group("cmms_parfum.cmms_parfum_group_supervisor")
            or user.has_group("cmms_parfum.cmms_parfum_group_manager")
        ):
            raise AccessError(self.env._("Only a supervisor or a manager resets a meter."))

    def _cmms_add_reading(self, read_at, value=None, increment=None, source="manual", note=False):
        """Record a reading given as the meter's value or as an increment."""
        self.ensure_one()
        if increment is not None:
            value = self.value + increment
        return (
            self.env["cmms.meter.reading"]
            .sudo()
            .create(
                {
                    "meter_id": self.id,
                    "read_at": read_at,
                    "value": value,
                    "source": source,
                    "note": note,
                }
            )
        )
