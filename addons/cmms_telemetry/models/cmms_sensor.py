# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Sensor settings the connector needs, in the order of the configuration
# method's reply (see docs/contracts.md).
CONNECTOR_FIELDS = (
    "unit",
    "nominal",
    "signal_low",
    "signal_high",
    "low_critical",
    "low_warning",
    "high_warning",
    "high_critical",
    "deadband",
    "on_delay_s",
    "interval_s",
    "roc_limit",
    "stuck_deadband",
    "stuck_window_s",
    "cusum_k",
    "cusum_h",
)
OPTIONAL_LIMITS = ("low_critical", "low_warning", "high_warning", "high_critical")
# Who may record a calibration (operators may not).
CALIBRATION_GROUPS = (
    "cmms_parfum.cmms_parfum_group_technician",
    "cmms_parfum.cmms_parfum_group_supervisor",
    "cmms_parfum.cmms_parfum_group_manager",
)


class CmmsSensor(models.Model):
    _name = "cmms.sensor"
    _description = "Telemetry sensor"
    _inherit = ["cmms.undeletable.mixin", "mail.thread"]
    _order = "tag"
    _rec_name = "tag"

    # Tag, variable, unit, nominal value and range are the instrument's,
    # kept once in the instrument register on the equipment; writing them
    # here writes the instrument (the columns are kept in step by the ORM
    # for searching, ordering and the connector's version stamp).
    tag = fields.Char(
        related="equipment_id.cmms_tag",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
    )
    active = fields.Boolean(default=True, tracking=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Instrument",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        help="The instrument this signal comes from: its tag, unit and range are its own.",
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    measured_variable = fields.Selection(
        related="equipment_id.instrument_type", store=True, readonly=False
    )
    unit = fields.Char(
        related="equipment_id.instrument_unit",
        store=True,
        readonly=False,
        tracking=True,
    )
    nominal = fields.Float(
        related="equipment_id.nominal_value",
        store=True,
        readonly=False,
        tracking=True,
        help="Expected operating point.",
    )
    signal_low = fields.Float(
        related="equipment_id.range_low",
        store=True,
        readonly=False,
        tracking=True,
        help="Lower bound of the signal (4 mA equivalent): the instrument's range.",
    )
    signal_high = fields.Float(
        related="equipment_id.range_high",
        store=True,
        readonly=False,
        tracking=True,
        help="Upper bound of the signal (20 mA equivalent): the instrument's range.",
    )
    # Limits are optional: a limit that is not set is not checked. Odoo
    # floats have no NULL, so each carries a flag.
    use_low_critical = fields.Boolean("Low critical limit", tracking=True)
    low_critical = fields.Float(tracking=True)
    use_low_warning = fields.Boolean("Low warning limit", tracking=True)
    low_warning = fields.Float(tracking=True)
    use_high_warning = fields.Boolean("High warning limit", tracking=True)
    high_warning = fields.Float(tracking=True)
    use_high_critical = fields.Boolean("High critical limit", tracking=True)
    high_critical = fields.Float(tracking=True)
    deadband = fields.Float(
        tracking=True, help="Hysteresis: a limit clears only this far back inside."
    )
    on_delay_s = fields.Float(
        "On-delay (s)", tracking=True, help="How long a limit must be crossed to alarm."
    )
    interval_s = fields.Float(
        "Publish interval (s)",
        default=1.0,
        tracking=True,
        help="Expected time between readings; silence for twice this is a data gap.",
    )
    roc_limit = fields.Float(
        "Rate-of-change limit (/s)", tracking=True, help="0 disables the check."
    )
    stuck_deadband = fields.Float(tracking=True)
    stuck_window_s = fields.Float("Stuck window (s)", default=900.0, tracking=True)
    cusum_k = fields.Float("CUSUM k (sigma)", default=0.5, tracking=True)
    cusum_h = fields.Float(
        "CUSUM h (sigma)", default=5.0, tracking=True, help="0 disables drift detection."
    )
    last_calibration_at = fields.Datetime(
        "Last calibration",
        related="equipment_id.last_calibration_at",
        store=True,
        help="The instrument's newest approved calibration. The connector learns the drift "
        "(CUSUM) baseline again after it changes.",
    )
    alert_ids = fields.One2many("cmms.alert", "sensor_id")
    model_version_ids = fields.One2many("cmms.model.version", "sensor_id")
    active_model_version_id = fields.Many2one(
        "cmms.model.version",
        "Active model",
        compute="_compute_active_model_version_id",
        help="The anomaly model version the connector uses for this sensor.",
    )

    _sql_constraints = [
        ("tag_uniq", "unique(tag)", "A sensor tag must be unique."),
        (
            "equipment_uniq",
            "unique(equipment_id)",
            "An instrument has one sensor: register each signal as an instrument of its own "
            "(a child of its machine).",
        ),
    ]

    @api.depends("model_version_ids.is_active")
    def _compute_active_model_version_id(self):
        for sensor in self:
            sensor.active_model_version_id = sensor.model_version_ids.filtered("is_active")[:1]

    @api.constrains("equipment_id", "tag", "unit")
    def _check_instrument_register(self):
        for sensor in self:
            if not sensor.tag or not sensor.unit:
                raise ValidationError(
                    self.env._(
                        "The instrument %(name)s needs a tag and a unit before it gets a sensor.",
                        name=sensor.equipment_id.display_name,
                    )
                )

    @api.constrains(
        "signal_low",
        "signal_high",
        "low_critical",
        "low_warning",
        "high_warning",
        "high_critical",
        "use_low_critical",
        "use_low_warning",
        "use_high_warning",
        "use_high_critical",
        "deadband",
        "interval_s",
        "on_delay_s",
        "stuck_window_s",
        "cusum_k",
        "cusum_h",
    )
    def _check_settings(self):
        for sensor in self:
            if sensor.signal_low >= sensor.signal_high:
                raise ValidationError(
                    self.env._(
                        "%(tag)s: the signal range low bound must be below the high bound.",
                        tag=sensor.tag,
                    )
                )
            limits = [getattr(sensor, name) for name in OPTIONAL_LIMITS if sensor[f"use_{name}"]]
            if limits != sorted(limits):
                raise ValidationError(
                    self.env._(
                        "%(tag)s: limits must be ordered low critical <= low warning "
                        "<= high warning <= high critical.",
                        tag=sensor.tag,
                    )
                )
            if min(sensor.deadband, sensor.on_delay_s, sensor.stuck_deadband) < 0:
                raise ValidationError(
                    self.env._("%(tag)s: deadbands and delays cannot be negative.", tag=sensor.tag)
                )
            if sensor.interval_s <= 0 or sensor.stuck_window_s <= 0:
                raise ValidationError(
                    self.env._(
                        "%(tag)s: the publish interval and the stuck window must be positive.",
                        tag=sensor.tag,
                    )
                )
            if sensor.cusum_k < 0 or sensor.cusum_h < 0:
                raise ValidationError(
                    self.env._("%(tag)s: CUSUM k and h cannot be negative.", tag=sensor.tag)
                )

    def action_record_calibration(self):
        """The instrument's calibration recording dialog (technicians and up).

        Approving the record moves ``last_calibration_at``; the connector
        then resets the sensor's drift detection.
        """
        self.ensure_one()
        user = self.env.user
        if not (self.env.is_superuser() or any(user.has_group(g) for g in CALIBRATION_GROUPS)):
            raise AccessError(
                self.env._(
                    "Only CMMS technicians, supervisors and managers may record a calibration."
                )
            )
        self.check_access("read")
        return self.equipment_id.action_record_calibration()

    def action_train_anomaly_model(self):
        """The training request dialog (CMMS managers): a clean period to learn from."""
        self.ensure_one()
        self.check_access("read")
        return self.env["cmms.connector.job"]._request_action("train_isolation", sensor_id=self.id)

    def _connector_settings(self):
        """The settings of one sensor as the connector reads them (false when unset).

        No value is None: XML-RPC cannot carry it.
        """
        self.ensure_one()
        values = {
            "tag": self.tag,
            "equipment_id": self.equipment_id.id,
            "equipment": self.equipment_id.display_name,
            # The machine the instrument belongs to: the connector's anomaly
            # engine watches the sensors of one machine together.
            "machine": self.equipment_id.parent_id.cmms_tag or False,
        }
        for name in CONNECTOR_FIELDS:
            values[name] = self[name]
        for name in OPTIONAL_LIMITS:
            if not self[f"use_{name}"]:
                values[name] = False
        model = self.active_model_version_id
        values["model_version"] = model._connector_settings() if model else False
        calibrated = self.last_calibration_at
        values["last_calibration_at"] = (
            calibrated.isoformat(timespec="seconds") + "Z" if calibrated else False
        )
        return values

    @api.model
    def _config_version(self):
        """A stamp that changes whenever anything the connector reads changes.

        Sensor settings (last write, count, ids), then digests of the active
        health thresholds, of the active model version of each sensor and of
        the sensors' last calibrations.
        """
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT count(*), max(write_date), coalesce(sum(id), 0),
                   md5(coalesce(string_agg(concat_ws(',', id, last_calibration_at), ';'
                                           ORDER BY id), ''))
              FROM cmms_sensor
            """
        )
        count, last_write, id_sum, calibrations = self.env.cr.fetchone()
        thresholds = self.env["cmms.health.threshold"].sudo()._config_stamp()
        models_ = self.env["cmms.model.version"].sudo()._config_stamp()
        return f"{last_write or ''}|{count}|{id_sum}|{thresholds}|{models_}|{calibrations[:12]}"

    def _cmms_unlink_way_out(self):
        # Deleting a sensor would delete its readings with it.
        return self.env._("archive the sensor instead: its readings stay.")
