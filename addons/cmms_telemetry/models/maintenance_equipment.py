# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .telemetry_tools import (
    COMPONENT_CODE_RE,
    HEALTH_BANDS,
    HEALTH_INDEX_BANDS,
    get_param,
    health_index_band,
    rpn_score,
)


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"
    # Refreshed by every health snapshot of the connector: not audited.
    _cmms_audit_skip_fields = ("health_score", "health_band", "health_updated_at")

    sensor_ids = fields.One2many("cmms.sensor", "equipment_id")
    alert_ids = fields.One2many("cmms.alert", "equipment_id")
    open_alert_count = fields.Integer(compute="_compute_open_alert_count")
    cmms_component_code = fields.Char(
        "Component code",
        index="btree_not_null",
        tracking=True,
        help="Code of this component in the machine's telemetry (PRE_FEEDER, FEEDER, "
        "PRINTING, SLOTTER, DOWN_STACKER): links health thresholds, downtime reasons and "
        "downtime events to it.",
    )
    # Current component health, carried from the newest health snapshot.
    health_score = fields.Float(digits=(5, 1), readonly=True)
    health_band = fields.Selection(HEALTH_BANDS, readonly=True)
    health_updated_at = fields.Datetime("Health measured at", readonly=True)
    health_snapshot_ids = fields.One2many("cmms.health.snapshot", "equipment_id")
    # FMEA and the health index.
    fmea_ids = fields.One2many("cmms.fmea", "equipment_id", "Failure modes")
    rpn_max = fields.Integer(
        "Highest RPN",
        compute="_compute_rpn_max",
        store=True,
        help="Risk priority number of the worst active failure mode.",
    )
    rpn_score = fields.Float(
        "RPN score", digits=(5, 1), compute="_compute_health_index", help="100 - RPN / 10."
    )
    oee_score = fields.Float(
        "OEE score",
        digits=(5, 1),
        compute="_compute_health_index",
        help="Mean OEE (%) of the recent OEE records of this equipment, or of its parent "
        "machine when it has none.",
    )
    health_index = fields.Float(
        digits=(5, 1),
        compute="_compute_health_index",
        help="RPN score x RPN weight + OEE score x (1 - RPN weight); from 70 good, from 50 "
        "warning, below critical.",
    )
    health_index_band = fields.Selection(HEALTH_INDEX_BANDS, compute="_compute_health_index")
    oee_record_ids = fields.One2many("cmms.oee.record", "equipment_id")
    # What to do about a weak component or machine (rules in cmms.health.advisor).
    health_recommendations = fields.Text(
        "Recommendations",
        compute="_compute_health_recommendations",
        help="Actions suggested by the health band of the component and by the health index, "
        "most urgent first: ACT, SCHEDULE, MONITOR.",
    )
    health_action_level = fields.Selection(
        [("monitor", "Monitor"), ("schedule", "Schedule"), ("act", "Act")],
        "Most urgent recommendation",
        compute="_compute_health_recommendations",
    )

    @api.depends("alert_ids.state")
    def _compute_open_alert_count(self):
        groups = self.env["cmms.alert"]._read_group(
            [("equipment_id", "in", self.ids), ("state", "!=", "resolved")],
            ["equipment_id"],
            ["__count"],
        )
        counts = {equipment.id: count for equipment, count in groups}
        for equipment in self:
            equipment.open_alert_count = counts.get(equipment.id, 0)

    @api.depends("fmea_ids.rpn", "fmea_ids.active")
    def _compute_rpn_max(self):
        for equipment in self:
            equipment.rpn_max = max(equipment.fmea_ids.mapped("rpn") or [0])

    @api.depends("rpn_max", "parent_id")
    def _compute_health_index(self):
        rpn_weight = min(1.0, max(0.0, get_param(self.env, "health_rpn_weight")))
        oee = {equipment.id: value for equipment, value in self._recent_oee_groups(["oee:avg"])}
        for equipment in self:
            score_rpn = rpn_score(equipment.rpn_max) if equipment.rpn_max else None
            score_oee = oee.get(equipment.id)
            if score_oee is None and equipment.parent_id:
                score_oee = oee.get(equipment.parent_id.id)
            if score_oee is not None:
                score_oee = min(100.0, score_oee)
            equipment.rpn_score = score_rpn or 0.0
            equipment.oee_score = score_oee or 0.0
            if score_rpn is None and score_oee is None:
                equipment.health_index = 0.0
                equipment.health_index_band = False
                continue
            if score_rpn is None:
                index = score_oee
            elif score_oee is None:
                index = score_rpn
            else:
                index = score_rpn * rpn_weight + score_oee * (1.0 - rpn_weight)
            equipment.health_index = index
            equipment.health_index_band = health_index_band(index)

    def _compute_health_recommendations(self):
        advice = self.env["cmms.health.advisor"]._for_equipment(self)
        labels = self.env["cmms.health.advisor"]._level_labels()
        for equipment in self:
            recommendations = advice.get(equipment.id) or []
            equipment.health_recommendations = (
                "\n".join(f"[{labels[r['level']]}] {r['text']}" for r in recommendations) or False
            )
            equipment.health_action_level = (
                recommendations[0]["level"] if recommendations else False
            )

    def _recent_oee_groups(self, aggregates):
        """``_read_group`` of the recent OEE records (``health_oee_days``) of these
        equipments and their parents, by equipment: the records behind the OEE score."""
        since = fields.Datetime.now() - timedelta(days=get_param(self.env, "health_oee_days"))
        ids = set(self.ids) | set(self.parent_id.ids)
        return (
            self.env["cmms.oee.record"]
            .sudo()
            ._read_group(
                [("equipment_id", "in", list(ids)), ("period_start", ">=", since)],
                ["equipment_id"],
                aggregates,
            )
        )

    def _recent_oee_factors(self):
        """Mean availability, performance and quality (%) behind this equipment's OEE
        score (its own records, else its parent's), or None without records."""
        self.ensure_one()
        groups = {
            equipment.id: values
            for equipment, *values in self._recent_oee_groups(
                ["availability:avg", "performance:avg", "quality:avg"]
            )
        }
        values = groups.get(self.id) or groups.get(self.parent_id.id)
        if not values:
            return None
        return dict(zip(("availability", "performance", "quality"), values, strict=True))

    @api.constrains("cmms_component_code")
    def _check_cmms_component_code(self):
        for equipment in self.filtered("cmms_component_code"):
            if not COMPONENT_CODE_RE.match(equipment.cmms_component_code):
                raise ValidationError(
                    self.env._(
                        "The component code %(code)s must be upper case letters, digits and "
                        "underscores (PRINTING, DOWN_STACKER).",
                        code=equipment.cmms_component_code,
                    )
                )

    def action_view_open_alerts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("cmms_telemetry.cmms_alert_action")
        action["domain"] = [("equipment_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action

    def action_request_repair_prediction(self):
        """Ask the connector how long a repair of this machine (or component) takes."""
        self.ensure_one()
        self.check_access("read")
        return self.env["cmms.connector.job"]._request_action(
            "predict_duration", equipment_id=self.id
        )

    def action_view_health_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cmms_telemetry.cmms_health_snapshot_action"
        )
        action["domain"] = [("equipment_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_propose_work_order(self):
        """A corrective work order for the equipment's ACT recommendations, to review and save.

        Nothing is written here: the form opens prefilled (equipment, high
        priority, the recommendations, the repair duration the newest
        prediction gives), and saving it goes through the usual rights.
        """
        self.ensure_one()
        advice = self.env["cmms.health.advisor"]._for_equipment(self)[self.id]
        acts = [r for r in advice if r["level"] == "act"]
        if not acts:
            raise UserError(
                self.env._(
                    "%(equipment)s has no recommendation to act on: a work order is proposed "
                    "for a component in the critical band or a health index under 50.",
                    equipment=self.display_name,
                )
            )
        prediction = self._latest_prediction()
        lines = [r["text"] for r in acts]
        if prediction:
            lines.append(
                self.env._(
                    "Predicted repair duration: %(hours)s h (model %(model)s, %(date)s).",
                    hours=round(prediction.predicted_hours, 2),
                    model=prediction.model_version,
                    date=fields.Datetime.to_string(prediction.predicted_at)[:16],
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Proposed work order"),
            "res_model": "maintenance.request",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_equipment_id": self.id,
                "default_name": self.env._(
                    "%(equipment)s: %(action)s", equipment=self.display_name, action=acts[0]["text"]
                )[:200],
                "default_description": "\n".join(lines),
                "default_maintenance_type": "corrective",
                "default_priority": "3",
                "default_duration": prediction.predicted_hours if prediction else 0.0,
            },
        }

    def _latest_prediction(self):
        """The newest repair-duration prediction of this equipment, else of its
        components (a machine), else of its parent (a component)."""
        self.ensure_one()
        Prediction = self.env["cmms.prediction"]
        for ids in (self.ids, self.child_ids.ids, self.parent_id.ids):
            if ids:
                prediction = Prediction.search([("equipment_id", "in", ids)], limit=1)
                if prediction:
                    return prediction
        return Prediction

    def _find_component(self, code):
        """The child of this machine that carries component ``code``, if any."""
        self.ensure_one()
        if not code:
            return self.browse()
        return self.search(
            [("parent_id", "=", self.id), ("cmms_component_code", "=", code)], limit=1
        )

    def _alert_suppression_end(self, ts):
        """End of the suppression window that covers ``ts``, or False.

        The window opens when a work order on this equipment is completed and
        lasts ``cmms_telemetry.alert_suppression_minutes`` minutes (60; 0
        turns suppression off).
        """
        self.ensure_one()
        minutes = get_param(self.env, "alert_suppression_minutes")
        if minutes <= 0 or not ts:
            return False
        request = (
            self.env["maintenance.request"]
            .sudo()
            .search(
                [
                    ("equipment_id", "=", self.id),
                    ("cmms_done_at", "<=", ts),
                    ("cmms_done_at", ">", ts - timedelta(minutes=minutes)),
                ],
                order="cmms_done_at desc",
                limit=1,
            )
        )
        return request.cmms_done_at + timedelta(minutes=minutes) if request else False

    # -- calibration (the register is in cmms_parfum) --------------------------

    def _calibration_overdue(self, request):
        """One open ``calibration_overdue`` alert, linked to the calibration work order.

        The alert is the instrument's, not one of its signals': no sensor.
        """
        res = super()._calibration_overdue(request)
        today = fields.Date.context_today(self)
        alert = self.env["cmms.alert"]._report(
            self,
            "calibration_overdue",
            "alert_active",
            fields.Datetime.now(),
            severity="critical" if self.criticality == "critical" else "warning",
            message=self.env._(
                "Calibration was due on %(date)s (%(days)s days ago).",
                date=fields.Date.to_string(self.next_calibration_date),
                days=(today - self.next_calibration_date).days,
            ),
        )
        if alert and not alert.request_id:
            alert.sudo().request_id = request
        return res

    def _on_calibration_approved(self, calibration):
        """The calibration-overdue alert is resolved; the sensor's last calibration (and
        with it the connector's configuration) moves, which resets its CUSUM."""
        res = super()._on_calibration_approved(calibration)
        if self.calibration_state != "overdue":
            alert = self.env["cmms.alert"].sudo()._open_for(self, "calibration_overdue")
            if alert:
                now = fields.Datetime.now()
                alert.write(
                    {
                        "condition": "cleared",
                        "cleared_at": now,
                        "state": "resolved",
                        "resolved_by_id": self.env.uid,
                        "resolved_at": now,
                        "resolution_note": self.env._(
                            "Calibrated: %(record)s approved.", record=calibration.display_name
                        ),
                    }
                )
        return res

    def _calibration_drift_rate(self):
        """The newest drift rate the connector reported since the last calibration, in
        fail limits per day."""
        res = super()._calibration_drift_rate()
        tolerance = self._limit_in_units(self.fail_limit)
        domain = [
            ("equipment_id", "=", self.id),
            ("alert_type", "=", "drift"),
            ("drift_rate_at", "!=", False),
        ]
        if self.last_calibration_at:
            domain.append(("drift_rate_at", ">=", self.last_calibration_at))
        alert = self.env["cmms.alert"].sudo().search(domain, order="drift_rate_at desc", limit=1)
        if not alert or tolerance <= 0:
            return res
        return abs(alert.drift_rate) / tolerance
