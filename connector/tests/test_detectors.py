"""Detectors, each on plain lists of numbers."""

from __future__ import annotations

import random

import pytest

from connector.detect.base import (
    CRITICAL,
    DRIFT,
    INSTRUMENT_FAULT,
    RULE_VIOLATION,
    WARNING,
    Detector,
    Verdict,
    combine,
)
from connector.detect.cusum import Cusum
from connector.detect.data_gap import DataGap
from connector.detect.limit_rule import LimitRule
from connector.detect.rate_of_change import RateOfChange
from connector.detect.signal_range import SignalRange
from connector.detect.stuck import StuckSensor
from connector.detect.tag import build_detectors
from connector.tests.conftest import SENSOR_PT101


def run(det: Detector, values: list[float], dt: float = 1.0) -> list[Verdict]:
    return [det.update(i * dt, v) for i, v in enumerate(values)]


def severities(det: Detector, values: list[float], dt: float = 1.0) -> list[str | None]:
    return [v.severity if v.active else None for v in run(det, values, dt)]


# -- SignalRange --------------------------------------------------------------


def test_signal_range_is_a_critical_instrument_fault() -> None:
    sr = SignalRange(0.0, 16.0, unit="bar")
    out = run(sr, [5.0, -0.1, 16.0, 16.01])
    assert [v.active for v in out] == [False, True, False, True]
    assert out[1].severity == CRITICAL and "below signal range" in out[1].message
    assert sr.alert_type == INSTRUMENT_FAULT


def test_signal_range_none_disables_a_side() -> None:
    assert [v.active for v in run(SignalRange(None, 16.0), [-1e9, 17])] == [False, True]
    assert [v.active for v in run(SignalRange(None, None), [-1e9, 1e9])] == [False, False]


# -- LimitRule ----------------------------------------------------------------


def test_limit_levels_on_both_sides() -> None:
    rule = LimitRule(2.0, 3.0, 9.0, 10.0)
    assert severities(rule, [6.0, 9.5, 10.5, 6.0, 2.5, 1.5, 6.0]) == [
        None,
        WARNING,
        CRITICAL,
        None,
        WARNING,
        CRITICAL,
        None,
    ]


def test_limit_is_strict() -> None:
    assert severities(LimitRule(high_warning=9.0), [9.0, 9.0001]) == [None, WARNING]


def test_deadband_holds_the_alarm_until_the_value_is_well_inside() -> None:
    rule = LimitRule(high_warning=9.0, deadband=0.5)
    # 8.6 is inside the limit but within the deadband: still a warning
    assert severities(rule, [9.1, 8.6, 8.51, 8.49, 8.8, 9.01]) == [
        WARNING,
        WARNING,
        WARNING,
        None,
        None,
        WARNING,
    ]


def test_deadband_on_the_low_side() -> None:
    rule = LimitRule(low_warning=3.0, deadband=0.2)
    assert severities(rule, [2.9, 3.1, 3.21, 3.1]) == [WARNING, WARNING, None, None]


def test_flapping_around_the_limit_without_deadband_clears_each_time() -> None:
    # the contrast to the deadband test: this is what the deadband prevents
    rule = LimitRule(high_warning=9.0)
    assert severities(rule, [9.1, 8.9, 9.1, 8.9]) == [WARNING, None, WARNING, None]


def test_on_delay_requires_the_condition_to_hold() -> None:
    rule = LimitRule(high_warning=9.0, on_delay_s=3.0)
    values = [9.5, 9.5, 8.0, 9.5, 9.5, 9.5, 9.5, 9.5]
    assert severities(rule, values) == [None, None, None, None, None, None, WARNING, WARNING]


def test_on_delay_uses_timestamps_not_reading_counts() -> None:
    rule = LimitRule(high_warning=9.0, on_delay_s=5.0)
    assert severities(rule, [9.5, 9.5, 9.5], dt=2.5) == [None, None, WARNING]


def test_escalation_waits_its_own_on_delay_and_deescalation_is_immediate() -> None:
    rule = LimitRule(high_warning=9.0, high_critical=10.0, on_delay_s=2.0)
    values = [9.5, 9.5, 9.5, 10.5, 10.5, 10.5, 9.5, 8.0]
    assert severities(rule, values) == [
        None,
        None,
        WARNING,
        WARNING,
        WARNING,
        CRITICAL,
        WARNING,
        None,
    ]


