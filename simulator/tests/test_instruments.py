"""The instrument models and the correlated process."""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from pathlib import Path

import pytest

from simulator.clock import iso_utc, parse_start
from simulator.instruments import (
    DEFAULT_INSTRUMENTS,
    Instrument,
    ProcessModel,
    instruments_by_tag,
    load_instruments,
    order_by_coupling,
)

CONFIG = Path(__file__).resolve().parents[1] / "config" / "instruments.toml"
START = parse_start(None)


def test_default_set_is_the_four_instruments() -> None:
    by_tag = instruments_by_tag(DEFAULT_INSTRUMENTS)
    assert set(by_tag) == {"PT-101", "TT-201", "FT-301", "LT-401"}
    pt, tt, ft, lt = (
        by_tag["PT-101"],
        by_tag["TT-201"],
        by_tag["FT-301"],
        by_tag["LT-401"],
    )
    assert (pt.unit, pt.nominal, pt.signal_low, pt.signal_high) == (
        "bar",
        6.0,
        0.0,
        16.0,
    )
    assert (tt.unit, tt.nominal, tt.signal_low, tt.signal_high) == (
        "degC",
        65.0,
        0.0,
        150.0,
    )
    assert (ft.unit, ft.nominal, ft.signal_low, ft.signal_high) == (
        "m3/h",
        40.0,
        0.0,
        100.0,
    )
    assert (lt.unit, lt.nominal, lt.signal_low, lt.signal_high) == (
        "%",
        55.0,
        0.0,
        100.0,
    )


def test_config_file_matches_defaults(tmp_path: Path) -> None:
    assert load_instruments(CONFIG) == DEFAULT_INSTRUMENTS
    as_json = tmp_path / "instruments.json"
    as_json.write_text(json.dumps([i.to_dict() for i in DEFAULT_INSTRUMENTS]))
    assert load_instruments(as_json) == DEFAULT_INSTRUMENTS


def test_config_refuses_unknown_keys_and_bad_ranges(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[instrument]]\ntag="X-1"\nkind="flow"\nunit="m3/h"\nnominal=1\n'
        'signal_low=0\nsignal_high=2\ncolour="red"\n'
    )
    with pytest.raises(ValueError, match="unknown instrument keys"):
        load_instruments(bad)
    with pytest.raises(ValueError, match="nominal"):
        Instrument("X-1", "flow", "m3/h", nominal=5.0, signal_low=0.0, signal_high=2.0)
    with pytest.raises(ValueError, match="topic level"):
        Instrument("X/1", "flow", "m3/h", nominal=1.0, signal_low=0.0, signal_high=2.0)


def test_coupling_order_and_cycles() -> None:
    order = [i.tag for i in order_by_coupling(DEFAULT_INSTRUMENTS)]
    assert order.index("FT-301") < order.index("PT-101")
    assert order.index("FT-301") < order.index("LT-401")
    a = Instrument("A-1", "flow", "u", 1.0, 0.0, 2.0, coupling={"B-1": 1.0})
    b = Instrument("B-1", "flow", "u", 1.0, 0.0, 2.0, coupling={"A-1": 1.0})
    with pytest.raises(ValueError, match="cycle"):
        order_by_coupling([a, b])
    with pytest.raises(ValueError, match="unknown tag"):
        order_by_coupling([a])


def _quiet_model(**kw: object) -> ProcessModel:
    return ProcessModel(
        DEFAULT_INSTRUMENTS,
        seed=5,
        start_epoch=START,
        process_changes=False,
        wander=False,
        **kw,
    )


