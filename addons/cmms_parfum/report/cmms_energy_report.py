# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.models import parse_read_group_spec
from odoo.tools import SQL


class CmmsEnergyReport(models.Model):
    """Energy per machine and month, computed by PostgreSQL (a view).

    A reading belongs to the month of the middle of its period, in the time
    zone of the company's address (UTC when it has none): a month entered
    by hand from the 1st 00:00 local time counts in that month, and an
    hourly reading near midnight in the month it was measured.

    * ``kwh``, ``produced_units``: sums of the month's active readings;
    * ``kwh_per_unit`` = energy of the readings that carry units / their
      units (readings without units, e.g. a machine idle or with no
      counter, do not dilute it);
    * ``baseline_kwh_per_unit``: the machine's own baseline
      (``maintenance.equipment.energy_baseline_kwh_per_unit``);
    * ``deviation_pct`` = (energy of the readings with units / (baseline x
      units) - 1) x 100: positive when the machine used more energy per unit
      than its baseline.

    Grouped further (several machines or months), both ratios are computed
    from the sums of the group, never averaged (``_read_group_select``).
    """

    _name = "cmms.energy.report"
    _description = "Energy per machine and month"
    _auto = False
    _order = "month desc, equipment_id"
    _rec_name = "equipment_id"

    equipment_id = fields.Many2one("maintenance.equipment", "Machine", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    category_id = fields.Many2one("maintenance.equipment.category", readonly=True)
    month = fields.Date(readonly=True)
    month_label = fields.Char("Year and month", readonly=True)
    kwh = fields.Float("Energy (kWh)", digits=(16, 1), readonly=True)
    produced_units = fields.Integer("Units produced", readonly=True)
    kwh_with_units = fields.Float(
        "Energy with units (kWh)",
        digits=(16, 1),
        readonly=True,
        help="Energy of the readings that carry produced units.",
    )
    kwh_per_unit = fields.Float("kWh per unit", digits=(16, 6), readonly=True, aggregator="avg")
    baseline_kwh_per_unit = fields.Float(
        "Baseline kWh per unit", digits=(16, 6), readonly=True, aggregator="max"
    )
    baseline_kwh = fields.Float(
        "Baseline energy (kWh)",
        digits=(16, 1),
        readonly=True,
        help="Baseline kWh per unit x units produced: what the machine would have used "
        "at its baseline.",
    )
    deviation_pct = fields.Float(
        "Deviation from baseline (%)", digits=(16, 1), readonly=True, aggregator="avg"
    )
    reading_count = fields.Integer("Readings", readonly=True)

    #: Ratios computed from the sums of any group (never averaged).
    _RATIOS = {
        "kwh_per_unit": ("kwh_with_units", "produced_units"),
        "deviation_pct": ("kwh_with_units", "baseline_kwh"),
    }

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = parse_read_group_spec(aggregate_spec)
        if fname not in self._RATIOS or not func:
            return super()._read_group_select(aggregate_spec, query)
        numerator, denominator = (
            self._field_to_sql(self._table, name, query) for name in self._RATIOS[fname]
        )
        if fname == "kwh_per_unit":
            return SQL(
                "SUM(%s) / NULLIF(SUM(%s), 0)",
                numerator,
                denominator,
            )
        # The deviation of a group: only the readings of machines with a
        # baseline count on both sides.
        return SQL(
            "(SUM(CASE WHEN %(den)s > 0 THEN %(num)s END) / NULLIF(SUM(%(den)s), 0) - 1) * 100",
            num=numerator,
            den=denominator,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %(table)s AS (
                WITH readings AS (
                    SELECT r.id, r.equipment_id, r.kwh, r.produced_units,
                           date_trunc(
                               'month',
                               ((r.period_start + (r.period_end - r.period_start) / 2)
                                   AT TIME ZONE 'UTC')
                               AT TIME ZONE COALESCE(NULLIF(p.tz, ''), 'UTC')
                           )::date AS month
                      FROM cmms_energy_reading r
                      JOIN maintenance_equipment e ON e.id = r.equipment_id
                 LEFT JOIN res_company c ON c.id = e.company_id
                 LEFT JOIN res_partner p ON p.id = c.partner_id
                     WHERE r.active
                ),
                months AS (
                    SELECT min(id) AS id, equipment_id, month,
                           sum(kwh) AS kwh,
                           sum(COALESCE(produced_units, 0)) AS produced_units,
                           COALESCE(sum(kwh) FILTER (WHERE produced_units > 0), 0)
                               AS kwh_with_units,
                           count(*) AS reading_count
                      FROM readings
                  GROUP BY equipment_id, month
                )
                SELECT m.id, m.equipment_id, e.company_id, e.category_id, m.month,
                       to_char(m.month, 'YYYY-MM') AS month_label,
                       m.kwh, m.produced_units, m.kwh_with_units, m.reading_count,
                       m.kwh_with_units / NULLIF(m.produced_units, 0) AS kwh_per_unit,
                       NULLIF(e.energy_baseline_kwh_per_unit, 0) AS baseline_kwh_per_unit,
                       COALESCE(e.energy_baseline_kwh_per_unit, 0) * m.produced_units
                           AS baseline_kwh,
                       (m.kwh_with_units
                           / NULLIF(e.energy_baseline_kwh_per_unit * m.produced_units, 0)
                           - 1) * 100 AS deviation_pct
                  FROM months m
                  JOIN maintenance_equipment e ON e.id = m.equipment_id
            )
                """,
                table=SQL.identifier(self._table),
            )
        )