def test_jump_straight_to_critical() -> None:
    rule = LimitRule(high_warning=9.0, high_critical=10.0, on_delay_s=1.0)
    assert severities(rule, [8.0, 11.0, 11.0]) == [None, None, CRITICAL]


def test_critical_only_rule() -> None:
    rule = LimitRule(high_critical=10.0, deadband=0.5)
    assert severities(rule, [10.1, 9.8, 9.4]) == [CRITICAL, CRITICAL, None]


def test_limit_message_names_side_and_limit() -> None:
    v = LimitRule(low_critical=2.0, unit="bar").update(0.0, 1.5)
    assert v.message == "1.5 bar below low critical limit 2 bar"


# -- RateOfChange -------------------------------------------------------------


def test_rate_of_change() -> None:
    roc = RateOfChange(roc_limit=0.5)
    assert [v.active for v in run(roc, [1.0, 1.4, 2.0, 2.1, 1.0], dt=1.0)] == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_rate_of_change_is_per_second() -> None:
    roc = RateOfChange(roc_limit=0.5)
    # +1.0 over 4 s is 0.25/s: fine
    assert [v.active for v in run(roc, [1.0, 2.0], dt=4.0)] == [False, False]


@pytest.mark.parametrize("limit", [0.0, None])
def test_rate_of_change_disabled(limit: float | None) -> None:
    assert not any(v.active for v in run(RateOfChange(limit), [0.0, 1e6, -1e6]))


def test_rate_of_change_ignores_readings_that_do_not_advance() -> None:
    roc = RateOfChange(roc_limit=1.0)
    assert not roc.update(1.0, 5.0).active
    assert not roc.update(1.0, 50.0).active  # same ts: no division by zero
    assert roc.update(2.0, 50.0).active  # compared with the accepted 5.0


# -- StuckSensor ----------------------------------------------------------------


def test_stuck_sensor_needs_the_whole_window() -> None:
    stuck = StuckSensor(stuck_deadband=0.1, stuck_window_s=10.0)
    out = run(stuck, [5.0] * 10 + [5.05] + [5.0] * 5, dt=1.0)
    assert [v.active for v in out].index(True) == 10
    assert all(v.active for v in out[10:])
    assert out[10].severity == WARNING


def test_stuck_sensor_resets_when_the_signal_moves() -> None:
    stuck = StuckSensor(stuck_deadband=0.1, stuck_window_s=3.0)
    values = [5.0, 5.0, 5.0, 5.0, 5.5, 5.5, 5.5, 5.5]
    assert [v.active for v in run(stuck, values)] == [
        False,
        False,
        False,
        True,
        False,
        False,
        False,
        True,
    ]


def test_slow_creep_beyond_the_band_is_not_stuck() -> None:
    stuck = StuckSensor(stuck_deadband=0.1, stuck_window_s=5.0)
    values = [5.0 + 0.04 * i for i in range(20)]
    assert not any(v.active for v in run(stuck, values))


def test_stuck_sensor_disabled_without_window() -> None:
    assert not any(v.active for v in run(StuckSensor(0.0, 0.0), [1.0] * 100))


# -- Cusum ----------------------------------------------------------------------


def noise(n: int, seed: int, mean: float = 10.0, sd: float = 0.1) -> list[float]:
    rnd = random.Random(seed)
    return [rnd.gauss(mean, sd) for _ in range(n)]


def run_length(cusum: Cusum, rnd: random.Random, mean: float, limit: int) -> int:
    for i in range(1, limit + 1):
        if cusum.update(1e6 + i, rnd.gauss(mean, 0.1)).active:
            return i
    return limit


def test_cusum_run_lengths_match_the_textbook() -> None:
    # k=0.5, h=5: in-control ARL about 465 points, one-sigma shift about 10.
    in_control, shifted = [], []
    for seed in range(60):
        rnd = random.Random(seed)
        cusum = Cusum(k=0.5, h=5.0, baseline_n=200)
        run(cusum, [rnd.gauss(10.0, 0.1) for _ in range(200)])
        assert cusum.baseline_ready
        in_control.append(run_length(cusum, rnd, 10.0, 2000))
        cusum = Cusum(k=0.5, h=5.0, baseline_n=200)
        run(cusum, [rnd.gauss(10.0, 0.1) for _ in range(200)])
        shifted.append(run_length(cusum, rnd, 10.1, 2000))
    mean_ic = sum(in_control) / len(in_control)
    mean_shift = sum(shifted) / len(shifted)
    assert 250 < mean_ic < 900, mean_ic
    assert 6 < mean_shift < 16, mean_shift


