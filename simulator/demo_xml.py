"""Odoo's demo instruments, generated from the simulated plant's definition.

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

The addons must install without the simulator, so the generated files are
committed; ``python -m simulator demo-xml`` rewrites them and ``--check``
(and a test) fails when they differ from what the definition generates.
XML ids derive from the tag (``PT-101`` -> ``pt101``), so a database that
has the demo keeps its records. Records come in loop-number order
(PT-101, TT-201, FT-301, LT-401), the register's.

Examples
--------
>>> files = render()
>>> sorted(files)
['cmms_parfum/demo/maintenance_equipment_instrument_demo.xml', \
'cmms_telemetry/demo/cmms_sensor_demo.xml']
>>> 'ref="cmms_parfum.maintenance_equipment_pt101"' in files[SENSOR_FILE]
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

from .instruments import PLANT_FILE, Instrument

__all__ = [
    "ADDONS_DIR",
    "EQUIPMENT_FILE",
    "SENSOR_FILE",
    "RegisteredInstrument",
    "check",
    "load_register",
    "render",
    "write",
]

#: The repository's addons folder (the default target).
ADDONS_DIR = Path(__file__).resolve().parent.parent / "addons"
EQUIPMENT_FILE = "cmms_parfum/demo/maintenance_equipment_instrument_demo.xml"
SENSOR_FILE = "cmms_telemetry/demo/cmms_sensor_demo.xml"

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

_HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- Copyright 2026 CMMS Parfum contributors
     License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
     Generated from simulator/config/instruments.toml, the simulated plant's
     one definition, by `python -m simulator demo-xml`: edit that file and
     run the command, not this file. -->
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


def render(path: str | Path = PLANT_FILE) -> dict[str, str]:
    """The generated files, by path relative to the addons folder."""
    register = load_register(path)
    return {EQUIPMENT_FILE: equipment_xml(register), SENSOR_FILE: sensor_xml(register)}


def write(addons: str | Path = ADDONS_DIR, path: str | Path = PLANT_FILE) -> list[Path]:
    """Write the generated files under ``addons``; return the paths written."""
    written = []
    for name, text in render(path).items():
        target = Path(addons) / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def check(addons: str | Path = ADDONS_DIR, path: str | Path = PLANT_FILE) -> list[str]:
    """The generated files whose committed text differs (empty when all agree)."""
    stale = []
    for name, text in render(path).items():
        target = Path(addons) / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
