# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from . import ingest_validation as ingest
from .telemetry_tools import json_display


class CmmsModelVersion(models.Model):
    """A trained anomaly model of one sensor (the connector keeps the model file).

    At most one version per sensor is active; activating an older one
    deactivates the others, which is how a model is rolled back. The active
    version of each sensor is part of the connector configuration.
    """

    _name = "cmms.model.version"
    _description = "Anomaly model version"
    _order = "sensor_id, trained_at desc, id desc"
    _rec_name = "version"

    sensor_id = fields.Many2one("cmms.sensor", required=True, index=True, ondelete="cascade")
    equipment_id = fields.Many2one(related="sensor_id.equipment_id", store=True)
    company_id = fields.Many2one(related="sensor_id.company_id", store=True)
    version = fields.Char(required=True)
    trained_at = fields.Datetime(required=True)
    trained_by = fields.Char()
    windows_used = fields.Integer(help="Feature windows the model was trained on.")
    contamination = fields.Float(digits=(4, 3), help="Isolation Forest contamination.")
    feature_set_version = fields.Char()
    metrics = fields.Json("Metrics data", help="Training and validation metrics.")
    metrics_display = fields.Text("Metrics", compute="_compute_metrics_display")
    is_active = fields.Boolean("Active version", readonly=True, copy=False, index=True)
    activated_at = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [
        (
            "sensor_version_uniq",
            "unique(sensor_id, version)",
            "A sensor has each model version once.",
        ),
    ]

    def init(self):
        # One active version per sensor, held by the database.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS cmms_model_version_active_uniq
                ON cmms_model_version (sensor_id)
             WHERE is_active
            """
        )

    @api.depends("sensor_id", "version")
    def _compute_display_name(self):
        for model in self:
            model.display_name = f"{model.sensor_id.tag or ''} v{model.version or ''}"

    @api.depends("metrics")
    def _compute_metrics_display(self):
        for model in self:
            model.metrics_display = json_display(model.metrics)

    @api.constrains("contamination", "windows_used")
    def _check_training(self):
        for model in self:
            if model.contamination and not 0 < model.contamination <= 0.5:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the contamination lies in (0, 0.5].", name=model.display_name
                    )
                )
            if model.windows_used < 0:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the number of windows cannot be negative.",
                        name=model.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        active = [bool(vals.pop("is_active", False)) for vals in vals_list]
        models_ = super().create(vals_list)
        for model, is_active in zip(models_, active, strict=True):
            if is_active:
                model._activate()
        return models_

    def write(self, vals):
        if "is_active" in vals:
            vals = dict(vals)
            is_active = vals.pop("is_active")
            res = super().write(vals) if vals else True
            for model in self:
                if is_active:
                    model._activate()
                elif model.is_active:
                    super(CmmsModelVersion, model).write({"is_active": False})
            return res
        return super().write(vals)

    def action_activate(self):
        """Make this version the one the connector uses (a rollback when older)."""
        self.ensure_one()
        self.check_access("write")
        self.sudo()._activate()
        return True

    def _activate(self):
        self.ensure_one()
        if self.is_active:
            return
        others = self.search([("sensor_id", "=", self.sensor_id.id), ("is_active", "=", True)])
        if others:
            super(CmmsModelVersion, others).write({"is_active": False})
            others.flush_recordset(["is_active"])
        super().write({"is_active": True, "activated_at": fields.Datetime.now()})

    def _connector_settings(self):
        """The active version as the connector configuration carries it."""
        self.ensure_one()
        return {
            "version": self.version,
            "trained_at": fields.Datetime.to_string(self.trained_at),
            "feature_set_version": self.feature_set_version or False,
            "contamination": self.contamination or False,
            "windows_used": self.windows_used,
        }

    @api.model
    def _config_stamp(self):
        """A digest of which version is active for which sensor."""
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT md5(coalesce(string_agg(concat_ws(',', sensor_id, id, version), ';'
                                           ORDER BY sensor_id), ''))
              FROM cmms_model_version
             WHERE is_active
            """
        )
        return self.env.cr.fetchone()[0][:12]

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_model_version(self, ts, data, batch):
        """Apply one ``model_version`` item (or the model of a finished training job)."""
        sensor = batch.sensor(ingest.text(data, "tag"))
        version = ingest.text(data, "version", max_length=64)
        active = data.get("active")
        if active is not None and not isinstance(active, bool):
            raise ingest.ItemRejected("data.active must be true or false")
        vals = {
            "sensor_id": sensor.id,
            "version": version,
            "trained_at": ingest.time(data, "trained_at"),
            "trained_by": ingest.text(data, "trained_by", required=False, max_length=128) or False,
            "windows_used": ingest.number(
                data, "windows_used", integer=True, minimum=0, required=False, default=0
            ),
            "contamination": ingest.number(
                data, "contamination", required=False, default=0.0, above=0, maximum=0.5
            ),
            "feature_set_version": ingest.text(
                data, "feature_set_version", required=False, max_length=64
            )
            or False,
            "metrics": ingest.json_object(data, "metrics"),
        }
        Model = self.sudo()
        model = Model.search([("sensor_id", "=", sensor.id), ("version", "=", version)], limit=1)
        if model:
            model.write(vals)
        else:
            model = Model.create(vals)
        if active is not None:
            model.is_active = active
        return model, None
