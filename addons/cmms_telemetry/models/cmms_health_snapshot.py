# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from . import ingest_validation as ingest
from .telemetry_tools import HEALTH_BANDS, MAX_RECOMMENDATIONS, health_band, json_display

# Metric scores one health snapshot item may carry.
MAX_METRICS = 100


class CmmsHealthSnapshot(models.Model):
    """The health score of a machine or component at one moment.

    The connector scores (rule-based, 0-100); the band is decided here:
    excellent from 80, good from 60, warning from 40, critical below.
    """

    _name = "cmms.health.snapshot"
    _description = "Health snapshot"
    _inherit = ["cmms.undeletable.mixin"]
    _order = "measured_at desc, id desc"
    _rec_name = "equipment_id"

    equipment_id = fields.Many2one(
        "maintenance.equipment", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    component_code = fields.Char(related="equipment_id.cmms_component_code")
    measured_at = fields.Datetime(required=True, index=True)
    score = fields.Float(required=True, digits=(5, 1), aggregator="avg")
    band = fields.Selection(HEALTH_BANDS, compute="_compute_band", store=True)
    metric_scores = fields.Json(
        "Metric scores data", help="Score of each contributing metric, 0-100."
    )
    metric_scores_display = fields.Text("Metric scores", compute="_compute_metric_scores_display")
    recommendations = fields.Text(help="Suggested actions, one a line.")

    @api.depends("score")
    def _compute_band(self):
        for snapshot in self:
            snapshot.band = health_band(snapshot.score)

    @api.depends("metric_scores")
    def _compute_metric_scores_display(self):
        for snapshot in self:
            snapshot.metric_scores_display = json_display(snapshot.metric_scores)

    @api.constrains("score")
    def _check_score(self):
        for snapshot in self:
            if not 0.0 <= snapshot.score <= 100.0:
                raise ValidationError(
                    self.env._(
                        "A health score lies between 0 and 100, not %(score)s.",
                        score=snapshot.score,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        snapshots = super().create(vals_list)
        snapshots._update_current_health()
        return snapshots

    def _update_current_health(self):
        """Carry the newest snapshot to its equipment; open or clear the health alert.

        Entering the critical band raises a ``health_degraded`` alert through
        the alert path (policy, suppression, notification); staying critical
        refreshes the open alert; leaving it clears the alert's condition.
        A snapshot older than the equipment's current health is history only.
        """
        Alert = self.env["cmms.alert"].sudo()
        bands = dict(self._fields["band"]._description_selection(self.env))
        for snapshot in self.sorted("measured_at"):
            equipment = snapshot.equipment_id.sudo()
            if equipment.health_updated_at and equipment.health_updated_at > snapshot.measured_at:
                continue
            was_critical = equipment.health_band == "critical"
            equipment.write(
                {
                    "health_score": snapshot.score,
                    "health_band": snapshot.band,
                    "health_updated_at": snapshot.measured_at,
                }
            )
            message = self.env._(
                "Health %(score)s/100 (%(band)s).",
                score=round(snapshot.score, 1),
                band=bands[snapshot.band],
            )
            if snapshot.recommendations:
                message = f"{message} {snapshot.recommendations.splitlines()[0]}"
            is_critical = snapshot.band == "critical"
            if is_critical and not was_critical:
                kind = "alert_raised"
            elif is_critical and Alert._open_for(equipment, "health_degraded"):
                kind = "alert_active"
            elif was_critical and not is_critical:
                kind = "alert_cleared"
            else:
                continue
            Alert._report(
                equipment,
                "health_degraded",
                kind,
                snapshot.measured_at,
                severity="critical",
                value=snapshot.score,
                message=message,
            )

    def _cmms_unlink_way_out(self):
        return self.env._("health snapshots are kept as the equipment's history.")

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_health_snapshot(self, ts, data, batch):
        """Apply one ``health_snapshot`` item; the reply computes its band."""
        equipment = batch.equipment(ingest.text(data, "tag"))
        score = ingest.number(data, "score", minimum=0, maximum=100)
        metrics = ingest.json_object(data, "metrics")
        if metrics is not None:
            if len(metrics) > MAX_METRICS:
                raise ingest.ItemRejected(f"data.metrics holds more than {MAX_METRICS} metrics")
            for metric, value in metrics.items():
                if len(metric) > 64:
                    raise ingest.ItemRejected(
                        "data.metrics: a metric name is longer than 64 characters"
                    )
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not 0 <= value <= 100
                ):
                    raise ingest.ItemRejected(
                        f"data.metrics.{metric} must be a score from 0 to 100"
                    )
        recommendations = data.get("recommendations") or []
        if not isinstance(recommendations, list) or not all(
            isinstance(line, str) and 0 < len(line.strip()) <= 500 for line in recommendations
        ):
            raise ingest.ItemRejected(
                "data.recommendations must be a list of non-empty strings of at most 500 "
                "characters"
            )
        max_lines = MAX_RECOMMENDATIONS
        if len(recommendations) > max_lines:
            raise ingest.ItemRejected(f"data.recommendations holds more than {max_lines} lines")
        snapshot = self.sudo().create(
            {
                "equipment_id": equipment.id,
                "measured_at": ts,
                "score": score,
                "metric_scores": metrics,
                "recommendations": "\n".join(line.strip() for line in recommendations) or False,
            }
        )
        return snapshot, {"band": snapshot.band}