def test_cusum_message_and_flag() -> None:
    cusum = Cusum(baseline_n=4)
    run(cusum, [10.0, 10.2, 9.8, 10.0])
    out = [cusum.update(10 + i, 10.5) for i in range(5)]
    assert out[-1].active and out[-1].severity == WARNING
    assert "upward drift from baseline 10" in out[-1].message
    assert cusum.drift_detected


def test_cusum_windows_average_readings() -> None:
    cusum = Cusum(baseline_n=3, window_n=10)
    rnd = random.Random(8)
    run(cusum, [rnd.gauss(10.0, 0.1) for _ in range(29)])
    assert not cusum.baseline_ready  # 2 complete windows out of 3
    cusum.update(29, 10.0)
    assert cusum.baseline_ready
    # a single wild reading moves one window mean only a little
    verdicts = [cusum.update(30 + i, 10.0 if i != 3 else 10.5) for i in range(10)]
    assert not any(v.active for v in verdicts)
    # a sustained shift is seen, and the verdict holds between window ends
    verdicts = [cusum.update(40 + i, 11.0) for i in range(100)]
    first = [v.active for v in verdicts].index(True)
    assert first % 10 == 9 and all(v.active for v in verdicts[first:])


def test_build_detectors_windows_cusum_by_interval() -> None:
    assert build_detectors(dict(SENSOR_PT101, interval_s=1.0)).cusum.window_n == 60
    assert build_detectors(dict(SENSOR_PT101, interval_s=120.0)).cusum.window_n == 1
    assert build_detectors(dict(SENSOR_PT101, interval_s=None)).cusum.window_n == 1
    assert build_detectors(SENSOR_PT101, cusum_window_s=0).cusum.window_n == 1


def test_cusum_alarm_ends_soon_after_the_drift_ends() -> None:
    cusum = Cusum(k=0.5, h=5.0, baseline_n=50)
    rnd = random.Random(9)
    run(cusum, [rnd.gauss(10.0, 0.1) for _ in range(50)])
    # a long excursion: 500 points three sigma high
    excursion = [cusum.update(100 + i, rnd.gauss(10.3, 0.1)).active for i in range(500)]
    assert all(excursion[5:])
    back = [cusum.update(1000 + i, rnd.gauss(10.0, 0.1)).active for i in range(60)]
    last_active = max(i for i, active in enumerate(back) if active)
    assert 3 <= last_active <= 25  # about h / k points, not hundreds


def test_cusum_detects_downward_drift() -> None:
    cusum = Cusum(baseline_n=30)
    run(cusum, noise(30, seed=3))
    ramp = [10.0 - 0.01 * i for i in range(200)]
    out = [cusum.update(100 + i, v) for i, v in enumerate(ramp)]
    assert any(v.active and "downward" in v.message for v in out)


def test_cusum_reset_relearns_the_baseline() -> None:
    cusum = Cusum(baseline_n=20)
    run(cusum, noise(20, seed=4))
    for i in range(50):
        cusum.update(100 + i, 11.0)
    assert cusum.drift_detected
    cusum.reset()  # e.g. after a calibration moved the output to 11
    assert not cusum.drift_detected and not cusum.baseline_ready
    for i, v in enumerate(noise(20, seed=5, mean=11.0)):
        assert not cusum.update(200 + i, v).active
    assert cusum.baseline_ready
    assert abs(cusum.mu_ - 11.0) < 0.1
    assert not cusum.update(300, 11.0).active  # 11 is the new normal


def test_cusum_waits_for_spread_in_the_baseline() -> None:
    cusum = Cusum(baseline_n=5)
    run(cusum, [7.0] * 50)  # a constant signal has no sigma to scale by
    assert not cusum.baseline_ready
    assert not cusum.update(100, 7.5).active


