"""FLEXO 104 component scoring: the specification's tables and rules.

The component-health specification of the FLEXO 104 (five components,
a tick payload per interval, see :mod:`connector.ingest.schema`) defines, per
component, band tables that turn a metric into a score and weights that
blend the scores into the component's health (0-100). This module is the
one implementation of those rules in the project: tables and pure
functions, no state and no I/O. :mod:`connector.flexo.engine` applies them
to each machine's ticks; Odoo stores the results, computes the band of
each snapshot and owns the OEE formula (:func:`oee_percent` is its copy,
checked by the contract test).

Band tables
-----------
A metric's limits ``good < warning < critical`` come from Odoo's
``health_thresholds`` (``get_connector_config``) and default to the
specification's threshold file (:data:`DEFAULT_THRESHOLDS`). Tables with
three scores read ``< good``, ``good-warning``, ``> warning``; the tension
table has four: ``< good``, ``good-warning``, ``warning-critical``,
``> critical``. A limit belongs to the band above it, except that the last
limit belongs to the band below (``5-10 %`` scores 70 at 5 %, ``> 15 %``
starts above 15 %). Count metrics whose normal range is written ``0-1``
(``feed_stops_hour``, ``jam_hour``) keep their good limit in the best band.
Limits configured the other way round (``good > warning > critical``) mean
lower is worse.

=============  ========================  =======================  ======
component      factor (metric)           scores by band           weight
=============  ========================  =======================  ======
PRE_FEEDER     tension_dev_pct           100 / 70 / 50 / 30        0.5
               feed_stops_hour (0-1)     100 / 60 / 20             0.3
               uptime                                              0.2
FEEDER         double_sheet_hour         100 / 55 / 25             0.4
               vacuum_dev_pct            100 / 60 / 30             0.3
               uptime                                              0.3
PRINTING       registration_error_mm     100 / 60 / 25             0.35
               reject_rate_pct           100 / 55 / 20             0.35
               ink_viscosity_dev_pct     100 / 65 / 35             0.15
               performance_ratio                                   0.15
SLOTTER        miscut_pct                100 / 55 / 20             0.4
               blade_life_used_pct       100 / 50 / 20             0.3
               burr_mm                   100 / 60 / 25             0.2
               uptime                                              0.1
DOWN_STACKER   jam_hour (0-1)            100 / 50 / 15             0.4
               misstack_pct              100 / 60 / 25             0.3
               sync_dev_pct              100 / 70 / 40             0.2
               uptime                                              0.1
=============  ========================  =======================  ======

``uptime`` is ``100 x run / (run + downtime of the component)`` over the
trailing hour of ticks (the specification leaves it open; the ``*_hour``
metrics use the same hour). ``performance_ratio`` is ``actual / design
speed x 100`` (capped at 100) of the tick while the line runs. A factor
whose input is missing is left out and the other weights are scaled up.

Fallback
--------
A component whose metrics are all missing (a tick built from production
reports has only the overall counters and the stops) is estimated as the
specification's fallback says: it starts at 85 and loses points for

* its downtime: frequency x severity, i.e. the sum over its stops in the
  trailing eight hours of ``category weight x duration class`` x
  :data:`STOP_PENALTY` (category: ``TROUBLE`` 1, ``MACET`` jam 0.75,
  ``GANTI`` change-over 0.25, other 0.5; duration class 1 under 10 min,
  2 up to 30 min, 3 above). Stops without a component are mapped from
  their reason code (:func:`reason_component`);
* the reject rate above the PRINTING ``reject_rate_pct`` good limit:
  :data:`REJECT_PENALTY` points per percent, times the component's quality
  impact;
* the performance below :data:`PERFORMANCE_TARGET` percent of the design
  speed: one point per percent, times the component's performance impact.

Impacts (high 1, medium 0.5, low 0.25) are the specification's OEE impact
mapping of each component.

Health band: excellent from 80, good from 60, warning from 40, critical
below. Odoo owns these limits, like the OEE settings and the largest values
its ingestion accepts: they arrive as ``flexo_rules`` in its configuration
(:class:`OdooRules`; the defaults serve an Odoo that sends none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

#: The FLEXO components, in the order of the sheet's path through the line,
#: with the suffix of each one's equipment tag (machine ``FLX-104`` ->
#: ``FLX-104-PR``). The project's one list of them: the engine names the
#: equipment with it, the simulator and the Odoo demo data generated by
#: ``python -m simulator demo-xml`` take it from here, and a contract test
#: holds Odoo's data files to it.
COMPONENT_SUFFIX: dict[str, str] = {
    "PRE_FEEDER": "PF",
    "FEEDER": "FD",
    "PRINTING": "PR",
    "SLOTTER": "SL",
    "DOWN_STACKER": "DS",
}
COMPONENTS: tuple[str, ...] = tuple(COMPONENT_SUFFIX)

#: The specification's ``config/component_thresholds.json``, plus limits for
#: the two tables it scores without listing them (ink viscosity, speed sync).
DEFAULT_THRESHOLDS: dict[str, dict[str, tuple[float, float, float]]] = {
    "PRE_FEEDER": {"tension_dev_pct": (5, 10, 15), "feed_stops_hour": (1, 3, 5)},
    "FEEDER": {"double_sheet_hour": (2, 5, 8), "vacuum_dev_pct": (10, 20, 30)},
    "PRINTING": {
        "registration_error_mm": (0.2, 0.5, 1.0),
        "reject_rate_pct": (2, 5, 10),
        "ink_viscosity_dev_pct": (10, 20, 30),
    },
    "SLOTTER": {
        "miscut_pct": (1, 3, 5),
        "burr_mm": (0.1, 0.2, 0.3),
        "blade_life_used_pct": (70, 90, 95),
    },
    "DOWN_STACKER": {
        "jam_hour": (1, 3, 5),
        "misstack_pct": (1, 3, 5),
        "sync_dev_pct": (5, 10, 15),
    },
}

#: Names the specification's metric tables use for the payload's metrics.
METRIC_ALIASES: dict[str, str] = {
    "web_tension_dev_pct": "tension_dev_pct",
    "double_sheet_err_hour": "double_sheet_hour",
    "vacuum_level_dev_pct": "vacuum_dev_pct",
    "reject_rate_print_pct": "reject_rate_pct",
    "burr_height_mm": "burr_mm",
    "jam_count_hour": "jam_hour",
}

UPTIME = "uptime"
PERFORMANCE_RATIO = "performance_ratio"

BAND_LIMITS: tuple[tuple[str, float], ...] = (
    ("excellent", 80.0),
    ("good", 60.0),
    ("warning", 40.0),
)

FALLBACK_START = 85.0
STOP_PENALTY = 3.0
REJECT_PENALTY = 5.0
PERFORMANCE_TARGET = 85.0
HIGH, MEDIUM, LOW = 1.0, 0.5, 0.25
#: OEE impact of each component: (availability, performance, quality).
IMPACT: dict[str, tuple[float, float, float]] = {
    "PRE_FEEDER": (HIGH, MEDIUM, LOW),
    "FEEDER": (HIGH, MEDIUM, MEDIUM),
    "PRINTING": (MEDIUM, HIGH, HIGH),
    "SLOTTER": (MEDIUM, LOW, HIGH),
    "DOWN_STACKER": (HIGH, MEDIUM, LOW),
}
OEE_FAULT_BELOW = 60.0
OEE_WARNING_UP_TO = 75.0
OEE_AVAILABILITY_BASES = ("run_downtime", "planned")
FALLBACK_WINDOW_S = 8 * 3600.0
MAX_DOWNTIME_MIN = 7 * 24 * 60.0
MAX_RECOMMENDATIONS = 20
MAX_PREDICTED_HOURS = 1e5


@dataclass(frozen=True, slots=True)
class OdooRules:
    """The rules Odoo owns and sends as ``flexo_rules`` in its configuration.

    Health band limits, the OEE availability basis and status limits (Odoo's
    settings) and the largest values its ingestion accepts. The defaults are
    Odoo's own, for an Odoo that sends none; ``test_odoo_contract`` fails
    when they differ from Odoo's.
    """

    band_limits: tuple[tuple[str, float], ...] = BAND_LIMITS
    oee_availability_basis: str = "run_downtime"
    oee_fault_below: float = OEE_FAULT_BELOW
    oee_warning_up_to: float = OEE_WARNING_UP_TO
    max_recommendations: int = MAX_RECOMMENDATIONS
    max_downtime_min: float = MAX_DOWNTIME_MIN
    max_predicted_hours: float = MAX_PREDICTED_HOURS

    @classmethod
    def from_config(cls, rules: Any) -> tuple[OdooRules, list[str]]:
        """Read Odoo's ``flexo_rules``; what is missing or unusable keeps its default.

        Examples
        --------
        >>> r, problems = OdooRules.from_config({"oee": {"fault_below": 50, "warning_below": 70}})
        >>> r.oee_fault_below, r.oee_warning_up_to, r.band_limits[0], problems
        (50.0, 70.0, ('excellent', 80.0), [])
        >>> OdooRules.from_config(None) == (OdooRules(), [])
        True
        """
        default = cls()
        if not isinstance(rules, Mapping):
            return default, ([] if rules in (None, False) else ["flexo_rules is not an object"])
        problems: list[str] = []
        values: dict[str, Any] = {}
        bands = rules.get("health_bands")
        if bands not in (None, False):
            try:
                parsed = tuple((str(b), float(v)) for b, v in bands)
                limits = [v for _, v in parsed]
                if not parsed or limits != sorted(limits, reverse=True):
                    raise ValueError("limits must decrease")
                values["band_limits"] = parsed
            except (TypeError, ValueError) as exc:
                problems.append(f"health_bands: {exc}")
        sections = {
            "oee": (
                ("availability_basis", "oee_availability_basis", str),
                ("fault_below", "oee_fault_below", float),
                ("warning_below", "oee_warning_up_to", float),
            ),
            "limits": (
                ("max_recommendations", "max_recommendations", int),
                ("max_downtime_min", "max_downtime_min", float),
                ("max_predicted_hours", "max_predicted_hours", float),
            ),
        }
        for section, fields_ in sections.items():
            given = rules.get(section)
            if not isinstance(given, Mapping):
                continue
            for name, attr, kind in fields_:
                if given.get(name) in (None, False):
                    continue
                try:
                    value = kind(given[name])
                except (TypeError, ValueError):
                    problems.append(f"{section}.{name}: {given[name]!r}")
                    continue
                if kind is str and value not in OEE_AVAILABILITY_BASES:
                    problems.append(f"{section}.{name}: {value!r}")
                    continue
                if kind is not str and not (math.isfinite(value) and value >= 0):
                    problems.append(f"{section}.{name}: {value!r}")
                    continue
                values[attr] = value
        return replace(default, **values), problems


DEFAULT_RULES = OdooRules()


@dataclass(frozen=True, slots=True)
class BandTable:
    """A metric's scores by band (three or four), see the module doc."""

    metric: str
    scores: tuple[float, ...]
    good_inclusive: bool = False

    def level(self, value: float, limits: tuple[float, float, float]) -> int:
        """Band index of *value*: 0 best, ``len(scores) - 1`` worst.

        Examples
        --------
        >>> t = BandTable("tension_dev_pct", (100, 70, 50, 30))
        >>> [t.level(v, (5, 10, 15)) for v in (4.99, 5, 9.99, 10, 15, 15.01)]
        [0, 1, 1, 2, 2, 3]
        """
        good, warning, critical = limits
        if good > warning:  # lower is worse
            value, good, warning, critical = -value, -good, -warning, -critical
        if value < good or (self.good_inclusive and value == good):
            return 0
        if len(self.scores) == 4:
            if value < warning:
                return 1
            return 2 if value <= critical else 3
        return 1 if value <= warning else 2

    def score(self, value: float, limits: tuple[float, float, float]) -> float:
        """Score of *value* under *limits*."""
        return float(self.scores[self.level(value, limits)])


