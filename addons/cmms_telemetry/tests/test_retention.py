# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta

from odoo import fields

from .common import TelemetryCommon


class TestRetention(TelemetryCommon):
    def row(self, start, low, high, mean, last, count, resolution="minute", sensor=None):
        return self.env["cmms.reading"].create(
            {
                "sensor_id": (sensor or self.sensor).id,
                "resolution": resolution,
                "period_start": start,
                "min_value": low,
                "max_value": high,
                "mean_value": mean,
                "last_value": last,
                "last_at": start,
                "sample_count": count,
            }
        )

    def rows(self, sensor=None, resolution=None):
        domain = [("sensor_id", "=", (sensor or self.sensor).id)]
        if resolution:
            domain.append(("resolution", "=", resolution))
        return self.env["cmms.reading"].search(domain, order="period_start")

    def test_minutes_older_than_90_days_become_hours_keeping_the_shape(self):
        now = datetime(2026, 11, 22, 8, 30)
        old = datetime(2026, 8, 1, 10, 0)  # 113 days before
        self.row(old, 5.0, 6.0, 5.5, 5.8, 60)
        self.row(old + timedelta(minutes=1), 4.0, 9.0, 7.0, 4.5, 30)
        self.row(old + timedelta(minutes=59), 5.0, 5.2, 5.1, 5.15, 60)
        self.row(old + timedelta(hours=1), 1.0, 2.0, 1.5, 1.9, 10)
        self.row(old, 100, 200, 150, 120, 60, sensor=self.low_sensor)
        recent = self.row(now - timedelta(days=89), 3.0, 3.0, 3.0, 3.0, 60)
        folded = self.env["cmms.reading"]._cron_downsample(now=now)
        self.assertEqual(folded, (5, 0))
        hours = self.rows(resolution="hour")
        self.assertEqual(len(hours), 2)
        first = hours[0]
        self.assertEqual(first.period_start, old)
        self.assertEqual(first.min_value, 4.0, "min of mins")
        self.assertEqual(first.max_value, 9.0, "max of maxes")
        self.assertAlmostEqual(
            first.mean_value, (5.5 * 60 + 7.0 * 30 + 5.1 * 60) / 150, msg="count-weighted mean"
        )
        self.assertEqual(first.last_value, 5.15, "last of the last minute")
        self.assertEqual(first.last_at, old + timedelta(minutes=59))
        self.assertEqual(first.sample_count, 150, "sum of counts")
        self.assertEqual(first.equipment_id, self.equipment)
        self.assertEqual(first.company_id, self.equipment.company_id)
        self.assertEqual(hours[1].sample_count, 10)
        self.assertEqual(self.rows(resolution="minute"), recent, "recent minutes stay")
        other = self.rows(sensor=self.low_sensor)
        self.assertEqual(other.resolution, "hour", "each sensor is its own series")
        self.assertEqual(other.max_value, 200)
        # Running again changes nothing.
        self.assertEqual(self.env["cmms.reading"]._cron_downsample(now=now), (0, 0))

    def test_late_minutes_merge_into_an_existing_hour(self):
        now = datetime(2026, 11, 22, 8, 30)
        old = datetime(2026, 8, 1, 10, 0)
        self.row(old + timedelta(minutes=10), 5.0, 6.0, 5.5, 5.9, 60)
        self.env["cmms.reading"]._cron_downsample(now=now)
        # A minute of the same hour arrives late (an earlier one, then a later one).
        self.row(old + timedelta(minutes=5), 2.0, 3.0, 2.5, 2.1, 20)
        self.row(old + timedelta(minutes=20), 6.0, 8.0, 7.0, 7.7, 20)
        self.env["cmms.reading"]._cron_downsample(now=now)
        hour = self.rows()
        self.assertEqual(len(hour), 1)
        self.assertEqual((hour.min_value, hour.max_value), (2.0, 8.0))
        self.assertAlmostEqual(hour.mean_value, (5.5 * 60 + 2.5 * 20 + 7.0 * 20) / 100)
        self.assertEqual(hour.last_value, 7.7)
        self.assertEqual(hour.sample_count, 100)

    def test_hours_older_than_two_years_become_days(self):
        now = datetime(2026, 11, 22, 8, 30)
        day = datetime(2024, 11, 1)  # 751 days before
        self.row(day + timedelta(hours=1), 1.0, 5.0, 3.0, 4.0, 3600, resolution="hour")
        self.row(day + timedelta(hours=23), 0.5, 4.0, 2.0, 1.0, 1800, resolution="hour")
        self.row(day + timedelta(days=1, hours=2), 2.0, 2.0, 2.0, 2.0, 60, resolution="hour")
        self.row(datetime(2025, 11, 1, 5), 9.0, 9.0, 9.0, 9.0, 60, resolution="hour")
        # Minutes that old go through hours into days in the same run.
        self.row(day + timedelta(hours=23, minutes=30), 0.1, 0.2, 0.15, 0.2, 60)
        self.assertEqual(self.env["cmms.reading"]._cron_downsample(now=now), (1, 3))
        days = self.rows(resolution="day")
        self.assertEqual(days.mapped("period_start"), [day, day + timedelta(days=1)])
        first = days[0]
        self.assertEqual((first.min_value, first.max_value), (0.1, 5.0))
        self.assertAlmostEqual(first.mean_value, (3.0 * 3600 + 2.0 * 1800 + 0.15 * 60) / 5460)
        self.assertEqual(first.last_value, 0.2, "the latest period's last value")
        self.assertEqual(first.sample_count, 5460)
        self.assertEqual(self.rows(resolution="hour").mapped("period_start"),
                         [datetime(2025, 11, 1, 5)])  # fmt: skip

    def test_retention_periods_are_settings(self):
        now = datetime(2026, 11, 22, 8, 30)
        self.row(now - timedelta(days=20), 1.0, 1.0, 1.0, 1.0, 1)
        self.env["res.config.settings"].create(
            {"cmms_reading_minute_days": 7, "cmms_reading_hour_days": 30}
        ).execute()
        self.assertEqual(self.env["cmms.reading"]._cron_downsample(now=now), (1, 0))
        self.assertEqual(self.rows().resolution, "hour")

    def test_scheduled_action_runs_the_downsampling(self):
        now = fields.Datetime.now()
        self.row((now - timedelta(days=100)).replace(minute=0, second=0, microsecond=0),
                 1.0, 2.0, 1.5, 2.0, 60)  # fmt: skip
        self.row(now.replace(second=0, microsecond=0) - timedelta(days=1), 1.0, 2.0, 1.5, 2.0, 60)
        cron = self.env.ref("cmms_telemetry.cmms_reading_cron_downsample")
        cron.method_direct_trigger()
        self.assertEqual(self.rows().mapped("resolution"), ["hour", "minute"])
