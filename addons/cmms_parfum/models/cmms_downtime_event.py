# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Downtime intervals of machines, and the one place that totals them.

An interval belongs to a top machine (a work order on one of its components
counts on the machine) and comes from one source: the machine status, a
corrective work order, the telemetry connector (FLEXO stops) or a manual
entry. ``end`` stays empty while the machine is still down.

Intervals of several sources overlap (an operator reports the machine down,
then a technician works on it); :meth:`_net_downtime_minutes` merges them
per machine in SQL, so that no minute is counted twice.
"""

from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

SOURCES = [
    ("status", "Machine status"),
    ("work_order", "Work order"),
    ("connector", "Telemetry connector"),
    ("manual", "Manual entry"),
]
# Intervals written by the system itself, never typed by a person.
AUTOMATIC_SOURCES = ("status", "work_order", "connector")
PERIODS = ("day", "week", "month")

# Gaps and islands: intervals clipped to the period (ongoing ones end now),
# an interval starting after every earlier one of its machine has ended
# opens a new island; islands are summed, so overlaps count once.
_ISLANDS_SQL = """
    WITH clipped AS (
        SELECT equipment_id,
               GREATEST(start, %(date_from)s) AS s,
               LEAST(COALESCE("end", %(now)s), %(date_to)s) AS e
          FROM cmms_downtime_event
         WHERE start < %(date_to)s
           AND COALESCE("end", %(now)s) > %(date_from)s
           AND {where}
    ), marked AS (
        SELECT equipment_id, s, e,
               CASE WHEN s <= MAX(e) OVER (
                        PARTITION BY equipment_id ORDER BY s, e
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                    THEN 0 ELSE 1 END AS new_island
          FROM clipped
         WHERE e > s
    ), numbered AS (
        SELECT equipment_id, s, e,
               SUM(new_island) OVER (
                   PARTITION BY equipment_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
          FROM marked
    ), islands AS (
        SELECT equipment_id, MIN(s) AS s, MAX(e) AS e
          FROM numbered
         GROUP BY equipment_id, island
    )
"""
_TOTAL_SQL = """
    SELECT equipment_id, SUM(EXTRACT(EPOCH FROM e - s)) / 60.0
      FROM islands
     GROUP BY equipment_id
"""
# Islands cut at the period boundaries of the plant's time zone.
_PERIOD_SQL = """
    , local AS (
        SELECT equipment_id,
               (s AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS s,
               (e AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s AS e
          FROM islands
    ), cut AS (
        SELECT equipment_id, bucket::date AS bucket,
               GREATEST(s, bucket) AS s,
               LEAST(e, bucket + %(step)s::interval) AS e
          FROM local,
               generate_series(date_trunc(%(period)s, s), e, %(step)s::interval) AS bucket
    )
    SELECT equipment_id, bucket, SUM(EXTRACT(EPOCH FROM e - s)) / 60.0
      FROM cut
     WHERE e > s
     GROUP BY equipment_id, bucket
"""


class CmmsDowntimeEvent(models.Model):
    """A time a machine was not running, from one source."""

    _name = "cmms.downtime.event"
    _description = "Downtime interval"
    _order = "start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment", "Machine", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
    start = fields.Datetime(required=True, index=True)
    end = fields.Datetime(index=True, help="Empty while the machine is still down.")
    duration_min = fields.Float(
        "Duration (min)",
        compute="_compute_duration_min",
        inverse="_inverse_duration_min",
        store=True,
        aggregator="sum",
        help="Length of this interval alone; zero while it is ongoing. Totals per machine "
        "merge overlapping intervals (see the machine's downtime).",
    )
    ongoing = fields.Boolean(compute="_compute_ongoing", search="_search_ongoing")
    source = fields.Selection(SOURCES, default="manual", required=True, readonly=True, index=True)
    request_id = fields.Many2one(
        "maintenance.request",
        "Work order",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )
    note = fields.Text()

    @api.depends("equipment_id.cmms_tag", "equipment_id.name", "source", "request_id.name")
    def _compute_name(self):
        labels = dict(self._fields["source"]._description_selection(self.env))
        for event in self:
            tag = event.equipment_id.cmms_tag or event.equipment_id.name or ""
            what = event.request_id.name or labels.get(event.source, "")
            event.name = f"{tag}: {what}".strip(": ")

    @api.depends("start", "end")
    def _compute_duration_min(self):
        for event in self:
            if event.start and event.end:
                event.duration_min = (event.end - event.start).total_seconds() / 60.0
            else:
                event.duration_min = 0.0

    def _inverse_duration_min(self):
        # The connector and people give a start and a duration: the end follows.
        for event in self:
            if event.start and event.duration_min:
                event.end = event.start + timedelta(minutes=event.duration_min)

    def _compute_ongoing(self):
        for event in self:
            event.ongoing = not event.end

    def _search_ongoing(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search 'Ongoing' with = or != and a boolean."))
        return [("end", "=" if (operator == "=") == value else "!=", False)]

    @api.constrains("start", "end", "duration_min", "source")
    def _check_interval(self):
        for event in self:
            if event.duration_min < 0 or (event.end and event.end < event.start):
                raise ValidationError(
                    self.env._(
                        "%(name)s ends before it starts: give an end after the start "
                        "(a duration above zero).",
                        name=event.name,
                    )
                )
            if event.source in ("manual", "connector") and event.end == event.start:
                raise ValidationError(
                    self.env._("%(name)s: a stop lasts more than zero minutes.", name=event.name)
                )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _open_interval(self, machine, source, start=None, request=None):
        """Open an interval of ``machine`` (system-written, hence sudo)."""
        return self.sudo().create(
            {
                "equipment_id": machine.id,
                "source": source,
                "start": start or fields.Datetime.now(),
                "request_id": request.id if request else False,
            }
        )

    def _close(self, end=None):
        """Close the ongoing intervals of ``self`` at ``end`` (now)."""
        end = end or fields.Datetime.now()
        for event in self.sudo().filtered(lambda e: not e.end):
            event.end = max(end, event.start)

    @api.model
    def _net_downtime_minutes(self, date_from, date_to, equipment_ids=None, groupby=None, tz=None):
        """Net downtime minutes per machine over ``[date_from, date_to)``.

        Intervals are clipped to the period, ongoing ones end now, and the
        overlapping intervals of one machine, whatever their source, are
        merged before they are summed: a minute counts once. One grouped SQL
        query, whatever the number of machines or intervals.

        :param date_from, date_to: UTC datetimes (or strings) bounding the period
        :param equipment_ids: machine ids; all machines of the user's
            companies when None
        :param groupby: None for ``{machine_id: minutes}``; ``"day"``,
            ``"week"`` or ``"month"`` for ``{(machine_id, date): minutes}``, the
            date being the first day of the period in time zone ``tz``
            (default the user's, else UTC)
        :return: a dict; machines without downtime are absent
        """
        if groupby not in (None, *PERIODS):
            raise UserError(
                self.env._("Group downtime by day, week or month, not %(by)s.", by=groupby)
            )
        date_from = fields.Datetime.to_datetime(date_from)
        date_to = fields.Datetime.to_datetime(date_to)
        if not date_from or not date_to or date_to <= date_from:
            return {}
        self.env["cmms.downtime.event"].flush_model(["equipment_id", "company_id", "start", "end"])
        params = {
            "date_from": date_from,
            "date_to": date_to,
            "now": fields.Datetime.now(),
        }
        if equipment_ids is None:
            where = "(company_id IS NULL OR company_id = ANY(%(company_ids)s))"
            params["company_ids"] = self.env.companies.ids
        else:
            where = "equipment_id = ANY(%(equipment_ids)s)"
            params["equipment_ids"] = list(equipment_ids)
        query = _ISLANDS_SQL.format(where=where)
        if groupby is None:
            self.env.cr.execute(query + _TOTAL_SQL, params)
            return dict(self.env.cr.fetchall())
        tz = tz or self.env.context.get("tz") or self.env.user.tz
        params.update(
            tz=tz if tz in pytz.all_timezones_set else "UTC",
            period=groupby,
            step=f"1 {groupby}",
        )
        self.env.cr.execute(query + _PERIOD_SQL, params)
        return {
            (equipment_id, bucket): minutes
            for equipment_id, bucket, minutes in self.env.cr.fetchall()
        }