@dataclass(frozen=True, slots=True)
class Factor:
    """One weighted input of a component's health: a band table or a KPI."""

    name: str
    weight: float
    table: BandTable | None = None


def _band(metric: str, *scores: float, inclusive: bool = False) -> BandTable:
    return BandTable(metric, tuple(float(s) for s in scores), inclusive)


#: The specification's aggregate formulas.
RULES: dict[str, tuple[Factor, ...]] = {
    "PRE_FEEDER": (
        Factor("tension_dev_pct", 0.5, _band("tension_dev_pct", 100, 70, 50, 30)),
        Factor("feed_stops_hour", 0.3, _band("feed_stops_hour", 100, 60, 20, inclusive=True)),
        Factor(UPTIME, 0.2),
    ),
    "FEEDER": (
        Factor("double_sheet_hour", 0.4, _band("double_sheet_hour", 100, 55, 25)),
        Factor("vacuum_dev_pct", 0.3, _band("vacuum_dev_pct", 100, 60, 30)),
        Factor(UPTIME, 0.3),
    ),
    "PRINTING": (
        Factor("registration_error_mm", 0.35, _band("registration_error_mm", 100, 60, 25)),
        Factor("reject_rate_pct", 0.35, _band("reject_rate_pct", 100, 55, 20)),
        Factor("ink_viscosity_dev_pct", 0.15, _band("ink_viscosity_dev_pct", 100, 65, 35)),
        Factor(PERFORMANCE_RATIO, 0.15),
    ),
    "SLOTTER": (
        Factor("miscut_pct", 0.4, _band("miscut_pct", 100, 55, 20)),
        Factor("blade_life_used_pct", 0.3, _band("blade_life_used_pct", 100, 50, 20)),
        Factor("burr_mm", 0.2, _band("burr_mm", 100, 60, 25)),
        Factor(UPTIME, 0.1),
    ),
    "DOWN_STACKER": (
        Factor("jam_hour", 0.4, _band("jam_hour", 100, 50, 15, inclusive=True)),
        Factor("misstack_pct", 0.3, _band("misstack_pct", 100, 60, 25)),
        Factor("sync_dev_pct", 0.2, _band("sync_dev_pct", 100, 70, 40)),
        Factor(UPTIME, 0.1),
    ),
}

