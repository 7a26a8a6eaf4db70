# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .telemetry_tools import COMPONENT_CODE_RE, METRIC_CODE_RE


class CmmsHealthThreshold(models.Model):
    """Scoring limits of one metric of one machine component.

    The connector scores component health; the limits it scores with are
    configured here and read through ``get_connector_config``.
    """

    _name = "cmms.health.threshold"
    _description = "Component health threshold"
    _order = "component, metric"
    _rec_name = "metric"

    component = fields.Char(
        required=True,
        index=True,
        help="Component code as the machine reports it: PRE_FEEDER, FEEDER, PRINTING, "
        "SLOTTER, DOWN_STACKER...",
    )
    metric = fields.Char(
        required=True, help="Metric key in the machine payload, e.g. registration_error_mm."
    )
    unit = fields.Char()
    good = fields.Float("Good limit", digits=(16, 4), required=True)
    warning = fields.Float("Warning limit", digits=(16, 4), required=True)
    critical = fields.Float("Critical limit", digits=(16, 4), required=True)
    active = fields.Boolean(default=True)
    note = fields.Char()

    _sql_constraints = [
        (
            "component_metric_uniq",
            "unique(component, metric)",
            "A metric has one set of limits per component.",
        ),
    ]

    @api.depends("component", "metric")
    def _compute_display_name(self):
        for threshold in self:
            threshold.display_name = f"{threshold.component or ''} / {threshold.metric or ''}"

    @api.constrains("component", "metric", "good", "warning", "critical")
    def _check_limits(self):
        for threshold in self:
            if not COMPONENT_CODE_RE.match(threshold.component or ""):
                raise ValidationError(
                    self.env._(
                        "The component code %(code)s must be upper case letters, digits and "
                        "underscores (PRINTING, DOWN_STACKER).",
                        code=threshold.component,
                    )
                )
            if not METRIC_CODE_RE.match(threshold.metric or ""):
                raise ValidationError(
                    self.env._(
                        "The metric %(metric)s must be lower case letters, digits and "
                        "underscores (registration_error_mm).",
                        metric=threshold.metric,
                    )
                )
            good, warning, critical = threshold.good, threshold.warning, threshold.critical
            if not (good < warning < critical or good > warning > critical):
                raise ValidationError(
                    self.env._(
                        "%(component)s / %(metric)s: the warning limit must lie strictly "
                        "between the good and the critical limits.",
                        component=threshold.component,
                        metric=threshold.metric,
                    )
                )

    @api.model
    def _connector_thresholds(self):
        """``{component: {metric: {"good", "warning", "critical"}}}`` of the active limits."""
        result = {}
        for threshold in self.search([]):
            result.setdefault(threshold.component, {})[threshold.metric] = {
                "good": threshold.good,
                "warning": threshold.warning,
                "critical": threshold.critical,
            }
        return result

    @api.model
    def _config_stamp(self):
        """A digest of the active limits: it changes with any of them."""
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT md5(coalesce(string_agg(
                       concat_ws(',', component, metric, good, warning, critical),
                       ';' ORDER BY component, metric), ''))
              FROM cmms_health_threshold
             WHERE active
            """
        )
        return self.env.cr.fetchone()[0][:12]
