# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from . import ingest_validation as ingest
from .telemetry_tools import get_param

_logger = logging.getLogger(__name__)

# A period of each resolution starts on a whole minute, hour or day.
ALIGNMENT = {
    "minute": {"second": 0, "microsecond": 0},
    "hour": {"minute": 0, "second": 0, "microsecond": 0},
    "day": {"hour": 0, "minute": 0, "second": 0, "microsecond": 0},
}

RESOLUTIONS = [
    ("minute", "1 minute"),
    ("hour", "1 hour"),
    ("day", "1 day"),
]


class CmmsReading(models.Model):
    """Aggregated readings of one sensor over one period.

    The connector keeps raw readings; Odoo keeps per-minute aggregates and
    folds them into hourly, then daily rows as they age (``_cron_downsample``),
    keeping each series' shape: the extremes, the count-weighted mean, the
    last value and the number of samples.
    """

    _name = "cmms.reading"
    _description = "Sensor reading aggregate"
    _inherit = ["cmms.undeletable.mixin"]
    _order = "period_start desc, id desc"
    _rec_name = "period_start"
    _log_access = False

    sensor_id = fields.Many2one("cmms.sensor", required=True, index=True, ondelete="cascade")
    # Not stored: moving a sensor must not rewrite its whole history.
    equipment_id = fields.Many2one(related="sensor_id.equipment_id")
    company_id = fields.Many2one(related="sensor_id.company_id", store=True)
    unit = fields.Char(related="sensor_id.unit")
    resolution = fields.Selection(RESOLUTIONS, required=True, default="minute")
    period_start = fields.Datetime(required=True)
    min_value = fields.Float("Minimum", required=True, aggregator="min")
    max_value = fields.Float("Maximum", required=True, aggregator="max")
    mean_value = fields.Float("Mean", required=True, aggregator="avg")
    last_value = fields.Float("Last", required=True, aggregator=None)
    last_at = fields.Datetime(
        "Last value period",
        required=True,
        help="Start of the finest period the last value comes from; decides which last "
        "value wins when rows are folded together.",
    )
    sample_count = fields.Integer("Samples", required=True, default=1)

    _sql_constraints = [
        (
            "sensor_resolution_period_uniq",
            "unique(sensor_id, resolution, period_start)",
            "A sensor has one aggregate per resolution and period.",
        ),
    ]

    @api.constrains("min_value", "max_value", "mean_value", "last_value", "sample_count")
    def _check_shape(self):
        for reading in self:
            low, high = reading.min_value, reading.max_value
            tolerance = 1e-9 * max(1.0, abs(low), abs(high))
            if (
                low > high
                or not low - tolerance <= reading.mean_value <= high + tolerance
                or not low - tolerance <= reading.last_value <= high + tolerance
                or reading.sample_count < 1
            ):
                raise ValidationError(
                    self.env._(
                        "%(tag)s: an aggregate needs min <= mean, last <= max and at least one "
                        "sample.",
                        tag=reading.sensor_id.tag,
                    )
                )

    @api.model
    def _cron_downsample(self, now=None):
        """Fold aged aggregates into coarser ones.

        1-minute rows that started before ``now`` minus
        ``cmms_telemetry.reading_minute_days`` days (90) become hourly rows;
        hourly rows older than ``cmms_telemetry.reading_hour_days`` (730)
        become daily rows (UTC hours and days). Only whole hours and days are
        folded. A fold that meets an existing coarser row merges into it.

        Parameters
        ----------
        now : datetime, optional
            The reference time (UTC, naive); the current time by default.

        Returns
        -------
        tuple of int
            Rows folded into hours, rows folded into days.
        """
        now = now or fields.Datetime.now()
        minute_days = get_param(self.env, "reading_minute_days")
        hour_days = get_param(self.env, "reading_hour_days")
        self.env.flush_all()
        to_hours = self._fold(
            "minute", "hour", (now - timedelta(days=minute_days)).replace(minute=0, second=0)
        )
        to_days = self._fold(
            "hour",
            "day",
            (now - timedelta(days=hour_days)).replace(hour=0, minute=0, second=0),
        )
        self.env.invalidate_all()
        if to_hours or to_days:
            _logger.info(
                "readings downsampled: %s minute rows into hours, %s hourly rows into days",
                to_hours,
                to_days,
            )
        return to_hours, to_days

    @api.model
    def _fold(self, source, target, cutoff):
        """Move ``source`` rows that start before ``cutoff`` into ``target`` rows."""
        cutoff = cutoff.replace(microsecond=0)
        self.env.cr.execute(
            SQL(
                """
                WITH moved AS (
                    DELETE FROM cmms_reading
                     WHERE resolution = %(source)s AND period_start < %(cutoff)s
                 RETURNING sensor_id, period_start, min_value, max_value, mean_value,
                           last_value, last_at, sample_count
                ), folded AS (
                    SELECT sensor_id,
                           date_trunc(%(target)s, period_start) AS period_start,
                           min(min_value) AS min_value,
                           max(max_value) AS max_value,
                           sum(mean_value * sample_count) / sum(sample_count) AS mean_value,
                           (array_agg(last_value ORDER BY last_at DESC, period_start DESC))[1]
                               AS last_value,
                           max(last_at) AS last_at,
                           sum(sample_count) AS sample_count,
                           count(*) AS folded
                      FROM moved
                  GROUP BY sensor_id, date_trunc(%(target)s, period_start)
                ), upserted AS (
                    INSERT INTO cmms_reading AS r
                           (sensor_id, company_id, resolution, period_start,
                            min_value, max_value, mean_value, last_value, last_at, sample_count)
                    SELECT f.sensor_id, s.company_id, %(target)s, f.period_start,
                           f.min_value, f.max_value, f.mean_value, f.last_value, f.last_at,
                           f.sample_count
                      FROM folded f
                      JOIN cmms_sensor s ON s.id = f.sensor_id
                    ON CONFLICT (sensor_id, resolution, period_start) DO UPDATE SET
                           min_value = LEAST(r.min_value, EXCLUDED.min_value),
                           max_value = GREATEST(r.max_value, EXCLUDED.max_value),
                           mean_value = (r.mean_value * r.sample_count
                                         + EXCLUDED.mean_value * EXCLUDED.sample_count)
                                        / (r.sample_count + EXCLUDED.sample_count),
                           last_value = CASE WHEN EXCLUDED.last_at >= r.last_at
                                             THEN EXCLUDED.last_value ELSE r.last_value END,
                           last_at = GREATEST(r.last_at, EXCLUDED.last_at),
                           sample_count = r.sample_count + EXCLUDED.sample_count
                    RETURNING 1
                )
                SELECT coalesce(sum(folded), 0) FROM folded
                """,
                source=source,
                target=target,
                cutoff=cutoff,
            )
        )
        return int(self.env.cr.fetchone()[0])

    def _cmms_unlink_way_out(self):
        return self.env._(
            "readings are kept as measured (old ones are folded into hourly and daily rows)."
        )

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_vals(self, data, batch):
        """The validated values of a ``reading_agg`` item (no write)."""
        sensor = batch.sensor(ingest.text(data, "tag"))
        resolution = ingest.choice(
            data.get("resolution", "minute"), dict(RESOLUTIONS), "data.resolution"
        )
        start = ingest.time(data, "period_start")
        if start != start.replace(**ALIGNMENT[resolution]):
            raise ingest.ItemRejected(f"data.period_start must start a whole {resolution}")
        low, high = ingest.number(data, "min"), ingest.number(data, "max")
        if low > high:
            raise ingest.ItemRejected("data.min is above data.max")
        vals = {
            "sensor_id": sensor.id,
            "resolution": resolution,
            "period_start": start,
            "min_value": low,
            "max_value": high,
            "mean_value": ingest.within(ingest.number(data, "mean"), low, high, "mean"),
            "last_value": ingest.within(ingest.number(data, "last"), low, high, "last"),
            "last_at": start,
            "sample_count": ingest.number(data, "count", integer=True, minimum=1),
        }
        return vals

    @api.model
    def _cmms_ingest_bulk(self, vals_list):
        """Store validated ``reading_agg`` values of one call together.

        One search for the periods already stored and one create for the
        new rows, instead of a search and an insert per item. A period
        reported again (under a new key) is written: the newest report wins;
        a period given twice in the list keeps the later values.

        Returns
        -------
        list of cmms.reading
            The reading of each entry of ``vals_list``, in its order.
        """
        Reading = self.sudo()
        last = {}
        for vals in vals_list:
            last[(vals["sensor_id"], vals["resolution"], vals["period_start"])] = vals
        existing = {}
        found = Reading.search(
            [
                ("sensor_id", "in", list({k[0] for k in last})),
                ("period_start", "in", list({k[2] for k in last})),
            ]
        )
        for reading in found:
            existing[(reading.sensor_id.id, reading.resolution, reading.period_start)] = reading
        records = {}
        new = []
        for period, vals in last.items():
            if period in existing:
                existing[period].write(vals)
                records[period] = existing[period]
            else:
                new.append((period, vals))
        created = Reading.create([vals for _period, vals in new])
        for (period, _vals), reading in zip(new, created, strict=True):
            records[period] = reading
        return [
            records[(vals["sensor_id"], vals["resolution"], vals["period_start"])]
            for vals in vals_list
        ]