# Suggested actions by (component, metric); {v} is the measured value.
_ADVICE: dict[tuple[str, str], str] = {
    ("PRE_FEEDER", "tension_dev_pct"): (
        "Web tension deviates {v:.1f} % from its set point: check the pre-feeder's tension "
        "control, dancer and roll brake."
    ),
    ("PRE_FEEDER", "feed_stops_hour"): (
        "{v:g} feed stops in the last hour: check roll splicing and web feeding at the pre-feeder."
    ),
    ("FEEDER", "double_sheet_hour"): (
        "{v:g} double-sheet errors in the last hour: check the feeder's sheet separation, gate "
        "and photo-eyes."
    ),
    ("FEEDER", "vacuum_dev_pct"): (
        "Feeder vacuum deviates {v:.1f} %: check the vacuum pump, filters and belt seals."
    ),
    ("PRINTING", "registration_error_mm"): (
        "Registration error {v:.2f} mm: check plate mounting and the register control of the "
        "printing units."
    ),
    ("PRINTING", "reject_rate_pct"): (
        "Print reject rate {v:.1f} %: inspect the anilox roll and the doctor blade."
    ),
    ("PRINTING", "ink_viscosity_dev_pct"): (
        "Ink viscosity deviates {v:.1f} %: adjust the ink viscosity and check the ink pump."
    ),
    ("PRINTING", PERFORMANCE_RATIO): (
        "The line runs at {v:.0f} % of its design speed: look for print instability that "
        "forces the operators to slow down."
    ),
    ("SLOTTER", "miscut_pct"): (
        "Mis-cut rate {v:.1f} %: check the slotter knife setting and sheet registration."
    ),
    ("SLOTTER", "blade_life_used_pct"): ("Slotter blade {v:.0f} % used: plan the blade change."),
    ("SLOTTER", "burr_mm"): (
        "Burr height {v:.2f} mm: the slotter blade is dull; sharpen or change it."
    ),
    ("DOWN_STACKER", "jam_hour"): (
        "{v:g} jams in the last hour at the down stacker: check the discharge conveyor and its "
        "sensors."
    ),
    ("DOWN_STACKER", "misstack_pct"): (
        "Mis-stack rate {v:.1f} %: check the stacker's side guides and pneumatics."
    ),
    ("DOWN_STACKER", "sync_dev_pct"): (
        "Discharge speed deviates {v:.1f} % from the line speed: check the stacker's speed "
        "synchronisation."
    ),
}
_UPTIME_ADVICE = "Uptime {v:.0f} % in the last hour: review the stops of this component."


