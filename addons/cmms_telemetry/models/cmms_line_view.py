# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The data behind the line view (client action ``cmms_telemetry.line_view``).

A *line* is a machine whose components carry a component code (the FLEXO
104 and its PRE_FEEDER ... DOWN_STACKER). The view shows the machine's
current shift (its newest OEE record: A, P, Q, OEE and the system status
with the configured limits; while the shift runs, the provisional record the
connector replaces every snapshot interval, marked "running shift"), the
health of each component with the metric scores behind it and its
recommendations, the shift and day trend of the OEE, the top losses of the
shift and the loss fishbone of a period.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .cmms_oee_record import OEE_INPUTS
from .telemetry_tools import get_param, is_choice, user_in_groups

LINE_VIEW_GROUPS = (
    "cmms_parfum.cmms_parfum_group_supervisor",
    "cmms_parfum.cmms_parfum_group_manager",
)
# The FLEXO components in the order of the sheet's path through the machine.
COMPONENT_ORDER = ("PRE_FEEDER", "FEEDER", "PRINTING", "SLOTTER", "DOWN_STACKER")
FISHBONE_PERIODS = ("shift", "day", "week", "month")
TREND_SHIFTS = 21
TREND_DAYS = 14
TOP_LOSSES = 5
# The rib of the rejects: minutes of production lost to rejected units.
REJECT_KIND = "reject"
DOWNTIME_KIND = "downtime"


