# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Recommendations of the FLEXO line: what to do about a weak component or machine.

The connector scores the components (see the connector's ``flexo`` module);
Odoo decides the bands and, here, what a person should do about them. The
rules, as the plant's specification shows them (monitor, schedule, act):

* A component in the **warning** or **critical** health band carries one
  recommendation per metric of its newest health snapshot that scores below
  80, worst first. A metric scoring below 40 asks to *act*, from 40 to 59 to
  *schedule*, from 60 to 79 to *monitor*. The metric that pulled the
  component down most (the lowest score) is raised to at least *schedule* in
  the warning band and to *act* in the critical band. A component scored
  without metrics (the fallback estimate from production reports) gets one
  recommendation at that level about its stops and rejects.
* An equipment whose **health index** (``maintenance.equipment.health_index``:
  RPN score x RPN weight + OEE score x the rest) lies **under 50** carries
  *act* recommendations on the part that pulled it down, the lower score
  first: for the OEE, its weakest factor (availability, performance or
  quality, averaged over the same recent records as the index); for the RPN,
  the failure mode with the highest RPN and its recommended action.

A recommendation to *act* proposes a work order
(:meth:`maintenance.equipment.action_propose_work_order`), with the repair
duration of the newest ``cmms.prediction`` of the equipment when there is one.
"""

from odoo import api, models
from odoo.osv import expression

from .telemetry_tools import get_param, health_band

LEVELS = ("act", "schedule", "monitor")
# Metric score below which a level applies.
ACT_BELOW = 40.0
SCHEDULE_BELOW = 60.0
MONITOR_BELOW = 80.0
ADVISED_BANDS = ("warning", "critical")
HEALTH_INDEX_ACT_BELOW = 50.0
OEE_FACTORS = ("availability", "performance", "quality")


def metric_level(score):
    """The level a metric score asks for, or None when it is excellent (80 and up)."""
    if score < ACT_BELOW:
        return "act"
    if score < SCHEDULE_BELOW:
        return "schedule"
    if score < MONITOR_BELOW:
        return "monitor"
    return None


def _stronger(level, floor):
    """The more urgent of two levels (None counts as no level)."""
    if level is None:
        return floor
    return min(level, floor, key=LEVELS.index)


class CmmsHealthAdvisor(models.AbstractModel):
    _name = "cmms.health.advisor"
    _description = "Health recommendations"

    @api.model
    def _level_labels(self):
        return {
            "act": self.env._("ACT"),
            "schedule": self.env._("SCHEDULE"),
            "monitor": self.env._("MONITOR"),
        }

    @api.model
    def _metric_catalogue(self):
        """Label and suggested action of each metric of the FLEXO components."""
        _ = self.env._
        return {
            "tension_dev_pct": (
                _("Web tension deviation"),
                _("check the pre-feeder's tension control, dancer and roll brake"),
            ),
            "feed_stops_hour": (
                _("Feed stops per hour"),
                _("check roll splicing and web feeding at the pre-feeder"),
            ),
            "double_sheet_hour": (
                _("Double-sheet errors per hour"),
                _("check the feeder's sheet separation, gate and photo-eyes"),
            ),
            "vacuum_dev_pct": (
                _("Feeder vacuum deviation"),
                _("check the vacuum pump, filters and belt seals"),
            ),
            "registration_error_mm": (
                _("Registration error"),
                _("check plate mounting and the register control of the printing units"),
            ),
            "reject_rate_pct": (
                _("Print reject rate"),
                _("inspect the anilox roll and the doctor blade"),
            ),
            "ink_viscosity_dev_pct": (
                _("Ink viscosity deviation"),
                _("adjust the ink viscosity and check the ink pump"),
            ),
            "performance_ratio": (
                _("Speed against design speed"),
                _("look for print instability that forces the line to slow down"),
            ),
            "miscut_pct": (
                _("Mis-cut rate"),
                _("check the slotter knife setting and sheet registration"),
            ),
            "blade_life_used_pct": (
                _("Slotter blade life used"),
                _("change the slotter blade"),
            ),
            "burr_mm": (
                _("Burr height"),
                _("sharpen or change the slotter blade"),
            ),
            "jam_hour": (
                _("Jams per hour"),
                _("check the discharge conveyor of the down stacker and its sensors"),
            ),
            "misstack_pct": (
                _("Mis-stack rate"),
                _("check the stacker's side guides and pneumatics"),
            ),
            "sync_dev_pct": (
                _("Stacker speed sync deviation"),
                _("check the speed synchronisation of the down stacker"),
            ),
            "uptime": (
                _("Uptime"),
                _("review the stops of this component and remove their main cause"),
            ),
        }

    @api.model
    def _metric_label(self, metric):
        return self._metric_catalogue().get(metric, (metric, ""))[0]

    # -- the rules -------------------------------------------------------------

    @api.model
    def _component_recommendations(self, band, metric_scores):
        """Recommendations of one component from its band and metric scores.

        Parameters
        ----------
        band : str
            The component's health band (``excellent`` ... ``critical``).
        metric_scores : dict or None
            ``{metric: score 0-100}`` of its newest health snapshot.

        Returns
        -------
        list of dict
            ``{"level", "metric", "score", "text"}``, most urgent first; empty
            outside the warning and critical bands.
        """
        if band not in ADVISED_BANDS:
            return []
        floor = "act" if band == "critical" else "schedule"
        catalogue = self._metric_catalogue()
        scores = sorted(
            (
                (float(score), metric)
                for metric, score in (metric_scores or {}).items()
                if isinstance(score, int | float) and not isinstance(score, bool)
            ),
            key=lambda item: (item[0], item[1]),
        )
        if not scores:
            return [
                {
                    "level": floor,
                    "metric": False,
                    "score": False,
                    "text": self.env._(
                        "No metric breakdown (estimated from the production reports): review "
                        "this component's stops and rejects of the shift."
                    ),
                }
            ]
        recommendations = []
        for rank, (score, metric) in enumerate(scores):
            level = metric_level(score)
            if rank == 0:
                level = _stronger(level, floor)
            if level is None:
                continue
            label, action = catalogue.get(metric, (metric, ""))
            action = action or self.env._("bring it back into its normal range")
            values = {"metric": label, "score": round(score), "action": action}
            if level == "act":
                text = self.env._("%(metric)s scores %(score)s/100: act now: %(action)s.", **values)
            elif level == "schedule":
                text = self.env._(
                    "%(metric)s scores %(score)s/100: at the next planned stop, %(action)s.",
                    **values,
                )
            else:
                text = self.env._(
                    "%(metric)s scores %(score)s/100: watch it; if it worsens, %(action)s.",
                    **values,
                )
            recommendations.append({"level": level, "metric": metric, "score": score, "text": text})
        recommendations.sort(key=lambda r: LEVELS.index(r["level"]))
        return recommendations

    @api.model
    def _health_index_recommendations(self, equipment, oee_factors=None):
        """*Act* recommendations of an equipment whose health index is under 50.

        Parameters
        ----------
        equipment : maintenance.equipment record
        oee_factors : dict, optional
            ``{"availability", "performance", "quality"}`` averages (%) of the
            records behind its OEE score (read when not given).
        """
        equipment.ensure_one()
        if not equipment.health_index_band or equipment.health_index >= HEALTH_INDEX_ACT_BELOW:
            return []
        parts = []
        factors = oee_factors if oee_factors is not None else equipment._recent_oee_factors()
        if factors:
            parts.append((equipment.oee_score, "oee", factors))
        if equipment.rpn_max:
            parts.append((equipment.rpn_score, "rpn", None))
        recommendations = []
        for score, part, factors in sorted(parts, key=lambda p: p[0]):
            if part == "oee":
                recommendations.append(self._oee_recommendation(equipment, score, factors))
            else:
                mode = equipment.fmea_ids.sorted("rpn", reverse=True)[:1]
                recommendations.append(
                    {
                        "level": "act",
                        "metric": "rpn",
                        "score": score,
                        "text": self.env._(
                            "Health index %(index)s: failure mode %(mode)s has RPN %(rpn)s: "
                            "%(action)s.",
                            index=round(equipment.health_index),
                            mode=mode.name,
                            rpn=mode.rpn,
                            action=mode.recommended_action
                            or self.env._("review its causes and controls and lower its RPN"),
                        ),
                    }
                )
        return recommendations

    @api.model
    def _oee_recommendation(self, equipment, score, factors):
        factor = min(OEE_FACTORS, key=lambda name: (factors[name], OEE_FACTORS.index(name)))
        values = {
            "index": round(equipment.health_index),
            "value": round(factors[factor], 1),
            "days": get_param(self.env, "health_oee_days"),
        }
        if factor == "availability":
            text = self.env._(
                "Health index %(index)s: availability %(value)s %% over %(days)s days pulls "
                "the OEE down: remove the main cause of the stops (see the loss fishbone).",
                **values,
            )
        elif factor == "performance":
            text = self.env._(
                "Health index %(index)s: performance %(value)s %% over %(days)s days pulls the "
                "OEE down: find what keeps the line below its design speed.",
                **values,
            )
        else:
            text = self.env._(
                "Health index %(index)s: quality %(value)s %% over %(days)s days pulls the OEE "
                "down: find the unit that makes the rejects (printing, slotter) and correct it.",
                **values,
            )
        return {"level": "act", "metric": factor, "score": score, "text": text}

    # -- per equipment -----------------------------------------------------------

    @api.model
    def _for_equipment(self, equipments):
        """Recommendations of each equipment, by id (empty lists for the healthy ones).

        A component's band and metrics are those of its newest health snapshot.
        """
        snapshots = self._newest_snapshots(equipments)
        out = {}
        for equipment in equipments:
            snapshot = snapshots.get(equipment.id)
            recommendations = []
            if equipment.health_updated_at:
                band = equipment.health_band or health_band(equipment.health_score)
                recommendations += self._component_recommendations(
                    band, snapshot.metric_scores if snapshot else None
                )
            recommendations += self._health_index_recommendations(equipment)
            recommendations.sort(key=lambda r: LEVELS.index(r["level"]))
            out[equipment.id] = recommendations
        return out

    @api.model
    def _newest_snapshots(self, equipments):
        """The snapshot behind each equipment's current health, by equipment id (one query)."""
        equipments = equipments.filtered("health_updated_at")
        if not equipments:
            return {}
        domain = expression.OR(
            [
                [
                    ("equipment_id", "=", equipment.id),
                    ("measured_at", "=", equipment.health_updated_at),
                ]
                for equipment in equipments
            ]
        )
        newest = {}
        for snapshot in self.env["cmms.health.snapshot"].search(
            domain, order="measured_at desc, id desc"
        ):
            newest.setdefault(snapshot.equipment_id.id, snapshot)
        return newest