def health_band(score: float, limits: tuple[tuple[str, float], ...] = BAND_LIMITS) -> str:
    """Band of a health score: excellent >= 80, good >= 60, warning >= 40, else critical.

    The limits are Odoo's (:attr:`OdooRules.band_limits`).

    Examples
    --------
    >>> [health_band(s) for s in (100, 80, 79.9, 60, 59.9, 40, 39.9, 0)]
    ['excellent', 'excellent', 'good', 'good', 'warning', 'warning', 'critical', 'critical']
    """
    for band, limit in limits:
        if score >= limit:
            return band
    return "critical"


def system_status(oee_pct: float | None, rules: OdooRules = DEFAULT_RULES) -> str | None:
    """The specification's alert level of an OEE in percent, with Odoo's limits.

    Examples
    --------
    >>> [system_status(x) for x in (59.9, 60, 75, 75.1, None)]
    ['FAULT', 'WARNING', 'WARNING', 'NORMAL', None]
    """
    if oee_pct is None:
        return None
    if oee_pct < rules.oee_fault_below:
        return "FAULT"
    if oee_pct <= rules.oee_warning_up_to:
        return "WARNING"
    return "NORMAL"


def reason_component(reason: str | None) -> str | None:
    """Map a loss-time reason code to the component it stops, or ``None``.

    Examples
    --------
    >>> reason_component("PRE FEEDER TROUBLE MEKANIK"), reason_component("FEEDER UNIT TROUBLE")
    ('PRE_FEEDER', 'FEEDER')
    >>> reason_component("GANTI ANILOX"), reason_component("istirahat") is None
    ('PRINTING', True)
    """
    text = " ".join((reason or "").upper().replace("_", " ").split())
    if not text:
        return None
    for component, words in (
        ("PRE_FEEDER", ("PRE FEEDER", "PREFEEDER", "GANTI ROLL", "SPLICE")),
        ("DOWN_STACKER", ("STACKER", "DISCHARGE")),
        ("SLOTTER", ("SLOTTER", "PISAU", "DIE CUT")),
        ("PRINTING", ("PRINTING", "PRINT", "ANILOX", "DOCTOR BLADE", "PLATE", "TINTA", "INK")),
        ("FEEDER", ("FEEDER",)),
    ):
        if any(word in text for word in words):
            return component
    return None