class CmmsLineView(models.AbstractModel):
    _name = "cmms.line.view"
    _description = "Line view"

    @api.model
    def _check_line_view_access(self):
        if not user_in_groups(self.env, LINE_VIEW_GROUPS):
            raise AccessError(
                self.env._("Only CMMS supervisors and managers may open the line view.")
            )

    # -- public methods (called by the client action) ------------------------

    @api.model
    def get_line_view(self, machine_id=False):
        """Everything the line view shows for one machine.

        Parameters
        ----------
        machine_id : int or False
            A machine with coded components; False: the first one.

        Returns
        -------
        dict
            ``{"machines": [{"id", "name"}], "machine": {...} or False,
            "shift": {...} or False, "limits": {"fault_below",
            "warning_below"}, "components": [...], "recommendations": [...],
            "trend": {"shift": [...], "day": [...]}, "top_losses": [...],
            "generated_at"}``; no value is None (XML-RPC carries no None).
        """
        self._check_line_view_access()
        machines = self._machines()
        limits = {
            "fault_below": get_param(self.env, "oee_fault_below"),
            "warning_below": get_param(self.env, "oee_warning_below"),
        }
        result = {
            "machines": [{"id": m.id, "name": m.display_name} for m in machines],
            "machine": False,
            "shift": False,
            "limits": limits,
            "components": [],
            "recommendations": [],
            "trend": {"shift": [], "day": []},
            "top_losses": [],
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
        }
        machine = self._machine(machine_id, machines)
        if not machine:
            return result
        record = self.env["cmms.oee.record"].search([("equipment_id", "=", machine.id)], limit=1)
        components = self._components(machine)
        advice = self.env["cmms.health.advisor"]._for_equipment(machine | components)
        result.update(
            machine={
                "id": machine.id,
                "name": machine.display_name,
                "tag": machine.cmms_tag or "",
                "health_index": round(machine.health_index, 1),
                "health_index_band": machine.health_index_band or "",
                "health_action_level": machine.health_action_level or "",
                "component_ids": components.ids,
            },
            shift=self._shift(record),
            components=self._component_cards(components, advice),
            recommendations=self._advice_lines(advice.get(machine.id, [])),
            trend={"shift": self._shift_trend(machine), "day": self._day_trend(machine)},
            top_losses=self._top_losses(machine, record),
        )
        return result

    @api.model
    def get_fishbone(self, machine_id, period):
        """The loss fishbone of one machine over ``period`` (shift, day, week, month).

        ``shift`` is the period of the machine's newest OEE record; ``day``
        today in the user's time zone; ``week`` and ``month`` the last 7 and 30
        days up to now. See :meth:`_loss_fishbone` for the answer.
        """
        self._check_line_view_access()
        if not is_choice(period, FISHBONE_PERIODS):
            raise UserError(
                self.env._(
                    "A fishbone covers a shift, a day, a week or a month, not %(period)s.",
                    period=period,
                )
            )
        machine = self._machine(machine_id, self._machines())
        if not machine:
            raise UserError(self.env._("Choose a machine with components for the fishbone."))
        date_from, date_to = self._period_bounds(machine, period)
        return self._loss_fishbone(machine, date_from, date_to)

    @api.model
    def get_rib_action(self, machine_id, date_from, date_to, kind, component_code, reason_id):
        """The downtime events (or, for the rejects, the OEE records) behind one rib."""
        self._check_line_view_access()
        machine = self._machine(machine_id, self._machines())
        date_from = fields.Datetime.to_datetime(date_from)
        date_to = fields.Datetime.to_datetime(date_to)
        if not machine or not date_from or not date_to:
            raise UserError(self.env._("This rib no longer matches a machine and a period."))
        Action = self.env["ir.actions.act_window"]
        if kind == REJECT_KIND:
            action = Action._for_xml_id("cmms_telemetry.cmms_oee_record_action")
            action.update(
                name=self.env._("Rejects of %(machine)s", machine=machine.display_name),
                domain=[
                    ("equipment_id", "=", machine.id),
                    ("period_start", "<", date_to),
                    ("period_end", ">", date_from),
                    ("rejected", ">", 0),
                ],
                context={},
            )
            return action
        domain = [
            ("equipment_id", "=", machine.id),
            ("reason_id", "=", reason_id or False),
            ("component_code", "=", component_code or False),
            ("start", "<", date_to),
            "|",
            ("end", "=", False),
            ("end", ">", date_from),
        ]
        action = Action._for_xml_id("cmms_telemetry.cmms_downtime_event_action")
        action.update(
            name=self.env._("Stops of %(machine)s", machine=machine.display_name),
            domain=domain,
            context={},
        )
        return action

    # -- the fishbone ------------------------------------------------------------

    @api.model
    def _loss_fishbone(self, machine, date_from, date_to):
        """Downtime and reject minutes of ``machine`` over ``[date_from, date_to)``.

        One grouped query, as the user may read the records:

        * every stop with a reason code counts its minutes inside the period
          (an ongoing stop until now), under its component code and reason;
          intervals without a reason (the machine's status, work orders) are
          the same stops seen from elsewhere and are left out;
        * the rejects of each OEE record count ``rejected / design speed``
          minutes (the time spent making them), pro rata of the part of the
          record's period inside the period.

        Returns
        -------
        dict
            ``{"machine_id", "date_from", "date_to", "total_min",
            "bones": [{"kind", "component_code", "label", "minutes",
            "ribs": [{"reason_id", "code", "label", "minutes", "count"}]}]}``,
            bones and ribs by minutes, most first; ``component_code`` is
            ``""`` for stops of the whole machine and for the rejects.
        """
        date_from = fields.Datetime.to_datetime(date_from)
        date_to = fields.Datetime.to_datetime(date_to)
        answer = {
            "machine_id": machine.id,
            "date_from": fields.Datetime.to_string(date_from),
            "date_to": fields.Datetime.to_string(date_to),
            "total_min": 0.0,
            "bones": [],
        }
        if not date_from or not date_to or date_to <= date_from:
            return answer
        rows = self._fishbone_rows(machine, date_from, date_to)
        reasons = self.env["cmms.downtime.reason"].with_context(active_test=False)
        reasons = reasons.browse({row[2] for row in rows if row[2]})
        reasons.fetch(["code", "name"])
        bones = {}
        for kind, component, reason_id, minutes, count in rows:
            minutes = float(minutes)
            key = (kind, component)
            bone = bones.get(key)
            if bone is None:
                bone = bones[key] = {
                    "kind": kind,
                    "component_code": component,
                    "label": self._bone_label(kind, component),
                    "minutes": 0.0,
                    "ribs": [],
                }
            reason = reasons.browse(reason_id) if reason_id else reasons.browse()
            if kind == REJECT_KIND:
                code, label = "REJECT", self.env._("Rejected units")
            else:
                code = reason.code
                label = reason.name if reason.name and reason.name != reason.code else reason.code
            bone["ribs"].append(
                {
                    "reason_id": reason_id or False,
                    "code": code,
                    "label": label,
                    "minutes": round(minutes, 2),
                    "count": count,
                }
            )
            bone["minutes"] += minutes
        for bone in bones.values():
            bone["ribs"].sort(key=lambda rib: (-rib["minutes"], rib["code"]))
            bone["minutes"] = round(bone["minutes"], 2)
        answer["bones"] = sorted(
            bones.values(), key=lambda b: (-b["minutes"], b["kind"], b["component_code"])
        )
        answer["total_min"] = round(sum(b["minutes"] for b in answer["bones"]), 2)
        return answer

    @api.model
    def _fishbone_rows(self, machine, date_from, date_to):
        """``(kind, component code, reason id, minutes, count)`` rows, one grouped query."""
        Event = self.env["cmms.downtime.event"]
        Record = self.env["cmms.oee.record"]
        Event.flush_model(["equipment_id", "reason_id", "component_code", "start", "end"])
        Record.flush_model(
            ["equipment_id", "period_start", "period_end", "rejected", "design_speed"]
        )
        stops = Event._search(
            [
                ("equipment_id", "=", machine.id),
                ("reason_id", "!=", False),
                ("start", "<", date_to),
            ]
        )
        records = Record._search(
            [
                ("equipment_id", "=", machine.id),
                ("period_start", "<", date_to),
                ("period_end", ">", date_from),
                ("rejected", ">", 0),
                ("design_speed", ">", 0),
            ]
        )
        event, record = SQL.identifier(stops.table), SQL.identifier(records.table)
        return self.env.execute_query(
            SQL(
                """
                WITH losses AS (
                    SELECT %(downtime)s AS kind,
                           COALESCE(%(event)s.component_code, '') AS component,
                           %(event)s.reason_id AS reason_id,
                           EXTRACT(EPOCH FROM
                               LEAST(COALESCE(%(event)s."end", %(now)s), %(date_to)s)
                               - GREATEST(%(event)s.start, %(date_from)s)) / 60.0 AS minutes
                      FROM %(stops_from)s
                     WHERE %(stops_where)s
                 UNION ALL
                    SELECT %(reject)s, '', NULL,
                           %(record)s.rejected / %(record)s.design_speed
                           * EXTRACT(EPOCH FROM
                               LEAST(%(record)s.period_end, %(date_to)s)
                               - GREATEST(%(record)s.period_start, %(date_from)s))
                           / EXTRACT(EPOCH FROM %(record)s.period_end - %(record)s.period_start)
                      FROM %(records_from)s
                     WHERE %(records_where)s
                )
                SELECT kind, component, reason_id, SUM(minutes), COUNT(*)
                  FROM losses
                 WHERE minutes > 0
              GROUP BY kind, component, reason_id
              ORDER BY kind, component, reason_id
                """,
                downtime=DOWNTIME_KIND,
                reject=REJECT_KIND,
                event=event,
                record=record,
                now=fields.Datetime.now(),
                date_from=date_from,
                date_to=date_to,
                stops_from=stops.from_clause,
                stops_where=stops.where_clause,
                records_from=records.from_clause,
                records_where=records.where_clause,
            )
        )

    @api.model
    def _bone_label(self, kind, component):
        if kind == REJECT_KIND:
            return self.env._("Rejects")
        if not component:
            return self.env._("Whole machine")
        return component

    @api.model
    def _period_bounds(self, machine, period):
        now = fields.Datetime.now()
        if period == "shift":
            record = self.env["cmms.oee.record"].search(
                [("equipment_id", "=", machine.id)], limit=1
            )
            if record:
                return record.period_start, record.period_end
            return now - timedelta(hours=8), now
        if period == "day":
            tz = pytz.timezone(self._tz())
            midnight = tz.localize(
                datetime.combine(now.replace(tzinfo=pytz.utc).astimezone(tz).date(), time())
            )
            start = midnight.astimezone(pytz.utc).replace(tzinfo=None)
            return start, start + timedelta(days=1)
        return now - timedelta(days=7 if period == "week" else 30), now

    @api.model
    def _tz(self):
        tz = self.env.context.get("tz") or self.env.user.tz
        return tz if tz in pytz.all_timezones_set else "UTC"

    # -- helpers ---------------------------------------------------------------

    @api.model
    def _machines(self):
        """The machines with coded components, as the user may see them."""
        return self.env["maintenance.equipment"].search(
            [("child_ids.cmms_component_code", "!=", False)], order="name, id"
        )

    @api.model
    def _machine(self, machine_id, machines):
        if not machine_id:
            return machines[:1]
        if isinstance(machine_id, bool) or not isinstance(machine_id, int):
            raise UserError(self.env._("Choose a machine for the line view."))
        if machine_id not in machines.ids:
            raise UserError(
                self.env._("This machine has no coded components or you may not see it.")
            )
        return machines.browse(machine_id)

    @api.model
    def _components(self, machine):
        components = machine.child_ids.filtered("cmms_component_code")
        order = {code: index for index, code in enumerate(COMPONENT_ORDER)}
        return components.sorted(
            lambda c: (order.get(c.cmms_component_code, len(order)), c.cmms_component_code)
        )

    @api.model
    def _shift(self, record):
        if not record:
            return False
        labels = dict(record._fields["status"]._description_selection(self.env))
        return {
            "id": record.id,
            "shift": record.shift or "",
            "period_start": fields.Datetime.to_string(record.period_start),
            "period_end": fields.Datetime.to_string(record.period_end),
            "availability": round(record.availability, 1),
            "performance": round(record.performance, 1),
            "quality": round(record.quality, 1),
            "oee": round(record.oee, 1),
            "status": record.status,
            "status_label": labels.get(record.status, ""),
            "running": record.is_running,
            "produced": record.produced,
            "rejected": record.rejected,
            "downtime_min": round(record.downtime_min, 1),
        }

    @api.model
    def _advice_lines(self, recommendations):
        labels = self.env["cmms.health.advisor"]._level_labels()
        return [
            {
                "level": r["level"],
                "level_label": labels[r["level"]],
                "metric": r["metric"] or "",
                "text": r["text"],
            }
            for r in recommendations
        ]

    @api.model
    def _component_cards(self, components, advice):
        Advisor = self.env["cmms.health.advisor"]
        snapshots = Advisor._newest_snapshots(components)
        bands = dict(
            self.env["maintenance.equipment"]
            ._fields["health_band"]
            ._description_selection(self.env)
        )
        cards = []
        for component in components:
            snapshot = snapshots.get(component.id)
            scores = (snapshot.metric_scores if snapshot else None) or {}
            metrics = [
                {"metric": metric, "label": Advisor._metric_label(metric), "score": round(score, 1)}
                for metric, score in sorted(scores.items(), key=lambda item: (item[1], item[0]))
                if isinstance(score, int | float) and not isinstance(score, bool)
            ]
            scored = bool(component.health_updated_at)
            cards.append(
                {
                    "id": component.id,
                    "code": component.cmms_component_code,
                    "name": component.name,
                    "health_score": round(component.health_score, 1) if scored else False,
                    "health_band": component.health_band or "" if scored else "",
                    "health_band_label": bands.get(component.health_band, "") if scored else "",
                    "measured_at": fields.Datetime.to_string(component.health_updated_at)
                    if scored
                    else False,
                    "metrics": metrics,
                    "recommendations": self._advice_lines(advice.get(component.id, [])),
                    "action_level": component.health_action_level or "",
                }
            )
        return cards

    @api.model
    def _shift_trend(self, machine):
        records = self.env["cmms.oee.record"].search(
            [("equipment_id", "=", machine.id)], limit=TREND_SHIFTS
        )
        tz = pytz.timezone(self._tz())
        return [
            {
                "t": fields.Datetime.to_string(record.period_start),
                "label": "{} {}".format(
                    record.period_start.replace(tzinfo=pytz.utc).astimezone(tz).strftime("%d/%m"),
                    record.shift or "",
                ).strip(),
                "oee": round(record.oee, 1),
                "status": record.status,
            }
            for record in reversed(records)
        ]

    @api.model
    def _day_trend(self, machine):
        """OEE per day (the user's time zone) of the last days: the formula of
        ``cmms.oee.record`` over each day's summed inputs (speeds weighted by run time)."""
        Record = self.env["cmms.oee.record"]
        since = fields.Datetime.now() - timedelta(days=TREND_DAYS)
        records = Record.search(
            [("equipment_id", "=", machine.id), ("period_start", ">=", since)],
            order="period_start",
        )
        tz = pytz.timezone(self._tz())
        days = {}
        for record in records:
            day = record.period_start.replace(tzinfo=pytz.utc).astimezone(tz).date()
            sums = days.setdefault(
                day, dict.fromkeys((*OEE_INPUTS, "design_run", "actual_run"), 0.0)
            )
            for name in OEE_INPUTS:
                sums[name] += record[name]
            sums["design_run"] += record.design_speed * record.run_min
            sums["actual_run"] += record.actual_speed * record.run_min
        basis = get_param(self.env, "oee_availability_basis")
        fault_below = get_param(self.env, "oee_fault_below")
        warning_below = get_param(self.env, "oee_warning_below")
        trend = []
        for day, sums in sorted(days.items()):
            if sums["run_min"] > 0:
                sums["design_speed"] = sums["design_run"] / sums["run_min"]
                sums["actual_speed"] = sums["actual_run"] / sums["run_min"]
            values = Record._oee_values(sums, basis, fault_below, warning_below)
            trend.append(
                {
                    "t": fields.Date.to_string(day),
                    "label": day.strftime("%d/%m"),
                    "oee": round(values["oee"], 1),
                    "status": values["status"],
                }
            )
        return trend

    @api.model
    def _top_losses(self, machine, record):
        if not record:
            return []
        fishbone = self._loss_fishbone(machine, record.period_start, record.period_end)
        ribs = [
            {
                "kind": bone["kind"],
                "component_code": bone["component_code"],
                "bone": bone["label"],
                **rib,
            }
            for bone in fishbone["bones"]
            for rib in bone["ribs"]
        ]
        ribs.sort(key=lambda rib: -rib["minutes"])
        return ribs[:TOP_LOSSES]
