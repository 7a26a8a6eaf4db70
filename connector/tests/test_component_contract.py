"""The FLEXO component codes Odoo installs are the connector's, no more, no fewer.

:data:`connector.flexo.scoring.COMPONENTS` is the project's one list of the
FLEXO 104's components. Odoo's data files (installed in production, not
demo) name them too: the default health thresholds of each component's
metrics and the loss-time reasons with the component each one stops; the
line view orders components by its own tuple (the addon cannot import the
connector); the demo gives each component equipment its code (generated
by ``python -m simulator demo-xml``, see ``simulator/tests/test_demo_xml.py``).
These tests read those files and fail when a code is missing, unknown or
misspelt on either side.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.flexo.scoring import COMPONENTS, DEFAULT_THRESHOLDS, reason_component

TELEMETRY = Path(__file__).resolve().parents[2] / "addons" / "cmms_telemetry"
THRESHOLDS = TELEMETRY / "data" / "cmms_health_threshold_data.xml"
REASONS = TELEMETRY / "data" / "cmms_downtime_reason_data.xml"
EQUIPMENT_DEMO = TELEMETRY / "demo" / "maintenance_equipment_demo.xml"
LINE_VIEW = TELEMETRY / "models" / "cmms_line_view.py"


def records(path: Path, model: str) -> Iterator[dict[str, str | None]]:
    """The field values of each ``<record>`` of ``model`` in an Odoo XML file."""
    for record in ET.parse(path).getroot().iter("record"):
        if record.get("model") == model:
            yield {field.get("name") or "": field.text for field in record.iter("field")}


def module_constant(path: Path, name: str) -> object:
    """A module-level literal of an Odoo model file (read, not imported: it imports Odoo)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} has no {name}")


def test_health_thresholds_cover_exactly_the_components() -> None:
    rows = list(records(THRESHOLDS, "cmms.health.threshold"))
    assert {row["component"] for row in rows} == set(COMPONENTS)


def test_health_thresholds_are_the_connectors_defaults() -> None:
    """Odoo's installed limits are the ones the connector scores with without Odoo."""
    for row in records(THRESHOLDS, "cmms.health.threshold"):
        component, metric = str(row["component"]), str(row["metric"])
        limits = tuple(float(str(row[key])) for key in ("good", "warning", "critical"))
        assert limits == DEFAULT_THRESHOLDS[component][metric], (component, metric)


def test_downtime_reasons_name_exactly_the_components() -> None:
    rows = list(records(REASONS, "cmms.downtime.reason"))
    mapped = {row["component_code"] for row in rows if row.get("component_code")}
    assert mapped == set(COMPONENTS)


def test_downtime_reasons_map_as_the_connector_does() -> None:
    """A reason's component in Odoo is the one the connector blames its stops on."""
    for row in records(REASONS, "cmms.downtime.reason"):
        assert row.get("component_code") == reason_component(row["code"]), row["code"]


def test_the_line_view_orders_the_components_of_the_connector() -> None:
    assert module_constant(LINE_VIEW, "COMPONENT_ORDER") == COMPONENTS


def test_the_demo_component_equipment_carries_every_code_once() -> None:
    codes = [row["cmms_component_code"] for row in records(EQUIPMENT_DEMO, "maintenance.equipment")]
    assert codes == list(COMPONENTS)


def test_an_unknown_code_is_caught(tmp_path: Path) -> None:
    """The checks see a misspelt code (the reading is not vacuous)."""
    text = THRESHOLDS.read_text(encoding="utf-8").replace(
        '<field name="component">SLOTTER</field>', '<field name="component">SLOTER</field>'
    )
    bad = tmp_path / THRESHOLDS.name
    bad.write_text(text, encoding="utf-8")
    found = {row["component"] for row in records(bad, "cmms.health.threshold")}
    assert found != set(COMPONENTS)
    assert "SLOTER" in found
    with pytest.raises(AssertionError, match="has no"):
        module_constant(LINE_VIEW, "NO_SUCH_CONSTANT")
