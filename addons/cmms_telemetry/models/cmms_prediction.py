# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .telemetry_tools import json_display


class CmmsPrediction(models.Model):
    """A model's prediction of the maintenance a component needs (in hours)."""

    _name = "cmms.prediction"
    _description = "Maintenance prediction"
    _order = "predicted_at desc, id desc"
    _rec_name = "equipment_id"

    equipment_id = fields.Many2one(
        "maintenance.equipment", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    predicted_at = fields.Datetime(required=True, index=True)
    predicted_hours = fields.Float(
        "Predicted duration (h)",
        digits=(10, 2),
        required=True,
        aggregator="avg",
        help="Maintenance duration the model predicts.",
    )
    model_version = fields.Char(required=True)
    inputs = fields.Json("Inputs data", help="The features the model was given.")
    inputs_display = fields.Text("Inputs", compute="_compute_inputs_display")
    recommendation = fields.Text()

    @api.depends("inputs")
    def _compute_inputs_display(self):
        for prediction in self:
            prediction.inputs_display = json_display(prediction.inputs)

    @api.constrains("predicted_hours")
    def _check_predicted_hours(self):
        for prediction in self:
            if prediction.predicted_hours < 0:
                raise ValidationError(self.env._("A predicted duration cannot be negative."))
