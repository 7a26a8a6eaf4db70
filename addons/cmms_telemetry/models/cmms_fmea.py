# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .telemetry_tools import rpn_score

RATINGS = ("severity", "occurrence", "detection")


class CmmsFmea(models.Model):
    """A failure mode of a component (FMEA) and its risk priority number.

    RPN = severity x occurrence x detection, each rated 1-10 (1 to 1000).
    Its score for the health index is 100 - RPN / 10.
    """

    _name = "cmms.fmea"
    _description = "Failure mode (FMEA)"
    _inherit = ["mail.thread"]
    _order = "rpn desc, id"

    name = fields.Char("Failure mode", required=True, tracking=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Component",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    effect = fields.Text("Failure effect")
    cause = fields.Text()
    current_controls = fields.Text()
    recommended_action = fields.Text(tracking=True)
    severity = fields.Integer(
        required=True, default=1, tracking=True, help="1 (no effect) to 10 (hazardous)."
    )
    occurrence = fields.Integer(
        required=True, default=1, tracking=True, help="1 (remote) to 10 (almost certain)."
    )
    detection = fields.Integer(
        required=True,
        default=1,
        tracking=True,
        help="1 (certainly detected) to 10 (cannot be detected).",
    )
    rpn = fields.Integer("RPN", compute="_compute_rpn", store=True, aggregator="max")
    rpn_score = fields.Float("RPN score", digits=(5, 1), compute="_compute_rpn", store=True)
    active = fields.Boolean(default=True)

    @api.depends(*RATINGS)
    def _compute_rpn(self):
        for fmea in self:
            fmea.rpn = fmea.severity * fmea.occurrence * fmea.detection
            fmea.rpn_score = rpn_score(fmea.rpn)

    @api.constrains(*RATINGS)
    def _check_ratings(self):
        labels = {
            "severity": self.env._("Severity"),
            "occurrence": self.env._("Occurrence"),
            "detection": self.env._("Detection"),
        }
        for fmea in self:
            for name in RATINGS:
                if not 1 <= fmea[name] <= 10:
                    raise ValidationError(
                        self.env._(
                            "%(mode)s: %(rating)s is rated from 1 to 10, not %(value)s.",
                            mode=fmea.name,
                            rating=labels[name],
                            value=fmea[name],
                        )
                    )
