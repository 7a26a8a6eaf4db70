# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import random
from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

SOURCES = [("manual", "Manual entry"), ("connector", "Telemetry connector")]
#: A reading covers at most this long (a month is the longest period a
#: person enters; the connector reports hours).
MAX_PERIOD = timedelta(days=31)


class CmmsEnergyReading(models.Model):
    """The energy a machine used over one period, and what it produced.

    Entered by supervisors and managers or pushed by the telemetry
    connector (an ``energy`` ingestion item). One reading per machine and
    period; periods of one machine do not overlap, so that the monthly
    figures (:class:`~.cmms_energy_report.CmmsEnergyReport`) never count
    energy twice.
    """

    _name = "cmms.energy.reading"
    _description = "Energy reading"
    _order = "period_start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        "Machine",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True, index=True)
    period_start = fields.Datetime(required=True, index=True)
    period_end = fields.Datetime(required=True)
    kwh = fields.Float("Energy (kWh)", digits=(16, 3), required=True)
    produced_units = fields.Integer(
        "Units produced",
        help="Units the machine produced in the period, for machines with production "
        "counts. Leave 0 when the machine has none: the energy per unit is computed "
        "only where units were produced.",
    )
    source = fields.Selection(SOURCES, default="manual", required=True, readonly=True)
    note = fields.Text()

    _sql_constraints = [
        (
            "machine_period_uniq",
            "unique(equipment_id, period_start, period_end)",
            "There is already an energy reading for this machine and period.",
        ),
    ]

    @api.depends("equipment_id.cmms_tag", "equipment_id.name", "period_start")
    def _compute_name(self):
        for reading in self:
            machine = reading.equipment_id.cmms_tag or reading.equipment_id.name or ""
            start = reading.period_start and fields.Datetime.to_string(reading.period_start)[:16]
            reading.name = f"{machine} {start or ''}".strip()

    @api.constrains("period_start", "period_end", "kwh", "produced_units", "equipment_id", "active")
    def _check_reading(self):
        for reading in self:
            if reading.period_end <= reading.period_start:
                raise ValidationError(
                    self.env._("%(name)s: the period must end after it starts.", name=reading.name)
                )
            if reading.period_end - reading.period_start > MAX_PERIOD:
                raise ValidationError(
                    self.env._(
                        "%(name)s: a reading covers at most 31 days; enter one per month.",
                        name=reading.name,
                    )
                )
            if reading.kwh < 0:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the energy cannot be negative (%(kwh)s kWh).",
                        name=reading.name,
                        kwh=reading.kwh,
                    )
                )
            if reading.produced_units < 0:
                raise ValidationError(
                    self.env._(
                        "%(name)s: the units produced cannot be negative (%(units)s).",
                        name=reading.name,
                        units=reading.produced_units,
                    )
                )
        self._check_overlap()

    def _check_overlap(self):
        """Refuse a period that overlaps another active reading of the machine
        (one query for the whole recordset)."""
        active = self.filtered("active")
        if not active:
            return
        self.flush_model(["equipment_id", "period_start", "period_end", "active"])
        self.env.cr.execute(
            SQL(
                """
                SELECT a.id, b.id
                  FROM cmms_energy_reading a
                  JOIN cmms_energy_reading b
                    ON b.equipment_id = a.equipment_id
                   AND b.id != a.id
                   AND b.active
                   AND b.period_start < a.period_end
                   AND a.period_start < b.period_end
                 WHERE a.id IN %s
                 LIMIT 1
                """,
                tuple(active.ids),
            )
        )
        row = self.env.cr.fetchone()
        if row:
            reading, other = self.browse(row[0]), self.browse(row[1])
            raise ValidationError(
                self.env._(
                    "%(name)s: the period overlaps the energy reading %(other)s "
                    "(%(start)s - %(end)s) of the same machine.",
                    name=reading.name,
                    other=other.name,
                    start=other.period_start,
                    end=other.period_end,
                )
            )

    # -- demo data -------------------------------------------------------------

    @api.model
    def _demo_generate(self, profiles, seed=104):
        """Daily readings from the first day of the month a year ago to the
        day before yesterday, for the demo data
        (``demo/cmms_energy_reading_demo.xml``). Yesterday and today are left
        to the connector: the simulator's meters report the last hours, which
        must not overlap a demo day.

        Parameters
        ----------
        profiles : list of dict
            ``{"equipment_id", "kw", "load", "units_per_kwh"?, "source"?}``:
            rated power, mean load factor on a working day, and for machines
            with production counts the units per kWh of a healthy machine.
            The last two months of a machine with units run ``drift`` (default
            12 %) less efficiently (a worn machine), so the deviation from its
            baseline says something.
        """
        rng = random.Random(seed)
        today = fields.Date.context_today(self)
        first = (today.replace(day=1) - timedelta(days=365)).replace(day=1)
        worn_from = (today.replace(day=1) - timedelta(days=32)).replace(day=1)
        vals = []
        for profile in profiles:
            day = first
            while day < today - timedelta(days=1):
                weekend = day.weekday() >= 5
                hours = rng.uniform(4.0, 8.0) if weekend else rng.uniform(15.0, 17.0)
                load = profile["load"] * rng.uniform(0.9, 1.1)
                kwh = profile["kw"] * hours * load
                units = 0
                if profile.get("units_per_kwh"):
                    efficiency = profile["units_per_kwh"] * rng.uniform(0.96, 1.04)
                    if day >= worn_from:
                        efficiency /= 1.0 + profile.get("drift", 0.12)
                    units = int(kwh * efficiency)
                start = datetime.combine(day, time.min)
                vals.append(
                    {
                        "equipment_id": profile["equipment_id"],
                        "period_start": start,
                        "period_end": start + timedelta(days=1),
                        "kwh": round(kwh, 1),
                        "produced_units": units,
                        "source": profile.get("source", "manual"),
                    }
                )
                day += timedelta(days=1)
        readings = self.create(vals)
        return readings.ids
