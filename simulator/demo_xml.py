"""Odoo's demo plant, generated from the simulated plant's definition.

``config/instruments.toml`` describes each field instrument once: what the
simulator needs (tag, unit, nominal, signal range, process behaviour) and,
in its ``[instrument.equipment]`` and ``[instrument.sensor]`` tables, what
Odoo's register adds (name, calibration tolerances, parent machine; alarm
limits and detector settings). This module writes the two demo files of the
addons that describe the same instruments:

* ``cmms_parfum/demo/maintenance_equipment_instrument_demo.xml``: one
  ``maintenance.equipment`` per instrument (``maintenance_equipment_<tag>``);
* ``cmms_telemetry/demo/cmms_sensor_demo.xml``: its ``cmms.sensor``
  (``cmms_sensor_<tag>``).

The FLEXO 104 line's components are the connector's
:data:`~connector.flexo.scoring.COMPONENTS`, their equipment tags the
machine's tag and :data:`~connector.flexo.scoring.COMPONENT_SUFFIX`;
``config/flexo_line.toml`` adds the machine and, for each component, what
the register needs (XML id, name, criticality, specification). From them
come two more demo files:

* ``cmms_parfum/demo/maintenance_equipment_flexo_demo.xml``: the machine
  and one component ``maintenance.equipment`` per component code;
* ``cmms_telemetry/demo/maintenance_equipment_demo.xml``: each component's
  ``cmms_component_code``.

The addons must install without the simulator, so the generated files are
committed; ``python -m simulator demo-xml`` rewrites them and ``--check``
(and a test) fails when they differ from what the definition generates.
Instrument XML ids derive from the tag (``PT-101`` -> ``pt101``), the
line's are written in its file, so a database that has the demo keeps its
records. Instruments come in loop-number order (PT-101, TT-201, FT-301,
LT-401), the register's; components in the order of the sheet's path.

Examples
--------
>>> files = render()
>>> sorted(files)
['cmms_parfum/demo/maintenance_equipment_flexo_demo.xml',
 'cmms_parfum/demo/maintenance_equipment_instrument_demo.xml',
 'cmms_telemetry/demo/cmms_sensor_demo.xml',
 'cmms_telemetry/demo/maintenance_equipment_demo.xml']
>>> 'ref="cmms_parfum.maintenance_equipment_pt101"' in files[SENSOR_FILE]
True
>>> '<field name="cmms_component_code">PRINTING</field>' in files[COMPONENT_CODE_FILE]
True
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from connector.flexo.scoring import COMPONENT_SUFFIX, COMPONENTS

from .flexo import DEFAULT_DESIGN_SPEED_CPM
from .instruments import PLANT_FILE, Instrument

__all__ = [
    "ADDONS_DIR",
    "COMPONENT_CODE_FILE",
    "EQUIPMENT_FILE",
    "LINE_EQUIPMENT_FILE",
    "LINE_FILE",
    "SENSOR_FILE",
    "FlexoLine",
    "RegisteredInstrument",
    "check",
    "load_line",
    "load_register",
    "render",
    "write",
]

#: The repository's addons folder (the default target).
ADDONS_DIR = Path(__file__).resolve().parent.parent / "addons"
EQUIPMENT_FILE = "cmms_parfum/demo/maintenance_equipment_instrument_demo.xml"
SENSOR_FILE = "cmms_telemetry/demo/cmms_sensor_demo.xml"
LINE_EQUIPMENT_FILE = "cmms_parfum/demo/maintenance_equipment_flexo_demo.xml"
COMPONENT_CODE_FILE = "cmms_telemetry/demo/maintenance_equipment_demo.xml"
#: What Odoo's register adds to the FLEXO 104 line's component list.
LINE_FILE = Path(__file__).resolve().parent / "config" / "flexo_line.toml"

# Fields of [instrument.equipment], in the order they are written; `parent`
# becomes parent_id. Every instrument's equipment has all of them.
_EQUIPMENT_KEYS = (
    "name",
    "process_area",
    "tolerance_mode",
    "adjust_limit",
    "fail_limit",
    "calibration_interval_days",
    "criticality",
    "manufacturer",
    "commissioning_year",
    "specification",
    "parent",
)
# Alarm limits of [instrument.sensor]: each one given is switched on.
_LIMITS = ("low_critical", "low_warning", "high_warning", "high_critical")
# Settings of [instrument.sensor] (interval_s comes from the instrument).
_SENSOR_KEYS = ("deadband", "on_delay_s", "roc_limit", "stuck_deadband", "stuck_window_s")
# What every simulated instrument shares in the register (cmms_parfum ids).
_CATEGORY = "maintenance_equipment_category_instrument"
_TECHNICIAN = "res_users_tech_budi"
_TEAM = "maintenance.equipment_team_maintenance"
# Keys of flexo_line.toml's [machine] and [component.<CODE>] tables, in the
# order they are written (xml_id and category are not fields).
_MACHINE_KEYS = (
    "xml_id",
    "name",
    "tag",
    "criticality",
    "category",
    "process_area",
    "manufacturer",
    "power_kw",
    "commissioning_year",
    "specification",
)
_COMPONENT_KEYS = ("xml_id", "name", "criticality", "specification")

_HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- Copyright 2026 CMMS Parfum contributors
     License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
     Generated from simulator/config/instruments.toml, the simulated plant's
     one definition, by `python -m simulator demo-xml`: edit that file and
     run the command, not this file. -->
<odoo>
"""
_LINE_HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- Copyright 2026 CMMS Parfum contributors
     License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
     {what}
     Generated from the component list of connector/flexo/scoring.py and
     simulator/config/flexo_line.toml by `python -m simulator demo-xml`:
     edit those and run the command, not this file. -->
