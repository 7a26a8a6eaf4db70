"""The Odoo demo instruments are generated from the simulator's definition."""

from __future__ import annotations

import dataclasses
import io
import shutil
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from connector.flexo.engine import FlexoEngine
from connector.flexo.scoring import COMPONENTS
from simulator import demo_xml
from simulator.__main__ import main
from simulator.flexo import DEFAULT_DESIGN_SPEED_CPM
from simulator.instruments import DEFAULT_INSTRUMENTS, PLANT_FILE, Instrument, load_instruments

COMMAND = "python -m simulator demo-xml"


def test_committed_demo_files_are_what_the_definition_generates() -> None:
    stale = demo_xml.check()
    sources = f"{PLANT_FILE.name} and {demo_xml.LINE_FILE.name}"
    assert not stale, f"{stale} differ from what {sources} generate: run `{COMMAND}` and commit"


def test_the_simulator_reads_the_same_definition() -> None:
    assert load_instruments(PLANT_FILE) == DEFAULT_INSTRUMENTS
    rows = tomllib.loads(PLANT_FILE.read_text())["instrument"]
    assert [row["tag"] for row in rows] == [inst.tag for inst in DEFAULT_INSTRUMENTS]


def test_generated_records_describe_the_simulated_instruments() -> None:
    files = demo_xml.render()
    equipment = ET.fromstring(files[demo_xml.EQUIPMENT_FILE].encode())
    sensors = ET.fromstring(files[demo_xml.SENSOR_FILE].encode())
    by_tag = {inst.tag: inst for inst in DEFAULT_INSTRUMENTS}
    records = equipment.findall("record")
    # Stable XML ids in loop-number order: existing databases keep their records.
    assert [r.get("id") for r in records] == [
        "maintenance_equipment_pt101",
        "maintenance_equipment_tt201",
        "maintenance_equipment_ft301",
        "maintenance_equipment_lt401",
    ]
    for record in records:
        values: dict[str | None, Any] = {f.get("name"): f.text for f in record.findall("field")}
        inst = by_tag[values["cmms_tag"]]
        assert values["instrument_unit"] == inst.unit
        assert values["instrument_type"] == inst.kind
        assert values["measured_variable"] == inst.description
        assert float(values["range_low"]) == inst.signal_low
        assert float(values["range_high"]) == inst.signal_high
        assert float(values["nominal_value"]) == inst.nominal
    assert [r.get("id") for r in sensors.findall("record")] == [
        "cmms_sensor_pt101",
        "cmms_sensor_tt201",
        "cmms_sensor_ft301",
        "cmms_sensor_lt401",
    ]
    pt101 = sensors.find("record[@id='cmms_sensor_pt101']")
    assert pt101 is not None
    values = {f.get("name"): f.text or f.get("eval") for f in pt101.findall("field")}
    assert values["use_high_critical"] == "True"
    assert (values["low_critical"], values["high_critical"]) == ("2.0", "10.0")
    assert float(values["interval_s"]) == by_tag["PT-101"].interval_s


def test_register_tables_are_not_process_behaviour() -> None:
    inst = DEFAULT_INSTRUMENTS[0]
    row = {**inst.to_dict(), "equipment": {"name": "x"}, "sensor": {"deadband": 1.0}}
    assert Instrument.from_dict(row) == inst
    with pytest.raises(ValueError, match="unknown instrument keys"):
        Instrument.from_dict({**inst.to_dict(), "alarm": {}})


def test_command_writes_and_checks(tmp_path: Path) -> None:
    addons = tmp_path / "addons"
    for name in demo_xml.render():
        (addons / name).parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    assert main(["demo-xml", "--addons", str(addons), "--check"], out=out) == 1
    assert "differs" in out.getvalue()
    assert main(["demo-xml", "--addons", str(addons)], out=io.StringIO()) == 0
    assert main(["demo-xml", "--addons", str(addons), "--check"], out=io.StringIO()) == 0
    # An edit of the definition shows in the check until the files are rewritten.
    plant = tmp_path / "instruments.toml"
    shutil.copy(PLANT_FILE, plant)
    plant.write_text(plant.read_text().replace("high_critical = 10.0", "high_critical = 11.0"))
    argv = ["demo-xml", "--addons", str(addons), "--instruments", str(plant)]
    assert main([*argv, "--check"], out=io.StringIO()) == 1
    assert main(argv, out=io.StringIO()) == 0
    text = (addons / demo_xml.SENSOR_FILE).read_text()
    assert '<field name="high_critical">11.0</field>' in text


