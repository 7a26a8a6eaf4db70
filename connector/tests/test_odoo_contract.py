"""The rules Odoo owns and the connector applies: both sides must agree.

Odoo keeps the FLEXO health band limits, the OEE formula and its status
settings, and the largest values its ingestion accepts in
``addons/cmms_telemetry/models/telemetry_tools.py`` (plain Python, no Odoo
import) and sends them as ``flexo_rules`` in ``get_connector_config``. The
connector reads them (:class:`connector.flexo.scoring.OdooRules`) and keeps Odoo's
values as defaults for an older Odoo. These tests run Odoo's own functions
beside the connector's and fail when the two disagree.
"""

from __future__ import annotations

import ast
import itertools
import runpy
from pathlib import Path
from typing import Any

import pytest

from connector.flexo import scoring
from connector.flexo.scoring import (
    DEFAULT_RULES,
    OdooRules,
    health_band,
    oee_percent,
    system_status,
)

MODELS = Path(__file__).resolve().parents[2] / "addons" / "cmms_telemetry" / "models"


@pytest.fixture(scope="module")
def odoo() -> dict[str, Any]:
    """The namespace of Odoo's ``telemetry_tools`` module (it imports no Odoo)."""
    # Loaded by path on purpose: importing it as a package module would run
    # the addon's __init__ (Odoo models); the file itself is plain Python.
    return runpy.run_path(str(MODELS / "telemetry_tools.py"))


def odoo_defaults(odoo: dict[str, Any]) -> dict[str, Any]:
    """What Odoo sends when its settings keep their defaults."""
    params = odoo["PARAMS"]
    return odoo["connector_rules"](
        params["oee_availability_basis"][1],
        params["oee_fault_below"][1],
        params["oee_warning_below"][1],
    )


def test_the_connector_defaults_are_odoos_values(odoo: dict[str, Any]) -> None:
    rules, problems = OdooRules.from_config(odoo_defaults(odoo))
    assert problems == []
    assert rules == DEFAULT_RULES, "connector.flexo.scoring defaults differ from Odoo's values"


def test_every_rule_odoo_sends_is_read(odoo: dict[str, Any]) -> None:
    """Change each value Odoo sends: the connector must see each change."""
    sent = odoo_defaults(odoo)
    changed = {
        "health_bands": [[band, limit - 5.0] for band, limit in sent["health_bands"]],
        "oee": {"availability_basis": "planned", "fault_below": 50.0, "warning_below": 70.0},
        "limits": {
            "max_recommendations": 7,
            "max_downtime_min": 60.0,
            "max_predicted_hours": 10.0,
        },
    }
    assert set(changed) == set(sent)
    for section in ("oee", "limits"):
        assert set(changed[section]) == set(sent[section]), f"Odoo's {section} keys changed"
    rules, problems = OdooRules.from_config(changed)
    assert problems == []
    assert rules.band_limits == (("excellent", 75.0), ("good", 55.0), ("warning", 35.0))
    assert (rules.oee_availability_basis, rules.oee_fault_below, rules.oee_warning_up_to) == (
        "planned",
        50.0,
        70.0,
    )
    assert (rules.max_recommendations, rules.max_downtime_min, rules.max_predicted_hours) == (
        7,
        60.0,
        10.0,
    )


def test_health_bands_agree(odoo: dict[str, Any]) -> None:
    for score in [x / 2 for x in range(0, 201)]:
        assert health_band(score) == odoo["health_band"](score), score


@pytest.mark.parametrize("basis", ["run_downtime", "planned"])
def test_oee_formula_and_status_agree(odoo: dict[str, Any], basis: str) -> None:
    """Odoo's A x P x Q (performance above 100 % included) and status limits."""
    params = odoo["PARAMS"]
    fault, warning = params["oee_fault_below"][1], params["oee_warning_below"][1]
    grid = itertools.product(
        (0.0, 300.0, 420.0),  # run
        (0.0, 60.0),  # downtime
        (0.0, 480.0),  # planned
        (150.0, 200.0, 260.0),  # actual speed: above the design speed too
        (0.0, 200.0),  # design speed
        (0, 1000),  # produced
        (0, 640, 1000),  # good
    )
    for run, down, planned, actual, design, produced, good in grid:
        if good > produced:
            continue
        inputs = {"run_min": run, "downtime_min": down, "planned_min": planned,
                  "actual_speed": actual, "design_speed": design, "produced": produced,
                  "good": good}  # fmt: skip
        theirs = odoo["oee_values"](inputs, basis, fault, warning)
        ours = oee_percent(run, down, planned, actual, design, produced, good, basis)
        assert ours == pytest.approx(theirs["oee"], abs=1e-9), inputs
        assert system_status(ours).lower() == theirs["status"], inputs  # type: ignore[union-attr]


def _module(name: str) -> ast.Module:
    return ast.parse((MODELS / name).read_text(encoding="utf-8"))


def test_odoo_uses_the_rules_it_sends() -> None:
    """The OEE record computes with ``oee_values``; the models that check the
    items' limits import the limits the configuration call sends
    (``connector_rules``), and nobody defines them again."""
    limits = {"MAX_RECOMMENDATIONS", "MAX_DOWNTIME_MIN", "MAX_PREDICTED_HOURS"}
    users: dict[str, set[str]] = {}
    for path in sorted(MODELS.glob("*.py")):
        if path.name == "telemetry_tools.py":
            continue
        tree = _module(path.name)
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "telemetry_tools"
            for alias in node.names
        }
        assigned = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert not assigned & limits, f"{path.name} defines a limit of its own"
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & limits
        assert used <= imported, f"{path.name} uses {used - imported} not from telemetry_tools"
        for name in used:
            users.setdefault(name, set()).add(path.name)
        if path.name == "cmms_telemetry_api.py":
            assert "connector_rules" in imported
    assert set(users) == limits, "every limit sent to the connector is checked by ingestion"
    record = _module("cmms_oee_record.py")
    calls = {
        node.func.id
        for node in ast.walk(record)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert "oee_values" in calls


def test_the_connector_has_no_other_copy() -> None:
    """The module constants are the defaults' source, not a second rule."""
    assert DEFAULT_RULES.band_limits == scoring.BAND_LIMITS
    defaults = (DEFAULT_RULES.oee_fault_below, DEFAULT_RULES.oee_warning_up_to)
    assert defaults == (scoring.OEE_FAULT_BELOW, scoring.OEE_WARNING_UP_TO)