<odoo>
"""
# The overdue instrument's calibration alert, once the sensors exist (the
# job runs daily).
_SENSOR_FOOTER = """\
    <!-- The overdue instrument's calibration alert (the job runs daily). -->
    <function model="maintenance.equipment" name="_cron_calibration_due" />
</odoo>
"""


@dataclass(frozen=True)
class RegisteredInstrument:
    """One instrument with its Odoo register tables.

    Parameters
    ----------
    instrument
        The simulator's instrument (tag, kind, unit, range, nominal...).
    equipment, sensor
        Its ``[instrument.equipment]`` and ``[instrument.sensor]`` tables.
    """

    instrument: Instrument
    equipment: Mapping[str, Any]
    sensor: Mapping[str, Any]

    @property
    def key(self) -> str:
        """The tag as used in XML ids: ``PT-101`` -> ``pt101``."""
        return re.sub(r"[^a-z0-9]", "", self.instrument.tag.lower())

    @property
    def loop(self) -> tuple[int, str]:
        """Sort key: the loop number of the tag, then the tag."""
        digits = re.sub(r"\D", "", self.instrument.tag)
        return (int(digits) if digits else 0, self.instrument.tag)


def load_register(path: str | Path = PLANT_FILE) -> list[RegisteredInstrument]:
    """Read the instruments and their register tables, in loop-number order.

    Raises ``ValueError`` when an instrument lacks a register table or a key
    of one, or has a key the generator does not know.
    """
    path = Path(path)
    rows = tomllib.loads(path.read_text(encoding="utf-8")).get("instrument")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path}: no [[instrument]] entries")
    known_sensor = {*_LIMITS, *_SENSOR_KEYS}
    register = []
    for row in rows:
        instrument = Instrument.from_dict(row)
        equipment = row.get("equipment")
        sensor = row.get("sensor")
        if not isinstance(equipment, dict) or not isinstance(sensor, dict):
            raise ValueError(
                f"{path}: {instrument.tag} needs [instrument.equipment] and [instrument.sensor]"
            )
        missing = [key for key in _EQUIPMENT_KEYS if key not in equipment]
        unknown = sorted(set(equipment) - set(_EQUIPMENT_KEYS))
        unknown += sorted(set(sensor) - known_sensor)
        if missing or unknown:
            raise ValueError(
                f"{path}: {instrument.tag}: missing keys {missing}, unknown keys {unknown}"
            )
        register.append(RegisteredInstrument(instrument, equipment, sensor))
    return sorted(register, key=lambda item: item.loop)


def _field(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return f'        <field name="{name}" eval="{value}" />\n'
    return f'        <field name="{name}">{escape(str(value))}</field>\n'


def _ref(name: str, xml_id: str) -> str:
    return f'        <field name="{name}" ref={quoteattr(xml_id)} />\n'


def equipment_xml(register: Sequence[RegisteredInstrument]) -> str:
    """The cmms_parfum demo file: one ``maintenance.equipment`` per instrument."""
    out = [_HEADER]
    for item in register:
        inst, eq = item.instrument, item.equipment
        out.append(
            f'    <record id="maintenance_equipment_{item.key}" model="maintenance.equipment">\n'
        )
        out += [
            _field("name", eq["name"]),
            _field("cmms_tag", inst.tag),
            _field("process_area", eq["process_area"]),
            _field("instrument_type", inst.kind),
            _field("measured_variable", inst.description),
            _field("instrument_unit", inst.unit),
            _field("range_low", float(inst.signal_low)),
            _field("range_high", float(inst.signal_high)),
            _field("nominal_value", float(inst.nominal)),
            _field("tolerance_mode", eq["tolerance_mode"]),
            _field("adjust_limit", float(eq["adjust_limit"])),
            _field("fail_limit", float(eq["fail_limit"])),
            _field("calibration_interval_days", int(eq["calibration_interval_days"])),
            _field("cmms_kind", "instrument"),
            _field("criticality", eq["criticality"]),
            _ref("category_id", _CATEGORY),
            _ref("technician_user_id", _TECHNICIAN),
            _ref("maintenance_team_id", _TEAM),
            _field("manufacturer", eq["manufacturer"]),
            _field("commissioning_year", int(eq["commissioning_year"])),
            _field("specification", eq["specification"]),
            _ref("parent_id", eq["parent"]),
        ]
        out.append("    </record>\n")
    out.append("</odoo>\n")
    return "".join(out)


def sensor_xml(register: Sequence[RegisteredInstrument]) -> str:
    """The cmms_telemetry demo file: one ``cmms.sensor`` per instrument."""
    out = [_HEADER]
    for item in register:
        sensor = item.sensor
        out.append(f'    <record id="cmms_sensor_{item.key}" model="cmms.sensor">\n')
        out.append(_ref("equipment_id", f"cmms_parfum.maintenance_equipment_{item.key}"))
        for limit in _LIMITS:
            if limit in sensor:
                out.append(_field(f"use_{limit}", True))
                out.append(_field(limit, float(sensor[limit])))
        for key in _SENSOR_KEYS[:2]:
            if key in sensor:
                out.append(_field(key, float(sensor[key])))
        out.append(_field("interval_s", float(item.instrument.interval_s)))
        for key in _SENSOR_KEYS[2:]:
            if key in sensor:
                out.append(_field(key, float(sensor[key])))
        out.append("    </record>\n")
    out.append(_SENSOR_FOOTER)
    return "".join(out)


@dataclass(frozen=True)
class FlexoLine:
    """The FLEXO 104 line as Odoo's register describes it.

    Parameters
    ----------
    machine
        The ``[machine]`` table (XML id, tag, name, fields of the machine).
    components
        ``(code, table)`` for each code of
        :data:`~connector.flexo.scoring.COMPONENTS`, in its order.
    """

    machine: Mapping[str, Any]
    components: tuple[tuple[str, Mapping[str, Any]], ...]

    def component_tag(self, code: str) -> str:
        """A component's equipment tag, as the connector derives it: ``FLX-104-PR``."""
        return f"{self.machine['tag']}-{COMPONENT_SUFFIX[code]}"