def test_flow_change_moves_pressure_temperature_and_level() -> None:
    model = _quiet_model()
    model.advance(1.0)
    before = {tag: model.true_value(tag) for tag in ("FT-301", "PT-101", "TT-201", "LT-401")}
    model.set_offset("FT-301", 4.0)  # operator raises the flow set point by 4 m3/h
    for second in range(2, 1802):
        model.advance(float(second))
    after = {tag: model.true_value(tag) for tag in before}
    daily = {  # the daily cycle moved too; take it out
        inst.tag: inst.daily_amplitude
        * (
            math.cos(2 * math.pi * ((START + 1801) % 86400 - inst.daily_peak_hour * 3600) / 86400)
            - math.cos(2 * math.pi * ((START + 1) % 86400 - inst.daily_peak_hour * 3600) / 86400)
        )
        for inst in DEFAULT_INSTRUMENTS
    }
    flow_rise = after["FT-301"] - before["FT-301"] - daily["FT-301"]
    assert flow_rise == pytest.approx(4.0, abs=0.01)
    # Gains from the instrument definitions: +0.1 bar, -0.15 degC, +0.6 % per m3/h.
    assert after["PT-101"] - before["PT-101"] - daily["PT-101"] == pytest.approx(0.4, abs=0.02)
    assert after["TT-201"] - before["TT-201"] - daily["TT-201"] == pytest.approx(-0.6, abs=0.03)
    assert after["LT-401"] - before["LT-401"] - daily["LT-401"] == pytest.approx(2.4, abs=0.1)


def test_level_follows_flow_with_its_lag() -> None:
    model = _quiet_model()
    model.advance(1.0)
    base = model.true_value("LT-401")
    model.set_offset("FT-301", 4.0)
    model.advance(60.0)
    early = model.true_value("LT-401") - base
    for second in range(61, 1500):
        model.advance(float(second))
    late = model.true_value("LT-401") - base
    assert 0 < early < 0.5 * late  # a 300 s lag: a minute in, well short of the end


def test_daily_cycle_peaks_at_its_hour() -> None:
    inst = Instrument(
        "TT-9",
        "temperature",
        "degC",
        65.0,
        0.0,
        150.0,
        daily_amplitude=1.5,
        daily_peak_hour=15.0,
    )
    midnight = parse_start("2026-11-22T00:00:00Z")
    model = ProcessModel([inst], seed=1, start_epoch=midnight, wander=False)
    model.advance(15 * 3600.0)
    assert model.true_value("TT-9") == pytest.approx(66.5)
    model.advance(27 * 3600.0)
    assert model.true_value("TT-9") == pytest.approx(63.5)


def test_measurement_noise_has_the_configured_spread() -> None:
    model = _quiet_model()
    values = []
    for second in range(1, 3001):
        model.advance(float(second))
        values.append(model.measure("PT-101") - model.true_value("PT-101"))
    assert statistics.mean(values) == pytest.approx(0.0, abs=0.003)
    assert statistics.stdev(values) == pytest.approx(0.03, rel=0.1)


def test_setpoint_steps_stay_within_their_limit() -> None:
    model = ProcessModel(DEFAULT_INSTRUMENTS, seed=2, start_epoch=START)
    offsets = set()
    for second in range(1, 6 * 3600, 10):
        model.advance(float(second))
        offsets.add(model.setpoint_offset("FT-301"))
    assert len(offsets) > 3  # the operator did move the set point
    assert max(abs(o) for o in offsets) <= 4.0
    assert model.setpoint_offset("PT-101") == 0.0  # only FT-301 has steps


def test_measurements_are_clipped_and_rounded() -> None:
    inst = dataclasses.replace(
        instruments_by_tag(DEFAULT_INSTRUMENTS)["PT-101"], coupling={}, noise_sd=50.0
    )
    model = ProcessModel([inst], seed=3, start_epoch=START)
    for second in range(1, 200):
        model.advance(float(second))
        value = model.measure("PT-101")
        assert 0.0 <= value <= 16.0
        assert value == round(value, 3)


def test_time_only_runs_forward() -> None:
    model = _quiet_model()
    model.advance(10.0)
    with pytest.raises(ValueError, match="forward"):
        model.advance(9.0)


def test_clock_formats() -> None:
    assert iso_utc(START) == "2026-11-22T08:00:00Z"
    assert iso_utc(START + 0.5) == "2026-11-22T08:00:00.500Z"
    assert parse_start("2026-11-22T08:00:00") == START
    assert parse_start(START) == START