@pytest.mark.parametrize("h", [None, 0.0])
def test_cusum_disabled(h: float | None) -> None:
    cusum = Cusum(h=h, baseline_n=3)
    assert not any(v.active for v in run(cusum, [1.0, 2.0, 3.0] + [100.0] * 20))


# -- DataGap ----------------------------------------------------------------


def test_data_gap_fires_after_twice_the_interval_and_clears_on_arrival() -> None:
    gap = DataGap(interval_s=5.0)
    gap.update(0.0)
    assert [gap.check(t).active for t in (5.0, 10.0, 10.5)] == [False, False, True]
    assert gap.check(20.0).message.startswith("no reading for 20 s")
    gap.update(21.0)
    assert not gap.active and not gap.check(25.0).active


def test_data_gap_arms_at_first_check_when_nothing_ever_arrived() -> None:
    gap = DataGap(interval_s=1.0)
    assert not gap.check(100.0).active
    assert gap.check(102.5).active


def test_data_gap_rearm_does_not_hide_an_active_gap() -> None:
    gap = DataGap(interval_s=1.0)
    gap.update(0.0)
    gap.rearm(50.0)  # reconnect: restart the timer
    assert not gap.check(51.0).active
    assert gap.check(53.0).active
    gap.rearm(60.0)  # an active gap stays active
    assert gap.check(60.5).active


def test_data_gap_disabled() -> None:
    gap = DataGap(interval_s=0.0)
    gap.update(0.0)
    assert not gap.check(1e6).active


# -- sets built from Odoo's configuration -----------------------------------------


def test_combine_takes_the_highest_severity() -> None:
    merged = combine(
        [Verdict(True, WARNING, "stuck"), Verdict(False), Verdict(True, CRITICAL, "range")]
    )
    assert merged == Verdict(True, CRITICAL, "range; stuck")
    assert not combine([Verdict(False)]).active


def test_build_from_contract_sensor() -> None:
    tag = build_detectors(SENSOR_PT101)
    assert tag.limits.get_params()["high_critical"] == 10.0
    assert tag.limits.deadband == 0.2 and tag.gap.interval_s == 1.0
    out = tag.update(0.0, 10.5)
    assert out[RULE_VIOLATION].severity == CRITICAL
    assert not out[INSTRUMENT_FAULT].active and not out[DRIFT].active


def test_null_and_false_limits_disable() -> None:
    sensor = dict(SENSOR_PT101, high_critical=None, high_warning=False, signal_high=None)
    tag = build_detectors(sensor)
    out = tag.update(0.0, 1e6)
    assert not out[RULE_VIOLATION].active and not out[INSTRUMENT_FAULT].active


def test_bad_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="high_warning"):
        build_detectors(dict(SENSOR_PT101, high_warning="9"))


def test_instrument_fault_masks_process_checks() -> None:
    tag = build_detectors(SENSOR_PT101)
    out = tag.update(0.0, -3.0)  # below signal_low 0: broken loop, not low pressure
    assert out[INSTRUMENT_FAULT].severity == CRITICAL
    assert RULE_VIOLATION not in out and DRIFT not in out


def test_out_of_order_readings_are_not_evaluated() -> None:
    tag = build_detectors(SENSOR_PT101)
    assert tag.update(10.0, 6.0)
    assert tag.update(9.0, 12.0) == {}
    assert tag.update(10.0, 12.0) == {}


def test_reload_keeps_learned_state_of_unchanged_detectors() -> None:
    sensor = dict(SENSOR_PT101, cusum_h=5.0)
    old = build_detectors(sensor, cusum_baseline_n=10, cusum_window_s=0)
    for i, v in enumerate(noise(10, seed=7, mean=6.0)):
        old.update(float(i), v)
    assert old.cusum.baseline_ready
    new = build_detectors(dict(sensor, high_warning=8.5), cusum_baseline_n=10, cusum_window_s=0)
    new.adopt(old)
    assert new.cusum is old.cusum and new.limits is not old.limits
    assert new.limits.high_warning == 8.5
    changed = build_detectors(dict(sensor, cusum_h=4.0), cusum_baseline_n=10, cusum_window_s=0)
    changed.adopt(old)
    assert changed.cusum is not old.cusum and not changed.cusum.baseline_ready