def load_line(path: str | Path = LINE_FILE) -> FlexoLine:
    """Read the line's register tables, one per component code.

    Raises ``ValueError`` when the file's components are not exactly
    :data:`~connector.flexo.scoring.COMPONENTS`, or a table lacks a key or
    has one the generator does not know.
    """
    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    machine = data.get("machine")
    tables = data.get("component")
    if not isinstance(machine, dict) or not isinstance(tables, dict):
        raise ValueError(f"{path}: needs [machine] and [component.<CODE>] tables")
    if set(tables) != set(COMPONENTS):
        raise ValueError(
            f"{path}: components {sorted(tables)} are not the connector's COMPONENTS "
            f"{list(COMPONENTS)}: missing {sorted(set(COMPONENTS) - set(tables))}, "
            f"unknown {sorted(set(tables) - set(COMPONENTS))}"
        )
    checked: list[tuple[str, Any, tuple[str, ...]]] = [("machine", machine, _MACHINE_KEYS)]
    checked += [(f"component.{code}", tables[code], _COMPONENT_KEYS) for code in COMPONENTS]
    for name, table, keys in checked:
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [{name}] is not a table")
        missing = [key for key in keys if key not in table]
        unknown = sorted(set(table) - set(keys))
        if missing or unknown:
            raise ValueError(f"{path}: [{name}]: missing keys {missing}, unknown keys {unknown}")
    return FlexoLine(machine, tuple((code, tables[code]) for code in COMPONENTS))