def stop_severity(reason: str | None, duration_min: float) -> float:
    """Severity of one stop: category weight x duration class (see the module doc).

    Examples
    --------
    >>> stop_severity("FEEDER UNIT TROUBLE MEKANIK", 15), stop_severity("GANTI ROLL", 5)
    (2.0, 0.25)
    """
    text = (reason or "").upper()
    if "TROUBLE" in text:
        weight = 1.0
    elif "MACET" in text or "JAM" in text:
        weight = 0.75
    elif "GANTI" in text:
        weight = 0.25
    else:
        weight = 0.5
    klass = 1.0 if duration_min < 10 else 2.0 if duration_min <= 30 else 3.0
    return weight * klass


def resolve_thresholds(
    configured: Mapping[str, Any] | None,
) -> tuple[dict[str, dict[str, tuple[float, float, float]]], list[str]]:
    """Merge Odoo's ``health_thresholds`` over :data:`DEFAULT_THRESHOLDS`.

    Returns
    -------
    thresholds, problems
        The limits by component and metric, and a description of every
        configured entry that was not usable (kept at its default).
    """
    out = {c: dict(m) for c, m in DEFAULT_THRESHOLDS.items()}
    problems: list[str] = []
    for component, metrics in (configured or {}).items():
        if not isinstance(metrics, Mapping):
            problems.append(f"{component}: not an object")
            continue
        for metric, limits in metrics.items():
            metric_name = METRIC_ALIASES.get(metric) or metric
            try:
                values = tuple(float(limits[k]) for k in ("good", "warning", "critical"))
            except (TypeError, KeyError, ValueError):
                problems.append(f"{component}.{metric}: needs numeric good, warning, critical")
                continue
            good, warning, critical = values
            if not all(math.isfinite(v) for v in values) or not (
                good < warning < critical or good > warning > critical
            ):
                problems.append(f"{component}.{metric}: warning must lie between good and critical")
                continue
            out.setdefault(component, {})[metric_name] = (good, warning, critical)
    return out, problems


def round_score(value: float) -> float:
    """Round a score half up to one decimal, as Odoo stores it.

    Examples
    --------
    >>> round_score(81.85), round_score(79.94999), round_score(39.95)
    (81.9, 79.9, 40.0)
    """
    return math.floor(value * 10.0 + 0.5 + 1e-9) / 10.0


