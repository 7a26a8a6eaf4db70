# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Settings, bands and small helpers shared by the telemetry models.

Odoo owns the rules the connector applies to FLEXO data (health bands, OEE
formula and status limits, the largest values ``ingest`` accepts): the
connector reads them from ``get_connector_config`` (:func:`connector_rules`)
and keeps the same values only as defaults for an older Odoo. The
connector's contract test runs this module's functions beside its own.
"""

import json
import re

# Component and metric codes as the connector and the FLEXO tick use them
# (PRINTING, registration_error_mm).
COMPONENT_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
METRIC_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Component health (the rule-based score of the connector, 0-100).
HEALTH_BANDS = [
    ("excellent", "Excellent"),
    ("good", "Good"),
    ("warning", "Warning"),
    ("critical", "Critical"),
]
HEALTH_BAND_LIMITS = (("excellent", 80.0), ("good", 60.0), ("warning", 40.0))

# The largest values ingest accepts in FLEXO items (sent to the connector).
MAX_RECOMMENDATIONS = 20
MAX_DOWNTIME_MIN = 7 * 24 * 60.0
MAX_PREDICTED_HOURS = 1e5

# Equipment health index (FMEA and OEE blend, 0-100).
HEALTH_INDEX_BANDS = [
    ("good", "Good"),
    ("warning", "Warning"),
    ("critical", "Critical"),
]
HEALTH_INDEX_LIMITS = (("good", 70.0), ("warning", 50.0))

OEE_STATUSES = [
    ("normal", "NORMAL"),
    ("warning", "WARNING"),
    ("fault", "FAULT"),
]
AVAILABILITY_BASES = [
    ("run_downtime", "Run time / (run time + downtime)"),
    ("planned", "Run time / planned time"),
]

# ir.config_parameter keys and their defaults.
PARAMS = {
    "alert_suppression_minutes": ("cmms_telemetry.alert_suppression_minutes", 60),
    "health_rpn_weight": ("cmms_telemetry.health_rpn_weight", 0.4),
    "health_oee_days": ("cmms_telemetry.health_oee_days", 30),
    "oee_fault_below": ("cmms_telemetry.oee_fault_below", 60.0),
    "oee_warning_below": ("cmms_telemetry.oee_warning_below", 75.0),
    "oee_availability_basis": ("cmms_telemetry.oee_availability_basis", "run_downtime"),
    "reading_minute_days": ("cmms_telemetry.reading_minute_days", 90),
    "reading_hour_days": ("cmms_telemetry.reading_hour_days", 730),
}


def get_param(env, name):
    """The value of one telemetry setting, cast to the type of its default."""
    key, default = PARAMS[name]
    raw = env["ir.config_parameter"].sudo().get_param(key)
    if raw in (None, False, ""):
        return default
    try:
        return type(default)(raw)
    except (TypeError, ValueError):
        return default


def user_in_groups(env, groups):
    """Whether the current user is the superuser or a member of one of
    ``groups`` (XML ids): who may call a client action's data methods."""
    return env.is_superuser() or any(env.user.has_group(group) for group in groups)


def is_choice(value, choices):
    """Whether ``value``, as a client sent it, is one of ``choices`` (strings
    or numbers; a boolean never is, though ``True == 1``)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value in choices


def health_band(score):
    """The band of a component health score: 80 / 60 / 40 limits."""
    for band, limit in HEALTH_BAND_LIMITS:
        if score >= limit:
            return band
    return "critical"


def oee_values(inputs, basis, fault_below, warning_below):
    """Availability, performance, quality (%), OEE = A x P x Q (%) and status.

    *inputs* holds ``run_min``, ``downtime_min``, ``planned_min``,
    ``design_speed``, ``actual_speed``, ``produced`` and ``good``; *basis*
    is ``run_downtime`` or ``planned``; the status is ``fault`` below
    *fault_below*, ``warning`` up to *warning_below*, ``normal`` above.
    """
    run, downtime, planned = inputs["run_min"], inputs["downtime_min"], inputs["planned_min"]
    if basis == "planned" and planned > 0:
        availability = run / planned
    elif run + downtime > 0:
        availability = run / (run + downtime)
    else:
        availability = 0.0
    design = inputs["design_speed"]
    performance = inputs["actual_speed"] / design if design > 0 else 0.0
    produced = inputs["produced"]
    quality = inputs["good"] / produced if produced > 0 else 0.0
    oee = availability * performance * quality * 100.0
    if oee < fault_below:
        status = "fault"
    elif oee <= warning_below:
        status = "warning"
    else:
        status = "normal"
    return {
        "availability": availability * 100.0,
        "performance": performance * 100.0,
        "quality": quality * 100.0,
        "oee": oee,
        "status": status,
    }


def connector_rules(basis, fault_below, warning_below):
    """The ``flexo_rules`` of ``get_connector_config`` (docs/contracts.md)."""
    return {
        "health_bands": [[band, limit] for band, limit in HEALTH_BAND_LIMITS],
        "oee": {
            "availability_basis": basis,
            "fault_below": float(fault_below),
            "warning_below": float(warning_below),
        },
        "limits": {
            "max_recommendations": MAX_RECOMMENDATIONS,
            "max_downtime_min": MAX_DOWNTIME_MIN,
            "max_predicted_hours": MAX_PREDICTED_HOURS,
        },
    }


def health_index_band(index):
    """The band of an equipment health index: 70 / 50 limits."""
    for band, limit in HEALTH_INDEX_LIMITS:
        if index >= limit:
            return band
    return "critical"


def rpn_score(rpn):
    """RPN (1-1000) to a 0-100 score where higher is healthier: 100 - RPN / 10."""
    return max(0.0, 100.0 - rpn / 10.0)


def json_display(value):
    """Readable, stable text of a JSON value for the form views."""
    if value in (None, False, {}, []):
        return False
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