def line_equipment_xml(line: FlexoLine) -> str:
    """The cmms_parfum demo file: the machine and its component equipment."""
    machine = line.machine
    common = [
        _ref("category_id", machine["category"]),
        _ref("technician_user_id", _TECHNICIAN),
        _ref("maintenance_team_id", _TEAM),
        _field("process_area", machine["process_area"]),
    ]
    what = "The FLEXO 104 line: the machine and its components."
    out = [_LINE_HEADER.format(what=what)]
    out.append(f'    <record id="{machine["xml_id"]}" model="maintenance.equipment">\n')
    out += [
        _field("name", machine["name"]),
        _field("cmms_tag", machine["tag"]),
        _field("cmms_kind", "machine"),
        _field("criticality", machine["criticality"]),
        *common,
        _field("manufacturer", machine["manufacturer"]),
        _field("power_kw", float(machine["power_kw"])),
        _field("capacity", f"{DEFAULT_DESIGN_SPEED_CPM:g} cuts/min"),
        _field("commissioning_year", int(machine["commissioning_year"])),
        _field("specification", machine["specification"]),
    ]
    out.append("    </record>\n")
    for code, component in line.components:
        out.append(f'    <record id="{component["xml_id"]}" model="maintenance.equipment">\n')
        out += [
            _field("name", component["name"]),
            _field("cmms_tag", line.component_tag(code)),
            _field("cmms_kind", "component"),
            _field("criticality", component["criticality"]),
            *common,
            _field("specification", component["specification"]),
            _ref("parent_id", machine["xml_id"]),
        ]
        out.append("    </record>\n")
    out.append("</odoo>\n")
    return "".join(out)


def component_code_xml(line: FlexoLine) -> str:
    """The cmms_telemetry demo file: each component's code in the telemetry."""
    what = "The FLEXO 104 components carry the codes of the machine's telemetry."
    out = [_LINE_HEADER.format(what=what)]
    for code, component in line.components:
        xml_id = f"cmms_parfum.{component['xml_id']}"
        out.append(f'    <record id={quoteattr(xml_id)} model="maintenance.equipment">\n')
        out.append(_field("cmms_component_code", code))
        out.append("    </record>\n")
    out.append("</odoo>\n")
    return "".join(out)


def render(path: str | Path = PLANT_FILE, line: str | Path = LINE_FILE) -> dict[str, str]:
    """The generated files, by path relative to the addons folder."""
    register = load_register(path)
    flexo = load_line(line)
    return {
        EQUIPMENT_FILE: equipment_xml(register),
        SENSOR_FILE: sensor_xml(register),
        LINE_EQUIPMENT_FILE: line_equipment_xml(flexo),
        COMPONENT_CODE_FILE: component_code_xml(flexo),
    }


def write(
    addons: str | Path = ADDONS_DIR, path: str | Path = PLANT_FILE, line: str | Path = LINE_FILE
) -> list[Path]:
    """Write the generated files under ``addons``; return the paths written."""
    written = []
    for name, text in render(path, line).items():
        target = Path(addons) / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def check(
    addons: str | Path = ADDONS_DIR, path: str | Path = PLANT_FILE, line: str | Path = LINE_FILE
) -> list[str]:
    """The generated files whose committed text differs (empty when all agree)."""
    stale = []
    for name, text in render(path, line).items():
        target = Path(addons) / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
