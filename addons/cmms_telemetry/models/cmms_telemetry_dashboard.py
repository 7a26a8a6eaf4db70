# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The data behind the telemetry dashboard (client action ``cmms_telemetry.dashboard``)."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.cmms_parfum.models.maintenance_request import OPEN_STATES

from .cmms_reading import RESOLUTIONS
from .cmms_sensor import OPTIONAL_LIMITS
from .telemetry_tools import health_band, is_choice, user_in_groups

DASHBOARD_GROUPS = (
    "cmms_parfum.cmms_parfum_group_operator",
    "cmms_parfum.cmms_parfum_group_technician",
    "cmms_parfum.cmms_parfum_group_supervisor",
    "cmms_parfum.cmms_parfum_group_manager",
)
# The bus channel the dashboard listens on and the notification it gets;
# ir.websocket lets only the users above subscribe to it.
BUS_CHANNEL = "cmms_telemetry.dashboard"
BUS_NOTIFICATION = "cmms_telemetry/update"
# Trend ranges the dashboard offers (hours); up to a day the points are the
# minute aggregates, beyond it hours.
TREND_HOURS = (1, 6, 24, 72, 168)
MINUTE_POINTS_UP_TO_HOURS = 24
# Health of equipment without a health snapshot: 100 minus these per open alert.
SEVERITY_PENALTY = {"advisory": 5.0, "warning": 20.0, "critical": 40.0}
TILES = ("instruments", "calibration_overdue", "active_alerts", "open_work_orders")
# A calibration register, once one exists, provides this model.
CALIBRATION_MODEL = "cmms.calibration"