def finite_number(value: Any) -> float | None:
    """*value* as a float if it is a finite number (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def component_metrics(component: str, raw: Mapping[str, float | None]) -> dict[str, float]:
    """The payload metrics of one component under their canonical names.

    Aliases of the specification's tables are renamed; the tension and the
    speed sync deviations are derived from their set point and actual
    values when only those are reported.
    """
    out: dict[str, float] = {}
    for name, value in raw.items():
        number = finite_number(value)
        if number is not None and name != "health_score":
            out.setdefault(METRIC_ALIASES.get(name, name), number)
    if "tension_dev_pct" not in out:
        setpoint, actual = out.get("tension_setpoint_N"), out.get("tension_actual_N")
        if setpoint and actual is not None:
            out["tension_dev_pct"] = abs(actual - setpoint) / abs(setpoint) * 100.0
    if "sync_dev_pct" not in out:
        line, discharge = out.get("line_speed"), out.get("discharge_speed")
        if line and discharge is not None:
            out["sync_dev_pct"] = abs(discharge - line) / abs(line) * 100.0
    return out


@dataclass(slots=True)
class ComponentHealth:
    """The health of one component at one tick."""

    component: str
    score: float
    band: str
    method: str  # "rules" or "fallback"
    metric_scores: dict[str, float] = field(default_factory=dict)
    recommendations: list[str] = field(default_factory=list)


def score_component(
    component: str,
    metrics: Mapping[str, float],
    thresholds: Mapping[str, tuple[float, float, float]],
    uptime: float | None = None,
    performance: float | None = None,
    odoo_rules: OdooRules = DEFAULT_RULES,
) -> ComponentHealth | None:
    """Score one component by the specification's rules.

    Parameters
    ----------
    component : str
        ``PRE_FEEDER`` ... ``DOWN_STACKER``.
    metrics : mapping
        Canonical metric values (:func:`component_metrics`).
    thresholds : mapping
        ``metric -> (good, warning, critical)`` of this component.
    uptime, performance : float, optional
        The uptime and performance-ratio KPIs in percent (``None``: unknown).
    odoo_rules : OdooRules
        Odoo's band limits and largest number of recommendations.

    Returns
    -------
    ComponentHealth or None
        ``None`` when none of the component's banded metrics is present
        (the caller falls back to :func:`fallback_component`).

    Examples
    --------
    The specification's example tick, PRINTING (registration 0.18 mm -> 100,
    reject 2.5 % -> 55, ink 6 % -> 100, speed 210 / 250 -> 84):

    >>> h = score_component("PRINTING", {"registration_error_mm": 0.18,
    ...     "reject_rate_pct": 2.5, "ink_viscosity_dev_pct": 6.0},
    ...     DEFAULT_THRESHOLDS["PRINTING"], performance=84.0)
    >>> h.score, h.band
    (81.9, 'excellent')
    """
    rules = RULES.get(component)
    if not rules:
        return None
    parts: list[tuple[float, float]] = []
    scores: dict[str, float] = {}
    advice: list[tuple[int, str]] = []
    banded = 0
    for factor in rules:
        if factor.table is not None:
            value = metrics.get(factor.name)
            limits = thresholds.get(factor.name) or DEFAULT_THRESHOLDS[component][factor.name]
            if value is None:
                continue
            banded += 1
            level = factor.table.level(value, limits)
            score = float(factor.table.scores[level])
            if level:
                worst = level == len(factor.table.scores) - 1
                text = _ADVICE.get((component, factor.name), "{v:g}: out of its normal range.")
                advice.append(
                    (-level, ("Urgent: " if worst else "") + text.format(v=value)),
                )
        else:
            kpi = uptime if factor.name == UPTIME else performance
            if kpi is None:
                continue
            score = min(100.0, max(0.0, kpi))
            if score < 60.0:
                text = _ADVICE.get((component, factor.name), _UPTIME_ADVICE)
                advice.append((0, text.format(v=score)))
        scores[factor.name] = round(score, 2)
        parts.append((factor.weight, score))
    if not banded:
        return None
    total = sum(w for w, _ in parts)
    value = sum(w * s for w, s in parts) / total
    rounded = round_score(value)
    advice.sort(key=lambda a: a[0])
    return ComponentHealth(
        component,
        rounded,
        health_band(rounded, odoo_rules.band_limits),
        "rules",
        scores,
        [text for _, text in advice][: odoo_rules.max_recommendations],
    )


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Totals of the trailing window the fallback looks at."""

    run_min: float = 0.0
    produced: float = 0.0
    reject: float = 0.0
    speed_run: float = 0.0  # sum of actual speed x run minutes
    design_run: float = 0.0  # sum of design speed x run minutes
    stops: tuple[tuple[str, float, str], ...] = ()  # (component, minutes, reason)

    @property
    def reject_pct(self) -> float | None:
        """Rejected share of the output in percent (``None`` without output)."""
        return self.reject / self.produced * 100.0 if self.produced > 0 else None

    @property
    def performance_pct(self) -> float | None:
        """Run-time weighted actual / design speed in percent."""
        return self.speed_run / self.design_run * 100.0 if self.design_run > 0 else None


