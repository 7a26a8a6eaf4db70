# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from . import ingest_validation as ingest
from .telemetry_tools import MAX_PREDICTED_HOURS, json_display


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

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_prediction(self, ts, data, batch):
        """Apply one ``prediction`` item (or the prediction of a finished job)."""
        equipment = batch.equipment(ingest.text(data, "tag"))
        prediction = self.sudo().create(
            {
                "equipment_id": equipment.id,
                "predicted_at": ts,
                "predicted_hours": ingest.number(
                    data,
                    "predicted_hours",
                    minimum=0,
                    maximum=MAX_PREDICTED_HOURS,
                ),
                "model_version": ingest.text(data, "model_version", max_length=64),
                "inputs": ingest.json_object(data, "inputs", required=True),
                "recommendation": ingest.text(
                    data, "recommendation", required=False, max_length=2000
                )
                or False,
            }
        )
        return prediction, None