class CmmsTelemetryDashboard(models.AbstractModel):
    _name = "cmms.telemetry.dashboard"
    _description = "Telemetry dashboard"

    @api.model
    def _may_read_dashboard(self):
        return user_in_groups(self.env, DASHBOARD_GROUPS)

    @api.model
    def _check_dashboard_access(self):
        if not self._may_read_dashboard():
            raise AccessError(
                self.env._(
                    "Only CMMS operators, technicians, supervisors and managers may "
                    "open the telemetry dashboard."
                )
            )

    # -- public methods (called by the client action) ------------------------

    @api.model
    def get_dashboard(self):
        """Tiles and one card per active sensor, as the current user may see them.

        Returns
        -------
        dict
            ``{"tiles": [{"key", "value", "calibration_register"?}, ...],
            "cards": [{"sensor_id", "tag", "equipment_id", "equipment", "unit",
            "value", "value_at", "health_score", "health_band",
            "health_band_label", "health_source", "open_alerts"}, ...],
            "generated_at": str}``; ``health_source`` is
            ``snapshot`` (the equipment's current health) or ``alerts`` (100
            minus a penalty per open alert, for equipment never scored).
        """
        self._check_dashboard_access()
        sensors = self.env["cmms.sensor"].search([])
        Alert = self.env["cmms.alert"]
        open_alerts = [("state", "!=", "resolved")]
        calibration_register = CALIBRATION_MODEL in self.env
        tiles = [
            {"key": "instruments", "value": len(sensors)},
            {
                "key": "calibration_overdue",
                # Instruments past their due date (as the user may see them).
                "value": self.env["maintenance.equipment"].search_count(
                    [("calibration_state", "=", "overdue")]
                ),
                "calibration_register": calibration_register,
            },
            {"key": "active_alerts", "value": Alert.search_count(open_alerts)},
            {
                "key": "open_work_orders",
                "value": self.env["maintenance.request"].search_count(
                    [("cmms_state", "in", OPEN_STATES)]
                ),
            },
        ]
        return {
            "tiles": tiles,
            "cards": self._cards(sensors),
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
        }

    @api.model
    def get_trend(self, sensor_id, hours):
        """Points and limits of one sensor over the last ``hours`` hours.

        Parameters
        ----------
        sensor_id : int
        hours : int
            One of ``TREND_HOURS``.

        Returns
        -------
        dict
            ``{"sensor_id", "tag", "unit", "hours", "resolution", "start", "end",
            "points": [{"t", "mean", "min", "max"}, ...], "limits": {...},
            "signal_low", "signal_high", "nominal"}``; points are oldest
            first, ``t`` the start of the period (UTC); a limit that is not
            set is false (no value is None: XML-RPC carries no None).
        """
        self._check_dashboard_access()
        if not is_choice(hours, TREND_HOURS):
            raise UserError(
                self.env._(
                    "A trend covers %(allowed)s hours, not %(hours)s.",
                    allowed=", ".join(str(h) for h in TREND_HOURS),
                    hours=hours,
                )
            )
        hours = int(hours)
        if isinstance(sensor_id, bool) or not isinstance(sensor_id, int):
            raise UserError(self.env._("Choose a sensor for the trend."))
        sensor = self.env["cmms.sensor"].with_context(active_test=False).browse(sensor_id)
        if not sensor.exists():
            raise UserError(self.env._("This sensor no longer exists."))
        sensor.check_access("read")
        resolution = "minute" if hours <= MINUTE_POINTS_UP_TO_HOURS else "hour"
        now = fields.Datetime.now()
        since = now - timedelta(hours=hours)
        return {
            "sensor_id": sensor.id,
            "tag": sensor.tag,
            "unit": sensor.unit,
            "hours": hours,
            "resolution": resolution,
            "start": fields.Datetime.to_string(since),
            "end": fields.Datetime.to_string(now),
            "points": self._trend_points(sensor, since, resolution),
            "limits": {
                name: sensor[name] if sensor[f"use_{name}"] else False for name in OPTIONAL_LIMITS
            },
            "signal_low": sensor.signal_low,
            "signal_high": sensor.signal_high,
            "nominal": sensor.nominal,
        }

    @api.model
    def get_tile_action(self, key):
        """The list behind one tile."""
        self._check_dashboard_access()
        if key not in TILES:
            raise UserError(self.env._("Unknown dashboard tile %(key)s.", key=key))
        Action = self.env["ir.actions.act_window"]
        if key == "instruments":
            return Action._for_xml_id("cmms_telemetry.cmms_sensor_action")
        if key == "open_work_orders":
            action = Action._for_xml_id("maintenance.hr_equipment_request_action")
            action.update(
                name=self.env._("Open work orders"),
                domain=[("cmms_state", "in", OPEN_STATES)],
                context={},
                view_mode="list,form",
                views=[(False, "list"), (False, "form")],
            )
            return action
        if key == "calibration_overdue":
            action = Action._for_xml_id("cmms_parfum.maintenance_equipment_action_instruments")
            action.update(
                name=self.env._("Calibration overdue"),
                domain=[("calibration_state", "=", "overdue")],
                context={},
                view_mode="list,form",
                views=[(False, "list"), (False, "form")],
            )
            return action
        action = Action._for_xml_id("cmms_telemetry.cmms_alert_action")
        action["context"] = {"search_default_open": 1}
        return action

    # -- helpers ---------------------------------------------------------------

    @api.model
    def _cards(self, sensors):
        latest = self._latest_readings(sensors)
        equipment = sensors.equipment_id
        open_alerts = self.env["cmms.alert"]._read_group(
            [("equipment_id", "in", equipment.ids), ("state", "!=", "resolved")],
            ["equipment_id", "severity"],
            ["__count"],
        )
        alert_count, penalty = {}, {}
        for alert_equipment, severity, count in open_alerts:
            key = alert_equipment.id
            alert_count[key] = alert_count.get(key, 0) + count
            penalty[key] = penalty.get(key, 0.0) + SEVERITY_PENALTY.get(severity, 0.0) * count
        bands = dict(
            self.env["maintenance.equipment"]
            ._fields["health_band"]
            ._description_selection(self.env)
        )
        cards = []
        for sensor in sensors:
            machine = sensor.equipment_id
            if machine.health_updated_at:
                score, band, source = machine.health_score, machine.health_band, "snapshot"
            else:
                score = max(0.0, 100.0 - penalty.get(machine.id, 0.0))
                band, source = health_band(score), "alerts"
            reading = latest.get(sensor.id)
            cards.append(
                {
                    "sensor_id": sensor.id,
                    "tag": sensor.tag,
                    "equipment_id": machine.id,
                    "equipment": machine.display_name,
                    "unit": sensor.unit,
                    "value": reading.last_value if reading else False,
                    "value_at": fields.Datetime.to_string(reading.last_at) if reading else False,
                    "health_score": round(score, 1),
                    "health_band": band,
                    "health_band_label": bands.get(band, ""),
                    "health_source": source,
                    "open_alerts": alert_count.get(machine.id, 0),
                }
            )
        return cards

    @api.model
    def _latest_readings(self, sensors):
        """The newest aggregate of each sensor the user may read, by sensor id.

        One index lookup per sensor and resolution (the unique index on
        sensor, resolution and period start), however long the history.
        """
        if not sensors:
            return {}
        Reading = self.env["cmms.reading"]
        query = Reading._search([("sensor_id", "in", sensors.ids)])
        table = SQL.identifier(query.table)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (sensor.id) latest.id
                  FROM unnest(%(sensor_ids)s::int[]) AS sensor(id)
            CROSS JOIN unnest(%(resolutions)s::varchar[]) AS resolution(name)
            CROSS JOIN LATERAL (
                       SELECT %(table)s.id, %(table)s.period_start
                         FROM %(from)s
                        WHERE %(where)s
                          AND %(table)s.sensor_id = sensor.id
                          AND %(table)s.resolution = resolution.name
                     ORDER BY %(table)s.period_start DESC
                        LIMIT 1
                       ) AS latest
              ORDER BY sensor.id, latest.period_start DESC, latest.id DESC
                """,
                sensor_ids=sensors.ids,
                resolutions=[name for name, _label in RESOLUTIONS],
                table=table,
                **{"from": query.from_clause, "where": query.where_clause},
            )
        )
        return {reading.sensor_id.id: reading for reading in Reading.browse(r[0] for r in rows)}

    @api.model
    def _trend_points(self, sensor, since, resolution):
        """Aggregates of ``sensor`` since ``since``, folded to ``resolution`` periods.

        Minute rows are read as they are; for hourly points, the minute rows
        (and any hourly rows already folded by the retention job) are merged
        per hour, the mean weighted by the sample counts.
        """
        Reading = self.env["cmms.reading"]
        query = Reading._search(
            [
                ("sensor_id", "=", sensor.id),
                # All resolutions, named so that the unique index serves the range.
                ("resolution", "in", [name for name, _label in RESOLUTIONS]),
                ("period_start", ">=", since),
            ]
        )
        table = SQL.identifier(query.table)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT date_trunc(%(unit)s, %(table)s.period_start) AS bucket,
                       min(%(table)s.min_value),
                       max(%(table)s.max_value),
                       sum(%(table)s.mean_value * %(table)s.sample_count)
                           / sum(%(table)s.sample_count)
                  FROM %(from)s
                 WHERE %(where)s
              GROUP BY bucket
              ORDER BY bucket
                """,
                unit=resolution,
                table=table,
                **{"from": query.from_clause, "where": query.where_clause},
            )
        )
        return [
            {
                "t": fields.Datetime.to_string(bucket),
                "min": low,
                "max": high,
                "mean": mean,
            }
            for bucket, low, high, mean in rows
        ]

    @api.model
    def _notify_update(self, sensor_ids=(), equipment_ids=(), kinds=()):
        """Tell the open dashboards that telemetry changed: one bus notification."""
        self.env["bus.bus"]._sendone(
            BUS_CHANNEL,
            BUS_NOTIFICATION,
            {
                "sensor_ids": sorted(set(sensor_ids)),
                "equipment_ids": sorted(set(equipment_ids)),
                "kinds": sorted(set(kinds)),
            },
        )
