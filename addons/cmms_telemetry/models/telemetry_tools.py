# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Settings, bands and small helpers shared by the telemetry models."""

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


def health_band(score):
    """The band of a component health score: 80 / 60 / 40 limits."""
    for band, limit in HEALTH_BAND_LIMITS:
        if score >= limit:
            return band
    return "critical"


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