def test_an_instrument_without_register_tables_is_refused(tmp_path: Path) -> None:
    plant = tmp_path / "instruments.toml"
    inst = dataclasses.replace(DEFAULT_INSTRUMENTS[0], coupling={})
    lines = [
        "[[instrument]]",
        *(f"{k} = {v!r}" for k, v in inst.to_dict().items() if k != "coupling"),
    ]
    plant.write_text("\n".join(lines).replace("'", '"') + "\n")
    assert load_instruments(plant) == (inst,)
    with pytest.raises(ValueError, match=r"needs \[instrument.equipment\]"):
        demo_xml.load_register(plant)


def _fields(record: ET.Element) -> dict[str, str | None]:
    return {f.get("name") or "": f.text or f.get("ref") for f in record.findall("field")}


def test_the_flexo_line_is_the_connectors_component_list() -> None:
    files = demo_xml.render()
    equipment = ET.fromstring(files[demo_xml.LINE_EQUIPMENT_FILE].encode())
    codes = ET.fromstring(files[demo_xml.COMPONENT_CODE_FILE].encode())
    # The XML ids other demo records and tests refer to, unchanged.
    component_ids = [
        "maintenance_equipment_flx104_prefeeder",
        "maintenance_equipment_flx104_feeder",
        "maintenance_equipment_flx104_printing",
        "maintenance_equipment_flx104_slotter",
        "maintenance_equipment_flx104_stacker",
    ]
    records = equipment.findall("record")
    assert [r.get("id") for r in records] == ["maintenance_equipment_flx104", *component_ids]
    machine, *components = (_fields(r) for r in records)
    assert (machine["cmms_tag"], machine["cmms_kind"]) == ("FLX-104", "machine")
    assert machine["capacity"] == f"{DEFAULT_DESIGN_SPEED_CPM:g} cuts/min"
    # One component equipment per code, in its order, tagged as the connector
    # tags it (machine FLEXO_104 -> FLX-104, as the demo's connector is configured).
    engine = FlexoEngine(machine_tags={"FLEXO_104": "FLX-104"})
    assert [c["cmms_tag"] for c in components] == [
        engine.component_tag("FLEXO_104", code) for code in COMPONENTS
    ]
    assert {c["cmms_kind"] for c in components} == {"component"}
    assert {c["parent_id"] for c in components} == {"maintenance_equipment_flx104"}
    code_records = codes.findall("record")
    assert [r.get("id") for r in code_records] == [f"cmms_parfum.{i}" for i in component_ids]
    assert [_fields(r)["cmms_component_code"] for r in code_records] == list(COMPONENTS)


def _line_without(tmp_path: Path, code: str) -> Path:
    data = tomllib.loads(demo_xml.LINE_FILE.read_text())
    line = tmp_path / f"flexo_line_without_{code}.toml"
    lines = []
    for name, table in [("machine", data["machine"])] + [
        (f"component.{c}", t) for c, t in data["component"].items() if c != code
    ]:
        lines.append(f"[{name}]")
        lines += [f"{key} = {value!r}" for key, value in table.items()]
    line.write_text("\n".join(lines).replace("'", '"') + "\n")
    return line


def test_a_line_that_is_not_the_component_list_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = _line_without(tmp_path, "")
    assert demo_xml.load_line(line) == demo_xml.load_line()
    with pytest.raises(ValueError, match=r"missing \['SLOTTER'\]"):
        demo_xml.load_line(_line_without(tmp_path, "SLOTTER"))
    # A component added to the connector's list lacks its register table.
    monkeypatch.setattr(demo_xml, "COMPONENTS", (*COMPONENTS, "GLUER"))
    with pytest.raises(ValueError, match=r"missing \['GLUER'\]"):
        demo_xml.load_line(line)


def test_a_changed_suffix_shows_in_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    suffix = {**demo_xml.COMPONENT_SUFFIX, "PRINTING": "PU"}
    monkeypatch.setattr(demo_xml, "COMPONENT_SUFFIX", suffix)
    assert demo_xml.check() == [demo_xml.LINE_EQUIPMENT_FILE]