def fallback_component(
    component: str,
    window: WindowSummary,
    reject_good_pct: float = 2.0,
    rules: OdooRules = DEFAULT_RULES,
) -> ComponentHealth:
    """Estimate a component's health without its metrics (see the module doc).

    Examples
    --------
    No stops, 1 % rejects, 90 % speed: the starting 85.

    >>> fallback_component("FEEDER", WindowSummary(60, 1000, 10, 54000, 60000)).score
    85.0

    Two 15-minute mechanical stops (2 x 2 x 3 = 12 points), 4 % rejects
    (2 points above the limit x 5 x high impact), 80 % speed (5 x high):

    >>> w = WindowSummary(60, 1000, 40, 48000, 60000,
    ...                   (("PRINTING", 15, "PRINTING UNIT TROUBLE MEKANIK"),) * 2)
    >>> fallback_component("PRINTING", w).score
    58.0
    """
    _, perf_impact, quality_impact = IMPACT.get(component, (MEDIUM, MEDIUM, MEDIUM))
    score = FALLBACK_START
    advice: list[str] = ["Estimated from stops, rejects and speed: the machine reports no metrics."]
    own = [(minutes, reason) for c, minutes, reason in window.stops if c == component]
    if own:
        score -= STOP_PENALTY * sum(stop_severity(reason, minutes) for minutes, reason in own)
        reasons = sorted({reason for _, reason in own if reason})
        advice.append(
            f"{len(own)} stops ({sum(m for m, _ in own):.0f} min) in the last "
            f"{FALLBACK_WINDOW_S / 3600:.0f} h: {', '.join(reasons) or 'no reason given'}."
        )
    reject = window.reject_pct
    if reject is not None and reject > reject_good_pct:
        score -= REJECT_PENALTY * (reject - reject_good_pct) * quality_impact
        if quality_impact >= HIGH:
            advice.append(f"Reject rate {reject:.1f} %: inspect this component's quality.")
    performance = window.performance_pct
    if performance is not None and performance < PERFORMANCE_TARGET:
        score -= (PERFORMANCE_TARGET - performance) * perf_impact
    rounded = round_score(min(100.0, max(0.0, score)))
    return ComponentHealth(
        component,
        rounded,
        health_band(rounded, rules.band_limits),
        "fallback",
        {},
        advice[: rules.max_recommendations],
    )


def oee_percent(
    run_min: float,
    downtime_min: float,
    planned_min: float,
    actual_speed: float,
    design_speed: float,
    produced: float,
    good: float,
    basis: str = "run_downtime",
) -> float:
    """A x P x Q in percent, as Odoo's ``cmms.oee.record`` computes it.

    Availability is run / (run + downtime), or run / planned time when
    Odoo's basis is ``planned``; performance is actual / design speed,
    **not** capped at 1; quality is good / produced. The contract test runs
    Odoo's function beside this one.

    Examples
    --------
    >>> round(oee_percent(400, 80, 480, 210, 200, 1000, 950), 4)
    83.125
    """
    if basis == "planned" and planned_min > 0:
        availability = run_min / planned_min
    elif run_min + downtime_min > 0:
        availability = run_min / (run_min + downtime_min)
    else:
        availability = 0.0
    performance = actual_speed / design_speed if design_speed > 0 else 0.0
    quality = good / produced if produced > 0 else 0.0
    return availability * performance * quality * 100.0
