# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from odoo.addons.bus.models.bus import channel_with_db, json_dump

from ..models.cmms_telemetry_dashboard import BUS_CHANNEL, BUS_NOTIFICATION
from .common import TelemetryCommon

NOW = datetime(2026, 11, 22, 10, 30)


class TestDashboard(TelemetryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = NOW
        cls.Dashboard = cls.env["cmms.telemetry.dashboard"]

    def _reading(self, sensor, minutes_ago, mean, low=None, high=None, last=None, count=60,
                 resolution="minute"):  # fmt: skip
        start = self.now - timedelta(minutes=minutes_ago)
        low = mean if low is None else low
        high = mean if high is None else high
        return self.env["cmms.reading"].create(
            {
                "sensor_id": sensor.id,
                "resolution": resolution,
                "period_start": start,
                "min_value": low,
                "max_value": high,
                "mean_value": mean,
                "last_value": mean if last is None else last,
                "last_at": start,
                "sample_count": count,
            }
        )

    def _tiles(self, user):
        data = self.Dashboard.with_user(user).get_dashboard()
        return {tile["key"]: tile["value"] for tile in data["tiles"]}, {
            card["tag"]: card for card in data["cards"]
        }

    def _bus_count(self):
        self.env.cr.precommit.run()  # bus.bus records are created before commit
        channel = json_dump(channel_with_db(self.env.cr.dbname, BUS_CHANNEL))
        return self.env["bus.bus"].sudo().search_count([("channel", "=", channel)])

    def test_tiles_count_what_the_user_sees(self):
        before, _cards = self._tiles(self.technician)
        self.assertEqual(set(before), {"instruments", "calibration_overdue", "active_alerts",
                                       "open_work_orders"})  # fmt: skip
        Alert = self.env["cmms.alert"]
        Alert.create({"equipment_id": self.equipment.id, "sensor_id": self.sensor.id,
                      "alert_type": "rule_violation", "severity": "warning"})  # fmt: skip
        Alert.create({"equipment_id": self.equipment.id, "alert_type": "calibration_overdue",
                      "severity": "advisory"})  # fmt: skip
        # The tile counts instruments past their due date, not alerts.
        self.equipment.write({"fail_limit": 0.5, "calibration_interval_days": 180,
                              "next_calibration_date": "2020-01-01"})  # fmt: skip
        self.low_equipment.write({"fail_limit": 0.5, "calibration_interval_days": 180,
                                  "next_calibration_date": "2999-01-01"})  # fmt: skip
        resolved = Alert.create({"equipment_id": self.low_equipment.id, "alert_type": "drift",
                                 "severity": "critical", "resolution_note": "fixed"})  # fmt: skip
        resolved.action_resolve()
        Request = self.env["maintenance.request"]
        Request.create({"name": "Mine", "equipment_id": self.equipment.id,
                        "user_id": self.technician.id})  # fmt: skip
        Request.create({"name": "Someone else's", "equipment_id": self.equipment.id,
                        "user_id": self.other_technician.id})  # fmt: skip
        archived = self.env["maintenance.equipment"].create(
            {"name": "Archived transmitter", "cmms_tag": "PT-T99", "cmms_kind": "instrument"}
        )
        self.env["cmms.sensor"].create(
            {"tag": "PT-T99", "equipment_id": archived.id, "unit": "bar", "active": False}
        )
        after, _cards = self._tiles(self.technician)
        self.assertEqual(after["instruments"], before["instruments"])
        self.assertEqual(after["active_alerts"], before["active_alerts"] + 2)
        self.assertEqual(after["calibration_overdue"], before["calibration_overdue"] + 1)
        # Technicians count the work orders assigned to them only.
        self.assertEqual(after["open_work_orders"], before["open_work_orders"] + 1)
        supervisor_tiles, _cards = self._tiles(self.supervisor)
        self.assertGreaterEqual(supervisor_tiles["open_work_orders"], 2)

    def test_calibration_tile_counts_overdue_instruments(self):
        data = self.Dashboard.with_user(self.operator).get_dashboard()
        tile = next(t for t in data["tiles"] if t["key"] == "calibration_overdue")
        self.assertTrue(tile["calibration_register"])
        overdue = self.env["maintenance.equipment"].search_count(
            [("calibration_state", "=", "overdue")]
        )
        self.assertEqual(tile["value"], overdue)

    def test_card_shows_live_value_and_health(self):
        self._reading(self.sensor, 3, 6.0, 5.9, 6.1)
        self._reading(self.sensor, 1, 6.3, 6.1, 6.5, last=6.42)
        self._reading(self.sensor, 90, 5.0, resolution="hour")
        self.env["cmms.alert"].create(
            [
                {"equipment_id": self.equipment.id, "alert_type": "rule_violation",
                 "severity": "critical"},
                {"equipment_id": self.equipment.id, "alert_type": "drift",
                 "severity": "warning"},
            ]
        )  # fmt: skip
        _tiles, cards = self._tiles(self.operator)
        card = cards["PT-T01"]
        self.assertEqual(card["value"], 6.42)
        self.assertEqual(card["value_at"], "2026-11-22 10:29:00")
        self.assertEqual(card["unit"], "bar")
        self.assertEqual(card["equipment_id"], self.equipment.id)
        self.assertEqual(card["open_alerts"], 2)
        # Never scored: 100 - 40 (critical) - 20 (warning).
        self.assertEqual((card["health_score"], card["health_band"]), (40.0, "warning"))
        self.assertEqual(card["health_source"], "alerts")
        self.assertIs(cards["LT-T02"]["value"], False)
        self.assertEqual(cards["LT-T02"]["health_score"], 100.0)
        # Once scored, the equipment's own health wins.
        self.env["cmms.health.snapshot"].create(
            {"equipment_id": self.equipment.id, "measured_at": self.now, "score": 87.5}
        )
        _tiles, cards = self._tiles(self.operator)
        card = cards["PT-T01"]
        self.assertEqual((card["health_score"], card["health_band"]), (87.5, "excellent"))
        self.assertEqual(card["health_band_label"], "Excellent")
        self.assertEqual(card["health_source"], "snapshot")

    @freeze_time(NOW)
    def test_trend_points_follow_the_range(self):
        self._reading(self.sensor, 5, 6.0, 5.0, 7.0, count=60)
        self._reading(self.sensor, 4, 7.0, 6.5, 9.5, count=20)
        self._reading(self.sensor, 3 * 60, 4.0, 3.0, 5.0, count=30)
        self._reading(self.sensor, 30 * 60, 8.0, count=10)
        self._reading(self.sensor, 9 * 24 * 60, 1.0, resolution="hour")
        self._reading(self.low_sensor, 4, 50.0)
        Dashboard = self.Dashboard.with_user(self.technician)
        trend = Dashboard.get_trend(self.sensor.id, 1)
        self.assertEqual(trend["resolution"], "minute")
        self.assertEqual(trend["start"], "2026-11-22 09:30:00")
        self.assertEqual(trend["end"], "2026-11-22 10:30:00")
        self.assertEqual(
            trend["points"],
            [
                {"t": "2026-11-22 10:25:00", "min": 5.0, "max": 7.0, "mean": 6.0},
                {"t": "2026-11-22 10:26:00", "min": 6.5, "max": 9.5, "mean": 7.0},
            ],
        )
        self.assertEqual(len(Dashboard.get_trend(self.sensor.id, 6)["points"]), 3)
        self.assertEqual(len(Dashboard.get_trend(self.sensor.id, 24)["points"]), 3)
        # Beyond a day: one point per hour, the mean weighted by the samples.
        trend = Dashboard.get_trend(self.sensor.id, 72)
        self.assertEqual(trend["resolution"], "hour")
        self.assertEqual(
            [p["t"] for p in trend["points"]],
            ["2026-11-21 04:00:00", "2026-11-22 07:00:00", "2026-11-22 10:00:00"],
        )
        last_hour = trend["points"][-1]
        self.assertAlmostEqual(last_hour["mean"], (6.0 * 60 + 7.0 * 20) / 80)
        self.assertEqual((last_hour["min"], last_hour["max"]), (5.0, 9.5))
        self.assertEqual(trend["limits"], {"low_critical": False, "low_warning": False,
                                           "high_warning": 9.0, "high_critical": 10.0})  # fmt: skip
        self.assertEqual((trend["signal_low"], trend["signal_high"], trend["nominal"]),
                         (0.0, 16.0, 6.0))  # fmt: skip
        self.assertEqual(trend["unit"], "bar")
        self.assertEqual(Dashboard.get_trend(self.sensor.id, 168)["points"], trend["points"])
        self.assertEqual(Dashboard.get_trend(self.low_sensor.id, 1)["points"][0]["mean"], 50.0)

    def test_trend_takes_only_the_offered_ranges(self):
        Dashboard = self.Dashboard.with_user(self.operator)
        for hours in (0, 2, 12, 720, -1, "6", True, None):
            with self.assertRaises(UserError, msg=hours):
                Dashboard.get_trend(self.sensor.id, hours)
        for sensor_id in (10**8, "1", None, False, [1]):
            with self.assertRaises(UserError, msg=sensor_id):
                Dashboard.get_trend(sensor_id, 6)
        self.assertEqual(Dashboard.get_trend(self.sensor.id, 6.0)["hours"], 6)

    def test_rights(self):
        employee = new_test_user(self.env, "t_employee", groups="base.group_user")
        Dashboard = self.Dashboard.with_user(employee)
        with self.assertRaises(AccessError):
            Dashboard.get_dashboard()
        with self.assertRaises(AccessError):
            Dashboard.get_trend(self.sensor.id, 6)
        with self.assertRaises(AccessError):
            Dashboard.get_tile_action("active_alerts")
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            self.Dashboard.with_user(user).get_dashboard()
            self.Dashboard.with_user(user).get_trend(self.sensor.id, 6)
        # Sensors of another company stay out of the cards and the trends.
        other = self.env["res.company"].create({"name": "Other plant"})
        machine = self.env["maintenance.equipment"].create(
            {"name": "Other machine", "cmms_tag": "OTH-D1", "company_id": other.id}
        )
        sensor = self.env["cmms.sensor"].create(
            {"tag": "OTH-D1-PT", "equipment_id": machine.id, "unit": "bar"}
        )
        self._reading(sensor, 2, 3.0)
        _tiles, cards = self._tiles(self.operator)
        self.assertNotIn("OTH-D1-PT", cards)
        with self.assertRaises(AccessError):
            self.Dashboard.with_user(self.operator).get_trend(sensor.id, 6)
        menu = self.env.ref("cmms_telemetry.cmms_telemetry_dashboard_menu")
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            self.assertIn(menu.id, visible, user.login)
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(employee)._visible_menu_ids())

    def test_tile_actions(self):
        Dashboard = self.Dashboard.with_user(self.technician)
        models_ = {
            "instruments": "cmms.sensor",
            "calibration_overdue": "maintenance.equipment",
            "active_alerts": "cmms.alert",
            "open_work_orders": "maintenance.request",
        }
        for key, model in models_.items():
            action = Dashboard.get_tile_action(key)
            self.assertEqual(action["res_model"], model, key)
            self.env[model].with_user(self.technician).search_count(action.get("domain") or [])
        self.assertIn(
            ("calibration_state", "=", "overdue"),
            Dashboard.get_tile_action("calibration_overdue")["domain"],
        )
        with self.assertRaises(UserError):
            Dashboard.get_tile_action("budget")

    def test_an_ingest_call_sends_one_notification(self):
        start = self._bus_count()
        ts = "2026-11-22T08:00:00Z"
        items = [
            self.item(f"d:r{minute}", "reading_agg",
                      {"tag": "PT-T01", "period_start": f"2026-11-22T08:{minute:02d}:00Z",
                       "min": 5.0, "max": 7.0, "mean": 6.0, "last": 6.5, "count": 60})
            for minute in range(5)
        ] + [
            self.item("d:r-low", "reading_agg",
                      {"tag": "LT-T02", "period_start": "2026-11-22T08:00:00Z",
                       "min": 40, "max": 60, "mean": 50, "last": 55, "count": 60}),
            self.alert_item("d:a1", ts=ts),
            self.item("d:h1", "health_snapshot", {"tag": "FLX-T1-PR", "score": 72}),
            self.item("d:bad", "reading_agg", {"tag": "NOPE"}),
        ]  # fmt: skip
        reply = self.api.ingest(items)
        self.assertEqual(self.statuses(reply).count("accepted"), 8)
        self.assertEqual(self._bus_count(), start + 1)
        channel = json_dump(channel_with_db(self.env.cr.dbname, BUS_CHANNEL))
        notification = (
            self.env["bus.bus"].sudo().search([("channel", "=", channel)], order="id desc", limit=1)
        )
        message = json.loads(notification.message)
        self.assertEqual(message["type"], BUS_NOTIFICATION)
        payload = message["payload"]
        self.assertEqual(payload["sensor_ids"], sorted((self.sensor | self.low_sensor).ids))
        self.assertEqual(
            payload["equipment_ids"],
            sorted((self.equipment | self.low_equipment | self.printing).ids),
        )
        self.assertEqual(payload["kinds"], ["alert_raised", "health_snapshot", "reading_agg"])
        # Replayed items change nothing, heartbeats are not shown: no notification.
        self.api.ingest(items[:3])
        self.api.ingest([self.item("d:hb", "heartbeat", {"connector_id": "edge-d"})])
        self.assertEqual(self._bus_count(), start + 1)
        self.api.ingest([self.alert_item("d:a2", kind="alert_cleared", ts=ts)])
        self.assertEqual(self._bus_count(), start + 2)
