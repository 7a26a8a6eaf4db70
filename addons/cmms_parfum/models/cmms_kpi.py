# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Maintenance KPIs of a period: one grouped SQL pass per source.

Definitions (SMRP where it has one) are in the addon readme. Every figure is
computed by PostgreSQL with GROUP BY and FILTER clauses over the whole
period, never by looping over records in Python: the work orders in one
query, budgets in one, downtime and energy by their own models' grouped
methods.
"""

from datetime import date, datetime, time, timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

GROUPINGS = {
    # key: (SQL expression of the group on maintenance_request r / equipment e, label)
    "machine": "r.equipment_id",
    "category": "e.category_id",
    "area": "e.process_area",
    "site": "r.company_id",
}
KPI_KEYS = (
    "work_orders_completed",
    "mttr_hours",
    "mtbf_hours",
    "availability_pct",
    "downtime_hours",
    "failures",
    "pm_due",
    "pm_compliance_pct",
    "schedule_compliance_pct",
    "backlog_count",
    "backlog_age_days",
    "cost_total",
    "cost_per_work_order",
    "budget_amount",
    "budget_consumed_pct",
    "sla_compliance_pct",
    "energy_kwh",
    "energy_per_unit",
)


def _pct(part, whole):
    return round(100.0 * part / whole, 2) if whole else None


def _div(num, den, digits=2):
    return round(num / den, digits) if den else None


class CmmsKpi(models.AbstractModel):
    """Maintenance KPIs of a period, for supervisors and managers."""

    _name = "cmms.kpi"
    _description = "Maintenance KPIs"

    # ------------------------------------------------------------------
    # Access and periods
    # ------------------------------------------------------------------
    @api.model
    def _check_kpi_reader(self):
        user = self.env.user
        if not (
            self.env.su
            or user.has_group("cmms_parfum.cmms_parfum_group_supervisor")
            or user.has_group("cmms_parfum.cmms_parfum_group_manager")
        ):
            raise AccessError(self.env._("Only supervisors and managers read KPIs."))

    @api.model
    def _period_bounds(self, date_from, date_to):
        """Inclusive local dates -> naive UTC datetimes [start, end)."""
        try:
            first = fields.Date.to_date(date_from)
            last = fields.Date.to_date(date_to)
        except (TypeError, ValueError) as exc:
            raise UserError(self.env._("Give the period as two dates (YYYY-MM-DD).")) from exc
        if not isinstance(first, date) or not isinstance(last, date):
            raise UserError(self.env._("Give the period as two dates (YYYY-MM-DD)."))
        if last < first:
            raise UserError(self.env._("The period ends before it starts."))
        tz = pytz.timezone(self.env.user.tz or "UTC")

        def utc(day):
            local = tz.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.UTC).replace(tzinfo=None)

        return first, last, utc(first), utc(last + timedelta(days=1))

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    @api.model
    def compute_kpis(self, date_from, date_to, groupby=None, process_area=None, category_id=None):
        """Every KPI of the period, for the plant and, with ``groupby``
        (machine, category, area or site), per group.

        Returns ``{"period": {...}, "kpis": {...}, "groups": [...],
        "backlog_by_priority": [...], "worst_machines": [...]}``; a figure
        with nothing to measure (no repair, no PM due...) is ``False``.
        """
        self._check_kpi_reader()
        if groupby and groupby not in GROUPINGS:
            raise UserError(
                self.env._("Group KPIs by one of: %(keys)s.", keys=", ".join(sorted(GROUPINGS)))
            )
        first, last, start, end = self._period_bounds(date_from, date_to)
        scope = self._scope(process_area, category_id)
        # The work-order sums and the net downtime per equipment are read
        # once, then folded into every grouping asked for.
        raw = self._raw_per_equipment(start, end, scope)
        down = self.env["cmms.downtime.event"].sudo()._net_downtime_minutes(start, end)
        overall = self._compute(start, end, None, scope, raw, down)
        result = {
            "period": {
                "date_from": fields.Date.to_string(first),
                "date_to": fields.Date.to_string(last),
                "hours": (end - start).total_seconds() / 3600.0,
            },
            "kpis": overall.get(None) or self._empty(),
            "groups": [],
            "backlog_by_priority": self._backlog_by_priority(end, scope),
        }
        per_machine = self._compute(start, end, "machine", scope, raw, down)
        if groupby:
            grouped = (
                per_machine
                if groupby == "machine"
                else self._compute(start, end, groupby, scope, raw, down)
            )
            names = self._group_names(groupby, list(grouped))
            result["groups"] = [
                {"key": key or False, "name": names.get(key) or self.env._("(none)"), **kpis}
                for key, kpis in sorted(grouped.items(), key=lambda kv: str(names.get(kv[0]) or ""))
            ]
        result["worst_machines"] = self._worst(per_machine)
        return self._jsonable(result)

    @api.model
    def kpi_action(self, kpi, date_from, date_to, process_area=None, category_id=None):
        """The window action listing the records behind a KPI."""
        self._check_kpi_reader()
        first, last, start, end = self._period_bounds(date_from, date_to)
        scope_domain = []
        if process_area:
            scope_domain.append(("equipment_id.process_area", "=", process_area))
        if category_id:
            scope_domain.append(("equipment_id.category_id", "=", int(category_id)))
        completed = [
            ("cmms_state", "in", ("done", "closed")),
            ("completed_at", ">=", start),
            ("completed_at", "<", end),
        ]
        domains = {
            "mttr_hours": [*completed, ("maintenance_type", "=", "corrective")],
            "work_orders_completed": completed,
            "cost_total": completed,
            "cost_per_work_order": completed,
            "sla_compliance_pct": [*completed, ("sla_deadline", "!=", False)],
            "failures": [
                ("maintenance_type", "=", "corrective"),
                ("requested_at", ">=", start),
                ("requested_at", "<", end),
                ("cmms_state", "!=", "cancelled"),
            ],
            "mtbf_hours": None,
            "pm_compliance_pct": [
                ("maintenance_type", "=", "preventive"),
                ("schedule_date", ">=", start),
                ("schedule_date", "<", end),
                ("cmms_state", "!=", "cancelled"),
            ],
            "schedule_compliance_pct": [
                ("schedule_date", ">=", start),
                ("schedule_date", "<", end),
                ("approved_at", "!=", False),
                ("cmms_state", "!=", "cancelled"),
            ],
            "backlog_count": [
                ("requested_at", "<", end),
                ("cmms_state", "in", ("requested", "approved", "in_progress")),
            ],
        }
        domains["mtbf_hours"] = domains["failures"]
        domains["backlog_age_days"] = domains["backlog_count"]
        if kpi in ("availability_pct", "downtime_hours"):
            return self._downtime_action(start, end, process_area, category_id)
        if kpi in ("budget_amount", "budget_consumed_pct"):
            return self.env["ir.actions.act_window"]._for_xml_id("cmms_parfum.cmms_budget_action")
        if kpi not in domains:
            raise UserError(self.env._("No records behind %(kpi)s.", kpi=kpi))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Work orders behind the KPI"),
            "res_model": "maintenance.request",
            "views": [(False, "list"), (False, "form")],
            "domain": [*domains[kpi], *scope_domain],
            "context": {"create": False},
        }

    @api.model
    def dashboard_data(self, period="this_month", process_area=None):
        """The manager's and supervisor's dashboard: the KPIs of a period
        beside those of the period before, monthly costs of the last twelve
        months, backlog by priority and the worst machines."""
        self._check_kpi_reader()
        user = self.env.user
        if process_area is None:
            # A supervisor opens the dashboard on the plant area of their own.
            is_manager = user.has_group("cmms_parfum.cmms_parfum_group_manager")
            process_area = (not is_manager and user.sudo().cmms_process_area) or False
        today = fields.Date.context_today(self)
        first, last = self._named_period(period, today)
        span = (last - first).days + 1
        prev_last = first - timedelta(days=1)
        prev_first = prev_last - timedelta(days=span - 1)
        if period in ("this_month", "last_month"):
            prev_first = (first.replace(day=1) - timedelta(days=1)).replace(day=1)
        current = self.compute_kpis(first, last, process_area=process_area)
        previous = self.compute_kpis(prev_first, prev_last, process_area=process_area)
        areas = (
            self.env["maintenance.equipment"]
            .sudo()
            ._read_group(
                [("process_area", "!=", False), ("company_id", "in", self.env.companies.ids)],
                ["process_area"],
            )
        )
        return self._jsonable(
            {
                "period": period,
                "date_from": fields.Date.to_string(first),
                "date_to": fields.Date.to_string(last),
                "previous": {
                    "date_from": fields.Date.to_string(prev_first),
                    "date_to": fields.Date.to_string(prev_last),
                },
                "process_area": process_area or False,
                "areas": sorted(area for (area,) in areas),
                "kpis": current["kpis"],
                "previous_kpis": previous["kpis"],
                "backlog_by_priority": current["backlog_by_priority"],
                "worst_machines": current["worst_machines"],
                "monthly": self._monthly_costs(today, process_area),
            }
        )

    @api.model
    def _named_period(self, period, today):
        if period == "this_month":
            return today.replace(day=1), today
        if period == "last_month":
            last = today.replace(day=1) - timedelta(days=1)
            return last.replace(day=1), last
        if period == "this_quarter":
            month = 3 * ((today.month - 1) // 3) + 1
            return today.replace(month=month, day=1), today
        if period == "this_year":
            return today.replace(month=1, day=1), today
        if period == "last_12_months":
            return today.replace(day=1) - relativedelta(months=11), today
        raise UserError(self.env._("Unknown period %(period)s.", period=str(period)[:40]))

    @api.model
    def _monthly_costs(self, today, process_area=None):
        """Completed work orders and their cost per month, last twelve months."""
        start_day = today.replace(day=1) - relativedelta(months=11)
        _f, _l, start, end = self._period_bounds(start_day, today)
        where, params = self._scope(process_area)
        self.env["maintenance.request"].flush_model()
        self.env.cr.execute(
            f"""
            SELECT to_char(date_trunc('month', r.completed_at), 'YYYY-MM') AS month,
                   COUNT(*), COALESCE(SUM(r.total_cost), 0),
                   COALESCE(SUM(r.actual_duration)
                            FILTER (WHERE r.maintenance_type = 'corrective'), 0)
              FROM maintenance_request r
              JOIN maintenance_equipment e ON e.id = r.equipment_id
             WHERE r.cmms_state IN ('done', 'closed') AND NOT COALESCE(r.archive, FALSE)
               AND r.completed_at >= %(start)s AND r.completed_at < %(end)s AND {where}
             GROUP BY month ORDER BY month
            """,
            {**params, "start": start, "end": end},
        )
        found = {m: (n, c, h) for m, n, c, h in self.env.cr.fetchall()}
        months = []
        day = start_day
        while day <= today:
            key = day.strftime("%Y-%m")
            count, cost, hours = found.get(key, (0, 0.0, 0.0))
            months.append({"month": key, "count": count, "cost": round(float(cost), 2),
                           "repair_hours": round(float(hours), 2)})  # fmt: skip
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return months

    # ------------------------------------------------------------------
    # Computation
    # ------------------------------------------------------------------
    @api.model
    def _scope(self, process_area=None, category_id=None):
        """SQL condition and params restricting equipment to a scope."""
        clauses = ["r.company_id = ANY(%(company_ids)s)"]
        params = {"company_ids": self.env.companies.ids}
        if process_area:
            clauses.append("e.process_area = %(area)s")
            params["area"] = process_area
        if category_id:
            clauses.append("e.category_id = %(category)s")
            params["category"] = int(category_id)
        return " AND ".join(clauses), params

    @api.model
    def _empty(self):
        return dict.fromkeys(KPI_KEYS, None)

    RAW_KEYS = (
        "completed",
        "cost",
        "repairs",
        "repair_hours",
        "failures",
        "sla_total",
        "sla_met",
        "pm_due",
        "pm_on_time",
        "sched_total",
        "sched_done",
        "backlog",
        "backlog_age",
    )

    @api.model
    def _compute(self, start, end, groupby, scope, raw=None, down=None):
        """{group key (None without groupby): {kpi: value}}.

        One grouped pass over the work orders, per equipment; the sums of
        those rows are then folded into the groups asked for (a few hundred
        rows, not records), so that the plant, per-machine, per-category or
        per-area figures come from the same single query.
        """
        if raw is None:
            raw = self._raw_per_equipment(start, end, scope)
        group_of = self._group_of_equipment(groupby, scope)
        folded = {}
        for equipment_id, row in raw.items():
            key = group_of.get(equipment_id) if groupby else None
            if groupby and equipment_id not in group_of:
                continue
            into = folded.setdefault(key, dict.fromkeys(self.RAW_KEYS, 0.0))
            for name in self.RAW_KEYS:
                into[name] += float(row[name] or 0.0)
        machines = self._machine_counts(groupby, scope)
        if down is None:
            down = self.env["cmms.downtime.event"].sudo()._net_downtime_minutes(start, end)
        downtime = self._downtime_minutes(down, groupby, scope)
        budgets = self._budget_amounts(start, end, groupby, scope)
        energy = self._energy(start, end, groupby, scope)
        period_hours = (end - start).total_seconds() / 3600.0
        result = {}
        for key in set(folded) | set(machines) | set(downtime):
            row = folded.get(key) or dict.fromkeys(self.RAW_KEYS, 0.0)
            kpis = self._empty()
            completed = int(row["completed"])
            cost = row["cost"]
            down_h = downtime.get(key, 0.0) / 60.0
            machine_hours = period_hours * machines.get(key, 0)
            operating = max(machine_hours - down_h, 0.0)
            failures = int(row["failures"])
            budget = budgets.get(key)
            kwh, kwh_units, units = energy.get(key, (0.0, 0.0, 0.0))
            backlog = int(row["backlog"])
            kpis.update(
                work_orders_completed=completed,
                mttr_hours=_div(row["repair_hours"], row["repairs"]),
                failures=failures,
                mtbf_hours=_div(operating, failures) if machine_hours else None,
                downtime_hours=round(down_h, 2),
                availability_pct=_pct(operating, machine_hours),
                pm_due=int(row["pm_due"]),
                pm_compliance_pct=_pct(row["pm_on_time"], row["pm_due"]),
                schedule_compliance_pct=_pct(row["sched_done"], row["sched_total"]),
                backlog_count=backlog,
                backlog_age_days=round(row["backlog_age"] / backlog, 1) if backlog else 0.0,
                cost_total=round(cost, 2),
                cost_per_work_order=_div(cost, completed),
                budget_amount=round(budget, 2) if budget is not None else None,
                budget_consumed_pct=_pct(cost, budget) if budget else None,
                sla_compliance_pct=_pct(row["sla_met"], row["sla_total"]),
                energy_kwh=round(kwh, 2) if kwh else None,
                energy_per_unit=_div(kwh_units, units, 4),
            )
            result[key] = kpis
        return result

    @api.model
    def _raw_per_equipment(self, start, end, scope):
        """The sums behind every work-order KPI, per equipment, in one query."""
        self.env["maintenance.request"].flush_model()
        self.env["maintenance.equipment"].flush_model()
        where, params = scope
        grace = timedelta(days=self.env.company.cmms_pm_grace_days or 0.0)
        params = {**params, "start": start, "end": end, "grace": grace}
        self.env.cr.execute(
            f"""
            SELECT r.equipment_id AS equipment_id,
                   COUNT(*) FILTER (WHERE done) AS completed,
                   COALESCE(SUM(r.total_cost) FILTER (WHERE done), 0) AS cost,
                   COUNT(*) FILTER (WHERE done AND corrective) AS repairs,
                   COALESCE(SUM(r.actual_duration) FILTER (WHERE done AND corrective), 0)
                       AS repair_hours,
                   COUNT(*) FILTER (WHERE corrective AND NOT cancelled
                                    AND r.requested_at >= %(start)s
                                    AND r.requested_at < %(end)s) AS failures,
                   COUNT(*) FILTER (WHERE done AND r.sla_deadline IS NOT NULL) AS sla_total,
                   COUNT(*) FILTER (WHERE done AND r.completed_at <= r.sla_deadline) AS sla_met,
                   COUNT(*) FILTER (WHERE planned AND r.maintenance_type = 'preventive')
                       AS pm_due,
                   COUNT(*) FILTER (WHERE planned AND r.maintenance_type = 'preventive'
                                    AND r.completed_at <= r.schedule_date + %(grace)s)
                       AS pm_on_time,
                   COUNT(*) FILTER (WHERE planned AND r.approved_at IS NOT NULL) AS sched_total,
                   COUNT(*) FILTER (WHERE planned AND r.approved_at IS NOT NULL
                                    AND r.completed_at < date_trunc('day', r.schedule_date)
                                                          + interval '1 day')
                       AS sched_done,
                   COUNT(*) FILTER (WHERE backlog) AS backlog,
                   COALESCE(SUM(EXTRACT(EPOCH FROM %(end)s - r.requested_at) / 86400.0)
                            FILTER (WHERE backlog), 0) AS backlog_age
              FROM (
                SELECT r.equipment_id, r.company_id, r.total_cost, r.actual_duration,
                       r.requested_at, r.completed_at, r.schedule_date, r.sla_deadline,
                       r.approved_at, r.maintenance_type,
                       r.cmms_state IN ('done', 'closed') AND r.completed_at >= %(start)s
                           AND r.completed_at < %(end)s AS done,
                       r.maintenance_type = 'corrective' AS corrective,
                       r.cmms_state = 'cancelled' AS cancelled,
                       r.cmms_state != 'cancelled' AND r.schedule_date >= %(start)s
                           AND r.schedule_date < %(end)s AS planned,
                       r.cmms_state IN ('requested', 'approved', 'in_progress') AS backlog
                  FROM maintenance_request r
                 WHERE r.requested_at < %(end)s
                   AND NOT COALESCE(r.archive, FALSE)
                   AND (r.completed_at IS NULL OR r.completed_at >= %(start)s
                        OR r.schedule_date >= %(start)s)
              ) r
              JOIN maintenance_equipment e ON e.id = r.equipment_id
             WHERE {where}
             GROUP BY r.equipment_id
            """,
            params,
        )
        return {row["equipment_id"]: row for row in self.env.cr.dictfetchall()}

    @api.model
    def _group_of_equipment(self, groupby, scope):
        """{equipment id: its group key} for the equipment in scope."""
        if not groupby:
            return {}
        column = {
            "machine": "e.id",
            "category": "e.category_id",
            "area": "e.process_area",
            "site": "e.company_id",
        }[groupby]
        where, params = scope
        where = where.replace("r.company_id", "e.company_id")
        self.env.cr.execute(
            f"SELECT e.id, {column} FROM maintenance_equipment e WHERE {where}", params
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _on_equipment(self, groupby, scope):
        """The group expression and scope of a query on equipment ``e`` alone."""
        group_sql = GROUPINGS[groupby] if groupby else "NULL"
        group_sql = group_sql.replace("r.equipment_id", "e.id").replace(
            "r.company_id", "e.company_id"
        )
        where, params = scope
        return group_sql, where.replace("r.company_id", "e.company_id"), params

    @api.model
    def _machine_counts(self, groupby, scope):
        """Machines (not components) of each group, for availability and MTBF."""
        group_sql, where, params = self._on_equipment(groupby, scope)
        self.env.cr.execute(
            f"""
            SELECT {group_sql} AS grp, COUNT(*) AS machines
              FROM maintenance_equipment e
             WHERE e.active AND e.cmms_kind = 'machine' AND {where}
             GROUP BY grp
            """,
            params,
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _downtime_minutes(self, per_machine, groupby, scope):
        """Net downtime minutes per group, from the downtime model's net
        minutes per machine (its single home: overlapping intervals merged)."""
        if not per_machine:
            return {}
        group_sql, where, params = self._on_equipment(groupby, scope)
        self.env.cr.execute(
            f"""
            SELECT e.id, {group_sql} FROM maintenance_equipment e
             WHERE e.id = ANY(%(ids)s) AND {where}
            """,
            {**params, "ids": list(per_machine)},
        )
        totals = {}
        for equipment_id, group in self.env.cr.fetchall():
            totals[group] = totals.get(group, 0.0) + per_machine[equipment_id]
        return totals

    @api.model
    def _budget_amounts(self, start, end, groupby, scope):
        """Plant-wide budgets (or, grouped by category or area, those of the
        group), prorated to the days of the period they cover."""
        if groupby in ("machine",):
            return {}
        self.env["cmms.budget"].flush_model()
        first = start.date()
        last = (end - timedelta(seconds=1)).date()
        where = ["b.company_id = ANY(%(company_ids)s)"]
        group_sql = "NULL"
        if groupby == "category":
            group_sql, cond = (
                "b.category_id",
                "b.category_id IS NOT NULL AND b.process_area IS NULL",
            )
        elif groupby == "area":
            group_sql, cond = (
                "b.process_area",
                "b.process_area IS NOT NULL AND b.category_id IS NULL",
            )
        elif groupby == "site":
            group_sql, cond = "b.company_id", "b.category_id IS NULL AND b.process_area IS NULL"
        else:
            cond = "b.category_id IS NULL AND b.process_area IS NULL"
        where.append(cond)
        _where, params = scope
        self.env.cr.execute(
            f"""
            SELECT {group_sql} AS grp,
                   SUM(b.amount
                       * (LEAST(b.date_to, %(last)s) - GREATEST(b.date_from, %(first)s) + 1)
                       / (b.date_to - b.date_from + 1)::float)
              FROM cmms_budget b
             WHERE {" AND ".join(where)}
               AND b.date_from <= %(last)s AND b.date_to >= %(first)s
             GROUP BY grp
            """,
            {"company_ids": params["company_ids"], "first": first, "last": last},
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _energy(self, start, end, groupby, scope):
        """(kWh, kWh of the readings with a production count, units) per
        group: energy readings whose period starts in the period."""
        self.env["cmms.energy.reading"].flush_model()
        group_sql, where, params = self._on_equipment(groupby, scope)
        self.env.cr.execute(
            f"""
            SELECT {group_sql} AS grp, SUM(x.kwh),
                   COALESCE(SUM(x.kwh) FILTER (WHERE x.produced_units > 0), 0),
                   COALESCE(SUM(x.produced_units) FILTER (WHERE x.produced_units > 0), 0)
              FROM cmms_energy_reading x
              JOIN maintenance_equipment e ON e.id = x.equipment_id
             WHERE x.active AND x.period_start >= %(start)s AND x.period_start < %(end)s
               AND {where}
             GROUP BY grp
            """,
            {**params, "start": start, "end": end},
        )
        return {
            grp: (kwh, kwh_units, units) for grp, kwh, kwh_units, units in self.env.cr.fetchall()
        }

    @api.model
    def _backlog_by_priority(self, end, scope):
        where, params = scope
        self.env.cr.execute(
            f"""
            SELECT r.cmms_priority, COUNT(*),
                   AVG(EXTRACT(EPOCH FROM %(end)s - r.requested_at) / 86400.0)
              FROM maintenance_request r
              JOIN maintenance_equipment e ON e.id = r.equipment_id
             WHERE r.requested_at < %(end)s
               AND r.cmms_state IN ('requested', 'approved', 'in_progress')
               AND NOT COALESCE(r.archive, FALSE) AND {where}
             GROUP BY r.cmms_priority
            """,
            {**params, "end": end},
        )
        order = ["urgent", "high", "medium", "low"]
        rows = sorted(self.env.cr.fetchall(), key=lambda row: order.index(row[0]))
        labels = dict(self.env["maintenance.request"]._fields["cmms_priority"].selection)
        return [
            {"priority": p, "label": labels.get(p, p), "count": n, "age_days": round(float(a), 1)}
            for p, n, a in rows
        ]

    @api.model
    def _worst(self, per_machine, limit=10):
        names = self._group_names("machine", list(per_machine))
        ranked = sorted(
            per_machine.items(),
            key=lambda kv: (kv[1]["downtime_hours"] or 0.0, kv[1]["cost_total"] or 0.0),
            reverse=True,
        )
        return [
            {
                "equipment_id": key,
                "name": names.get(key, ""),
                "downtime_hours": kpis["downtime_hours"],
                "cost_total": kpis["cost_total"],
                "work_orders_completed": kpis["work_orders_completed"],
            }
            for key, kpis in ranked[:limit]
            if key and ((kpis["downtime_hours"] or 0) > 0 or (kpis["cost_total"] or 0) > 0)
        ]

    @api.model
    def _group_names(self, groupby, keys):
        keys = [k for k in keys if k]
        if groupby == "machine":
            records = self.env["maintenance.equipment"].sudo().browse(keys)
        elif groupby == "category":
            records = self.env["maintenance.equipment.category"].sudo().browse(keys)
        elif groupby == "site":
            records = self.env["res.company"].sudo().browse(keys)
        else:
            return {k: k for k in keys}
        return {record.id: record.display_name for record in records.exists()}

    @api.model
    def _downtime_action(self, start, end, process_area, category_id):
        domain = [("start", "<", end), "|", ("end", "=", False), ("end", ">", start)]
        if process_area:
            domain.append(("equipment_id.process_area", "=", process_area))
        if category_id:
            domain.append(("equipment_id.category_id", "=", int(category_id)))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Downtime behind the KPI"),
            "res_model": "cmms.downtime.event",
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": {"create": False},
        }

    @api.model
    def _jsonable(self, value):
        """None -> False everywhere, so that XML-RPC carries every reply."""
        if isinstance(value, dict):
            return {k: self._jsonable(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._jsonable(v) for v in value]
        return False if value is None else value
