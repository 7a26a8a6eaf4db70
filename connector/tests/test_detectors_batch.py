"""The batch path of the detectors gives exactly what reading by reading gives.

:meth:`TagDetectors.update_quiet` takes a message's readings at once when it
can prove every verdict inactive. These tests feed the same data through it
(falling back reading by reading when it declines) and strictly reading by
reading, and compare verdicts, alert items, alert states and the detectors'
saved state (:meth:`TagDetectors.state_dict` as JSON text, which tells -0.0
from 0.0) after every message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connector.detect.base import ANOMALY, Detector, Verdict
from connector.detect.cusum import Cusum
from connector.detect.limit_rule import LimitRule
from connector.detect.rate_of_change import RateOfChange
from connector.detect.signal_range import SignalRange
from connector.detect.stuck import StuckSensor
from connector.detect.tag import TagDetectors, build_detectors
from connector.ingest.pipeline import Pipeline
from connector.ingest.schema import Reading
from connector.store import Store, open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
NOMINAL = 6.0
#: Message modes: quiet noise at one-second steps; mostly that, with values on
#: or just beyond the limits and odd steps here and there; anything.
CALM, EDGE, WILD = "calm", "edge", "wild"

# -- data -------------------------------------------------------------------------

# The first element of each list is where hypothesis shrinks to.
sensors = st.fixed_dictionaries(
    {
        "signal_low": st.sampled_from([None, 0.0, 5.0]),
        "signal_high": st.sampled_from([None, 16.0, 7.0]),
        "low_critical": st.sampled_from([None, 2.0, 5.5]),
        "low_warning": st.sampled_from([None, 3.0, 5.7]),
        "high_warning": st.sampled_from([None, 9.0, 6.3]),
        "high_critical": st.sampled_from([None, 10.0, 6.5]),
        "deadband": st.sampled_from([0.0, 0.05, 0.2]),
        "on_delay_s": st.sampled_from([0.0, 1.0, 3.0]),
        "roc_limit": st.sampled_from([None, 0.0, 0.3, 1.0, 5.0, -1.0]),
        "stuck_deadband": st.sampled_from([0.0, 0.001, 0.05, 0.3]),
        "stuck_window_s": st.sampled_from([None, 0.0, 2.0, 5.0, 20.0]),
        "cusum_k": st.sampled_from([None, 0.0, 0.5, 1.0]),
        "cusum_h": st.sampled_from([None, 0.0, 1.0, 3.0]),
        "interval_s": st.sampled_from([None, 1.0, 2.0, 0.5]),
    }
)
cusum_settings = st.tuples(
    st.sampled_from([2, 3, 5]),  # baseline points
    st.sampled_from([1.0, 3.0, 4.0, 8.0]),  # window seconds (window_n = window / interval)
)
#: Time steps: mostly one second, sometimes other steps, repeats and steps back.
steps = st.sampled_from([1.0] * 8 + [0.5, 2.0, 0.25, 0.0, -1.0, -3.0])
#: (kind, x): what a value is made of (see :func:`values_of`).
value_draws = st.tuples(st.integers(0, 19), st.integers(-50, 50))
#: Messages: (mode, draws); see :func:`values_of`.
messages = st.lists(
    st.tuples(
        st.sampled_from([CALM, EDGE, WILD, CALM, EDGE]),
        st.lists(st.tuples(steps, value_draws), min_size=1, max_size=30),
    ),
    min_size=1,
    max_size=12,
)


def interesting(sensor: dict[str, Any]) -> list[float]:
    """Values on or next to the configured limits."""
    out = [NOMINAL]
    band = sensor["deadband"]
    for name in ("signal_low", "low_critical", "low_warning"):
        if sensor[name] is not None:
            limit = sensor[name]
            out += [limit, limit + band, limit - 0.01, math.nextafter(limit, -math.inf)]
    for name in ("signal_high", "high_warning", "high_critical"):
        if sensor[name] is not None:
            limit = sensor[name]
            out += [limit, limit - band, limit + 0.01, math.nextafter(limit, math.inf)]
    return out


def values_of(
    message: tuple[str, Sequence[tuple[float, tuple[int, int]]]],
    t: float,
    prev: float,
    special: list[float],
) -> tuple[list[float], list[float]]:
    """Timestamps and values of one message, from the step after *t* and *prev*."""
    mode, draws = message
    ts, values = [], []
    for step, (kind, x) in draws:
        if mode != WILD:
            t += step if mode == EDGE and kind < 2 else 1.0
            value = special[x % len(special)] if mode == EDGE and kind > 17 else NOMINAL + x * 0.004
            ts.append(t)
            values.append(value)
            prev = value
            continue
        t += step
        if kind < 12:
            value = NOMINAL + x * 0.01  # quiet noise, on a grid: ties and flat runs happen
        elif kind < 15:
            value = prev  # flat
        elif kind == 15:
            value = prev + x * 1e-4  # creeping inside a stuck band
        elif kind == 16:
            value = special[x % len(special)]
        elif kind == 17:
            value = NOMINAL + x * 0.2  # excursion
        elif kind == 18:
            value = NOMINAL + x  # spike
        else:
            value = -0.0 if x % 2 else 0.0  # signed zeros compare equal, save differently
        ts.append(t)
        values.append(value)
        prev = value
    return ts, values


def state(monitor: TagDetectors | Detector) -> str:
    return json.dumps(monitor.state_dict())


def count(n: int) -> str:
    """0, 1, 2 or 3+ (hypothesis statistics)."""
    return str(n) if n < 3 else "3+"


def inactive(verdicts: dict[str, Verdict]) -> bool:
    return bool(verdicts) and not any(v.active for v in verdicts.values())


# -- TagDetectors -----------------------------------------------------------------


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sensor=sensors, cusum=cusum_settings, data=messages)
def test_update_quiet_is_exactly_update_reading_by_reading(
    sensor: dict[str, Any], cusum: tuple[int, float], data: list[Any]
) -> None:
    sensor = {"tag": "PT-1", **sensor}
    fast = build_detectors(sensor, *cusum)
    slow = build_detectors(sensor, *cusum)
    special = interesting(sensor)
    t, prev = T0, NOMINAL
    taken = 0
    for draws in data:
        ts, values = values_of(draws, t, prev, special)
        t, prev = max(t, ts[-1]), values[-1]
        before = state(fast)
        if fast.update_quiet(ts, values):
            taken += 1
            for a, b in zip(ts, values, strict=True):
                assert inactive(slow.update(a, b))
        else:
            assert state(fast) == before, "a refused batch changed the state"
            for a, b in zip(ts, values, strict=True):
                assert fast.update(a, b) == slow.update(a, b)
        assert state(fast) == state(slow)
    event(f"batches taken at once: {count(taken)}")


# -- Pipeline ---------------------------------------------------------------------


class CountingPipeline(Pipeline):
    """A pipeline that counts messages its detectors took at once."""

    quiet_taken = 0

    def _detect_quiet(
        self, tag: str, monitor: TagDetectors, new: Sequence[Reading], stale: bool
    ) -> bool:
        taken = super()._detect_quiet(tag, monitor, new, stale)
        self.quiet_taken += taken
        return taken


class PerReadingPipeline(Pipeline):
    """The reference: detectors strictly reading by reading."""

    def _detect_quiet(
        self, tag: str, monitor: TagDetectors, new: Sequence[Reading], stale: bool
    ) -> bool:
        return False


def payload(ts: list[float], values: list[float]) -> bytes:
    rows = [{"ts": a, "value": b, "unit": "bar"} for a, b in zip(ts, values, strict=True)]
    return json.dumps(rows[0] if len(rows) == 1 and ts[0] % 2 else rows).encode()


def snapshot(pipe: Pipeline, store: Store) -> Any:
    return (
        store.execute("SELECT key, type, ts, data, created_at FROM outbox ORDER BY id"),
        sorted(
            (repr(s) for s in store.load_alert_states()),
        ),
        pipe.open_alerts(),
        {key: repr(agg.state) for key, agg in pipe.aggregators_.items()},
        {tag: state(m) for tag, m in pipe.monitors_.items()},
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sensor=sensors,
    cusum=cusum_settings,
    data=messages,
    gap_checks=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_pipeline_batch_path_gives_the_same_items_and_states(
    sensor: dict[str, Any], cusum: tuple[int, float], data: list[Any], gap_checks: list[bool]
) -> None:
    config = make_config("v1", {**SENSOR_PT101, **sensor})
    stores = [open_store(":memory:"), open_store(":memory:")]
    fast = CountingPipeline(
        stores[0], "cmms", 60, 2, cusum_baseline_n=cusum[0], cusum_window_s=cusum[1]
    )
    slow = PerReadingPipeline(
        stores[1], "cmms", 60, 2, cusum_baseline_n=cusum[0], cusum_window_s=cusum[1]
    )
    for pipe in (fast, slow):
        pipe.apply_config(config)
    special = interesting(config["sensors"][0])
    t, prev = T0, NOMINAL
    for draws, gap_check in zip(data, gap_checks, strict=False):
        ts, values = values_of(draws, t, prev, special)
        t, prev = max(t, ts[-1]), values[-1]
        message = ("cmms/plant1/PT-101/reading", payload(ts, values))
        results = [pipe.process([message], received_at=t) for pipe in (fast, slow)]
        assert results[0] == results[1]
        if gap_check:  # a data gap aggregator must not keep the batch path away
            assert fast.check_gaps(t + 30.0) == slow.check_gaps(t + 30.0)
        assert snapshot(fast, stores[0]) == snapshot(slow, stores[1])
    event(f"messages taken at once: {count(fast.quiet_taken)}")


def test_pipeline_takes_quiet_messages_at_once_and_falls_back_on_an_alert() -> None:
    store = open_store(":memory:")
    pipe = CountingPipeline(store, "cmms", 60, 2, clock=lambda: T0)
    pipe.apply_config(make_config("v1", dict(SENSOR_PT101, roc_limit=5.0, stuck_deadband=0.001)))
    quiet = [6.0, 6.1, 5.9, 6.05, 6.2, 5.95]
    msg = ("cmms/plant1/PT-101/reading", payload([T0 + i for i in range(6)], quiet))
    pipe.process([msg])  # first readings ever: the first alone, then the rest at once
    assert pipe.quiet_taken == 1 and pipe.monitors_["PT-101"].last_ts_ == T0 + 5
    msg = ("cmms/plant1/PT-101/reading", payload([T0 + 6 + i for i in range(6)], quiet))
    pipe.process([msg])
    assert pipe.quiet_taken == 2
    spike = [*quiet[:5], 11.5]
    msg = ("cmms/plant1/PT-101/reading", payload([T0 + 12 + i for i in range(6)], spike))
    result = pipe.process([msg])
    assert pipe.quiet_taken == 2 and result.items == 2  # rule_violation and rate of change
    msg = ("cmms/plant1/PT-101/reading", payload([T0 + 18 + i for i in range(6)], quiet))
    pipe.process([msg])
    assert pipe.quiet_taken == 2, "open alerts are fed reading by reading"
    assert pipe.open_alerts() == []
    msg = ("cmms/plant1/PT-101/reading", payload([T0 + 24 + i for i in range(6)], quiet))
    pipe.process([msg])
    assert pipe.quiet_taken == 3, "closed alerts do not need the readings"
    assert set(pipe.aggregators_) == {("PT-101", "rule_violation"), ("PT-101", "instrument_fault")}


# -- each detector: when the batch path must refuse, when it may take ---------------


def primed(**sensor: Any) -> TagDetectors:
    """A detector set (every detector on) that has seen 20 quiet readings."""
    config = {
        "tag": "PT-1",
        "low_warning": 3.0,
        "high_warning": 9.0,
        "signal_low": 0.0,
        "signal_high": 16.0,
        "roc_limit": 5.0,
        "stuck_deadband": 0.001,
        "stuck_window_s": 60.0,
        "cusum_h": 5.0,
        "interval_s": 1.0,
        **sensor,
    }
    tag = build_detectors(config, cusum_baseline_n=3, cusum_window_s=4.0)
    for i in range(20):
        tag.update(T0 + i, NOMINAL + (0.1 if i % 3 else -0.1) * (i % 5))
    return tag


def times(n: int, start: float = 20.0) -> list[float]:
    return [T0 + start + i for i in range(n)]


def noisy(n: int) -> list[float]:
    return [NOMINAL + 0.01 * ((i * 7) % 11 - 5) for i in range(n)]


def test_quiet_noisy_signal_is_taken_at_once() -> None:
    tag, ref = primed(), primed()
    assert tag.update_quiet(times(20), noisy(20))
    for a, b in zip(times(20), noisy(20), strict=True):
        assert inactive(ref.update(a, b))
    assert state(tag) == state(ref)
    assert tag.last_ts_ == T0 + 39


def refused(tag: TagDetectors, ts: list[float], values: list[float]) -> bool:
    before = state(tag)
    taken = tag.update_quiet(ts, values)
    assert taken or state(tag) == before
    return not taken


def test_excursion_at_the_last_reading_is_refused() -> None:
    tag = primed()
    assert refused(tag, times(20), [*noisy(19), 9.5])
    assert refused(tag, times(20), [*noisy(19), 17.0])  # signal range
    assert refused(tag, times(20), [*noisy(19), 2.9])


def test_rate_of_change_spike_is_refused() -> None:
    tag = primed()
    values = noisy(20)
    values[10] += 5.5  # still inside the limits, but 5.5 bar in one second
    assert refused(tag, times(20), values)
    # The same change over two seconds is not a spike.
    ts = [T0 + 20 + 2 * i for i in range(20)]
    assert not refused(tag, ts, noisy(20))


def test_first_step_of_the_batch_counts_for_the_rate_of_change() -> None:
    # The last reading was 6.4 at T0 + 19; 3 bar in half a second is 6 bar/s.
    ts = [T0 + 19.5, T0 + 21.5, T0 + 23.5]
    tag = primed(stuck_window_s=None, cusum_h=None)
    assert refused(tag, ts, [NOMINAL + 3.0] * 3)
    # Two seconds later it is 1.5 bar/s.
    assert not refused(tag, [t + 1.5 for t in ts], [NOMINAL + 3.0] * 3)


def test_stuck_band_reaching_the_window_mid_batch_is_refused() -> None:
    tag = primed(stuck_window_s=10.0, cusum_h=None)
    assert refused(tag, times(20), [6.5] * 20)  # flat for 20 s of a 10 s window
    tag = primed(stuck_window_s=30.0, cusum_h=None)
    assert not refused(tag, times(20), [6.5] * 20)  # 20 s < 30 s: quiet
    assert refused(tag, times(20, 40.0), [6.5] * 20)  # now 40 s flat


def test_stuck_band_restarting_mid_batch_is_followed() -> None:
    tag = primed(stuck_window_s=10.0, stuck_deadband=0.05, cusum_h=None)
    ref = primed(stuck_window_s=10.0, stuck_deadband=0.05, cusum_h=None)
    values = [6.5] * 4 + [6.6] * 4  # moves once, then flat (the last two are equal)
    ts = times(8)
    assert tag.update_quiet(ts, values)
    for a, b in zip(ts, values, strict=True):
        assert inactive(ref.update(a, b))
    assert state(tag) == state(ref)
    assert tag.stuck.since_ == T0 + 24


def test_cusum_point_turning_active_is_refused() -> None:
    tag = primed()
    assert tag.cusum.baseline_ready
    values = [NOMINAL + 1.5] * 20  # inside the limits, far off the learned baseline
    ts = times(20)
    assert refused(tag, ts, values)
    # Reading by reading it does turn active, and only at a window's end.
    drift = [v.get("drift") for v in (tag.update(a, b) for a, b in zip(ts, values, strict=True))]
    assert any(v is not None and v.active for v in drift)


def test_cusum_learning_its_baseline_in_a_batch() -> None:
    sensor = {"tag": "PT-1", "cusum_h": 5.0, "interval_s": 1.0}
    tag = build_detectors(sensor, cusum_baseline_n=3, cusum_window_s=4.0)
    ref = build_detectors(sensor, cusum_baseline_n=3, cusum_window_s=4.0)
    for det in (tag, ref):
        det.update(T0, NOMINAL)
    ts, values = times(30, 1.0), noisy(30)
    assert tag.update_quiet(ts, values)
    for a, b in zip(ts, values, strict=True):
        ref.update(a, b)
    assert tag.cusum.baseline_ready and state(tag) == state(ref)


def test_refused_when_not_provable() -> None:
    tag = build_detectors({"tag": "PT-1", "high_warning": 9.0})
    assert not tag.update_quiet(times(3), noisy(3))  # never saw a reading
    tag.update(T0, NOMINAL)
    assert not tag.update_quiet([T0 + 1], [NOMINAL])  # one reading: not worth it
    assert not tag.update_quiet([T0, T0 + 1], [NOMINAL] * 2)  # not newer than the last
    assert not tag.update_quiet([T0 + 2, T0 + 2], [NOMINAL] * 2)  # repeated
    assert not tag.update_quiet([T0 + 3, T0 + 2], [NOMINAL] * 2)  # out of order
    assert not tag.update_quiet([T0 + 1, T0 + 2], [NOMINAL, float("nan")])
    assert not tag.update_quiet([T0 + 1, float("inf")], [NOMINAL] * 2)
    assert tag.update_quiet([T0 + 1, T0 + 2], [NOMINAL] * 2)

    class Watch(Detector):
        alert_type = "anomaly"

        def update(self, ts: float, value: float) -> Verdict:
            return Verdict(False)

    tag.anomaly = Watch()
    assert not tag.update_quiet([T0 + 3, T0 + 4], [NOMINAL] * 2)


def test_each_detector_plan_leaves_the_state_of_its_updates() -> None:
    ts, values = times(12), noisy(12)
    for make in (
        lambda: SignalRange(0.0, 16.0),
        lambda: RateOfChange(1.0),
        lambda: StuckSensor(0.001, 30.0),
        lambda: LimitRule(3.0, 4.0, 8.0, 9.0),
        lambda: Cusum(0.5, 4.0, baseline_n=3, window_n=3),
        lambda: Cusum(0.5, 4.0, baseline_n=3, window_n=1),
    ):
        det: Detector = make()
        ref: Detector = make()
        for d in (det, ref):
            d.update(T0, NOMINAL)
            d.update(T0 + 1, NOMINAL + 0.1)
        plan = det.quiet_plan(ts, values, min(values), max(values), 1.0)
        assert plan is not None, type(det).__name__
        vars(det).update(plan)
        for a, b in zip(ts, values, strict=True):
            assert not ref.update(a, b).active
        assert state(det) == state(ref), type(det).__name__


def test_signed_zeros_keep_the_band_limits_of_reading_by_reading() -> None:
    # min(0.0, -0.0) is 0.0 and min(-0.0, 0.0) is -0.0: the order matters.
    sensor = {"tag": "PT-1", "stuck_deadband": 0.5, "stuck_window_s": 100.0}
    for values in ([0.0, -0.0, 0.0], [-0.0, 0.0, -0.0], [0.1, -0.0, 0.0]):
        tag, ref = build_detectors(sensor), build_detectors(sensor)
        for det in (tag, ref):
            det.update(T0, values[0])
        assert tag.update_quiet(times(2, 1.0), values[1:])
        for a, b in zip(times(2, 1.0), values[1:], strict=True):
            assert inactive(ref.update(a, b))
        assert state(tag) == state(ref), values


def test_values_just_beyond_a_limit_are_refused() -> None:
    for name, value in (
        ("signal_high", math.nextafter(16.0, math.inf)),
        ("high_warning", math.nextafter(9.0, math.inf)),
        ("low_warning", math.nextafter(3.0, -math.inf)),
    ):
        tag = primed(roc_limit=None, cusum_h=None, high_warning=None)
        if name != "signal_high":
            tag = primed(roc_limit=None, cusum_h=None)
        assert refused(tag, times(3), [NOMINAL, value, NOMINAL]), name
    tag = primed(roc_limit=None, cusum_h=None)
    assert not refused(tag, times(4), [NOMINAL, 9.0, 3.0, NOMINAL])  # on a limit: inside


def test_stale_anomaly_alert_clears_the_same_with_multi_reading_messages() -> None:
    pipes: list[Pipeline] = []
    for cls in (CountingPipeline, PerReadingPipeline):
        pipe = cls(open_store(":memory:"), "cmms", 60, 0.0, clock=lambda: T0)
        pipe.apply_config(make_config("v1", dict(SENSOR_PT101, cusum_h=None)))
        pipe.process([("cmms/plant1/PT-101/reading", payload(times(3, 0.0), noisy(3)))])
        # An anomaly alert left open by a model that was withdrawn.
        agg = pipe.aggregators_[("PT-101", ANOMALY)] = pipe._new_aggregator("PT-101", ANOMALY)
        agg.update(T0 + 2, Verdict(True, "warning", "odd"), NOMINAL)
        pipe.stale_anomaly_.add("PT-101")
        pipes.append(pipe)
    for start in (3.0, 23.0):
        message = ("cmms/plant1/PT-101/reading", payload(times(20, start), noisy(20)))
        assert pipes[0].process([message]) == pipes[1].process([message])
    assert [p.open_alerts() for p in pipes] == [[], []]
    assert not pipes[0].stale_anomaly_ and not pipes[1].stale_anomaly_
    # the first message (after its first reading), then the one after the alert cleared
    assert isinstance(pipes[0], CountingPipeline) and pipes[0].quiet_taken == 2
    assert snapshot(pipes[0], pipes[0].store) == snapshot(pipes[1], pipes[1].store)
