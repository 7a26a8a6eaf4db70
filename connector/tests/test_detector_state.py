"""The detectors' learned state survives a restart as plain JSON.

The pipeline saves :meth:`TagDetectors.state_dict` (kind, format version,
parameters and learned attributes) in the store, not pickled objects, so a
moved module does not throw the learned baselines away. A state saved by an
earlier version (pickled) is read once and saved anew; a state that no
longer fits is ignored with one log line.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import pickle
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from connector.detect.base import STATE_VERSION
from connector.detect.cusum import Cusum
from connector.detect.data_gap import DataGap
from connector.detect.legacy_state import _PickledState, states_from_pickle
from connector.detect.limit_rule import LimitRule
from connector.detect.rate_of_change import RateOfChange
from connector.detect.signal_range import SignalRange
from connector.detect.stuck import StuckSensor
from connector.detect.tag import TagDetectors, build_detectors
from connector.ingest.pipeline import CONFIG_KEY, DETECTOR_STATE_KEY, Pipeline
from connector.store import Store, open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
DETECTOR_CLASSES = (TagDetectors, SignalRange, RateOfChange, StuckSensor, LimitRule, Cusum, DataGap)
SENSOR = {**SENSOR_PT101, "on_delay_s": 3.0, "roc_limit": 5.0, "stuck_deadband": 0.001}
#: Noise (the baseline), a drift the CUSUM sees only against that baseline,
#: an excursion held through its on-delay, noise again.
VALUES = (
    [6.0 + 0.05 * ((i * 7) % 5 - 2) for i in range(60)]
    + [6.4 + 0.05 * ((i * 3) % 5 - 2) for i in range(40)]
    + [9.5] * 6
    + [6.0 + 0.05 * ((i * 7) % 5 - 2) for i in range(20)]
)


def msg(i: int) -> tuple[str, bytes]:
    return "cmms/plant1/PT-101/reading", json.dumps(
        {"ts": T0 + i, "value": VALUES[i], "unit": "bar"}
    ).encode()


def pipeline(store: Store) -> Pipeline:
    return Pipeline(
        store, clear_delay_s=2, cusum_baseline_n=5, cusum_window_s=4.0, clock=lambda: T0
    )


def outbox(store: Store) -> list[tuple[Any, ...]]:
    return store.execute("SELECT key, type, data FROM outbox ORDER BY id")


def feed(pipe: Pipeline, lo: int, hi: int) -> None:
    for i in range(lo, hi):
        pipe.process([msg(i)])


def state(monitor: TagDetectors) -> str:
    return json.dumps(monitor.state_dict())


@pytest.fixture
def reference(tmp_path: Path) -> Pipeline:
    """Every reading through one pipeline, no restart."""
    ref = pipeline(open_store(tmp_path / "ref.sqlite3"))
    ref.apply_config(make_config("v1", SENSOR))
    feed(ref, 0, len(VALUES))
    types = [t for _, t, _ in outbox(ref.store)]
    assert types.count("alert_raised") >= 2, types  # the drift and the excursion
    return ref


def first_run(path: Path, upto: int = 50, after: int = 10) -> Pipeline:
    """A run that saves its state after *upto* readings and takes *after*
    more (replayed at the restart) before it stops."""
    first = pipeline(open_store(path))
    first.apply_config(make_config("v1", SENSOR))
    feed(first, 0, upto)
    first.save_state()
    feed(first, upto, upto + after)
    first.store.close()
    return first


def test_restart_keeps_learned_baselines_and_gives_identical_verdicts(
    tmp_path: Path, reference: Pipeline
) -> None:
    path = tmp_path / "s.sqlite3"
    first = first_run(path)
    saved = open_store(path).get_json(DETECTOR_STATE_KEY)
    assert set(saved) == {"reading_id", "detectors", "online"}  # plain JSON, no pickle
    assert saved["detectors"]["PT-101"]["version"] == STATE_VERSION
    second = pipeline(open_store(path))
    assert second.load_cached_config()  # restores, then replays the last 10 readings
    assert state(second.monitors_["PT-101"]) == state(first.monitors_["PT-101"])
    assert second.monitors_["PT-101"].cusum.baseline_ready
    feed(second, 60, len(VALUES))
    assert outbox(second.store) == outbox(reference.store)


def test_restart_without_the_state_would_differ(tmp_path: Path, reference: Pipeline) -> None:
    """The control of the test above: the baseline matters to the verdicts."""
    path = tmp_path / "s.sqlite3"
    first_run(path)
    store = open_store(path)
    store.set_json(DETECTOR_STATE_KEY, None)
    second = pipeline(store)
    second.load_cached_config()
    feed(second, 60, len(VALUES))
    assert outbox(second.store) != outbox(reference.store)


def test_old_pickled_state_is_read_once_and_saved_as_json(
    tmp_path: Path, reference: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.sqlite3"
    first = first_run(path, upto=60, after=0)
    old = copy.deepcopy(first.monitors_)
    for monitor in old.values():  # the layout of earlier versions
        monitor.limits.since_ = dict(enumerate(monitor.limits.since_, start=1))  # type: ignore[assignment]
    store = open_store(path)
    saved = store.get_json(DETECTOR_STATE_KEY)
    blob = pickle.dumps(old, protocol=pickle.HIGHEST_PROTOCOL)
    saved = {**saved, "state": base64.b64encode(blob).decode("ascii")}
    del saved["detectors"]
    store.set_json(DETECTOR_STATE_KEY, saved)
    second = pipeline(store)
    with caplog.at_level(logging.INFO, logger="connector.ingest.pipeline"):
        second.load_cached_config()
    assert "old pickled format (1 sensors)" in caplog.text
    assert state(second.monitors_["PT-101"]) == state(first.monitors_["PT-101"])
    feed(second, 60, len(VALUES))
    assert outbox(second.store) == outbox(reference.store)
    assert "detectors" in store.get_json(DETECTOR_STATE_KEY)  # written anew
    assert "state" not in store.get_json(DETECTOR_STATE_KEY)


def test_unreadable_pickled_state_is_dropped_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.sqlite3"
    first_run(path)
    store = open_store(path)
    saved = store.get_json(DETECTOR_STATE_KEY)
    del saved["detectors"]
    for n, blob in enumerate((pickle.dumps({"PT-101": os.system}), b"not a pickle")):
        store.set_json(DETECTOR_STATE_KEY, {**saved, "state": base64.b64encode(blob).decode()})
        caplog.clear()
        second = pipeline(store)
        with caplog.at_level(logging.WARNING, logger="connector.ingest.pipeline"):
            second.load_cached_config()
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(lines) == 1 and "unreadable" in lines[0], lines
        assert not second.monitors_["PT-101"].cusum.baseline_ready  # learns again
        assert second.process([msg(60 + n)]).readings == 1


def test_state_that_no_longer_fits_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.sqlite3"
    first = first_run(path)
    store = open_store(path)
    saved = store.get_json(DETECTOR_STATE_KEY)
    # another kind (a future or foreign format): the whole set learns again
    other = copy.deepcopy(saved)
    other["detectors"]["PT-101"]["kind"] = "something_else"
    store.set_json(DETECTOR_STATE_KEY, other)
    second = pipeline(store)
    with caplog.at_level(logging.INFO, logger="connector.ingest.pipeline"):
        second.load_cached_config()
    assert "ignored for 1 sensors, e.g. PT-101 (not a detector state of this format" in caplog.text
    assert not second.monitors_["PT-101"].cusum.baseline_ready
    # changed parameters (the CUSUM's threshold): that detector learns again, the others not
    store.set_json(DETECTOR_STATE_KEY, saved)
    store.set_json(CONFIG_KEY, make_config("v2", {**SENSOR, "cusum_h": 6.0}))
    caplog.clear()
    third = pipeline(store)
    with caplog.at_level(logging.INFO, logger="connector.ingest.pipeline"):
        third.load_cached_config()
    assert "1 detectors not restored (parameters changed): PT-101.cusum" in caplog.text
    new, old = third.monitors_["PT-101"], first.monitors_["PT-101"]
    assert new.cusum.h == 6.0
    assert (new.stuck.since_, new.roc.prev_, new.last_ts_) == (
        old.stuck.since_,
        old.roc.prev_,
        old.last_ts_,
    )
    assert third.process([msg(60)]).readings == 1


def test_detector_state_checks() -> None:
    rule = LimitRule(high_warning=9.0, on_delay_s=5.0)
    for t in range(3):
        rule.update(float(t), 9.5)
    saved = json.loads(json.dumps(rule.state_dict()))
    assert saved["state"] == {"level_": 0, "since_": [0.0, None], "active_": False}
    again = LimitRule(high_warning=9.0, on_delay_s=5.0)
    assert again.load_state(saved)
    assert [again.update(float(t), 9.5).active for t in range(3, 6)] == [False, False, True]
    assert not Cusum().load_state(saved)  # another kind
    assert not LimitRule(high_warning=9.0).load_state(saved)  # other parameters
    assert not again.load_state({**saved, "version": STATE_VERSION + 1})
    assert not again.load_state({**saved, "state": {"level_": 0, "unknown_": 1}})
    assert RateOfChange(1.0).load_state(RateOfChange(1.0).state_dict())  # nothing learned yet
    tag = build_detectors(SENSOR)
    with pytest.raises(ValueError, match="kind 'x'"):
        tag.load_state({"kind": "x", "version": STATE_VERSION, "detectors": {}})
    with pytest.raises(ValueError, match="version 99"):
        tag.load_state({**tag.state_dict(), "version": 99})
    assert tag.load_state(tag.state_dict()) == []


def test_pickled_state_finds_moved_classes_and_nothing_else() -> None:
    import io

    def find(module: str, name: str) -> Any:
        return _PickledState(io.BytesIO(b"")).find_class(module, name)

    assert find("connector.detectors", "Cusum") is Cusum
    assert find("connector.detect.detectors", "TagDetectors") is TagDetectors
    for cls in DETECTOR_CLASSES:  # where they were, and where they are now
        for module in ("connector.detectors", "connector.detect.detectors", cls.__module__):
            assert find(module, cls.__name__) is cls
    for module, name in (("os", "system"), ("builtins", "eval"), ("connector.x", "Pipeline")):
        with pytest.raises(pickle.UnpicklingError):
            find(module, name)


@pytest.mark.parametrize("old_module", ["connector.detectors", "connector.detect.detectors"])
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_pickle_of_the_one_module_detectors_is_read(
    monkeypatch: pytest.MonkeyPatch, old_module: str, protocol: int
) -> None:
    """A pickle written when every detector class lived in one module."""
    tag = build_detectors(SENSOR)
    for t in range(40):
        tag.update(T0 + t, 6.0 + 0.1 * (t % 3))
    module = ModuleType(old_module)
    monkeypatch.setitem(sys.modules, old_module, module)
    for cls in DETECTOR_CLASSES:
        setattr(module, cls.__name__, cls)
        monkeypatch.setattr(cls, "__module__", old_module)
    blob = pickle.dumps({"PT-101": tag}, protocol=protocol)
    monkeypatch.undo()
    assert old_module.encode() in blob
    assert states_from_pickle(blob) == {"PT-101": tag.state_dict()}


def test_a_state_slow_to_save_is_saved_less_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that takes a second (thousands of tags) comes every 50 s, not
    every 5 s; one that takes a millisecond every 5 s."""
    from connector.ingest import pipeline as pipeline_module

    store = open_store(tmp_path / "s.sqlite3")
    now = [T0]
    pipe = Pipeline(store, clock=lambda: now[0])
    pipe.apply_config(make_config("v1", SENSOR))
    ticks = iter(range(1_000_000))
    step = [1.0]  # seconds a save takes, as perf_counter tells it
    monkeypatch.setattr(pipeline_module.time, "perf_counter", lambda: next(ticks) * step[0])
    saves: list[float] = []
    real_save = pipe.save_state

    def save(at: float | None = None) -> None:
        assert at is not None  # process() passes its time
        saves.append(at)
        real_save(at)

    monkeypatch.setattr(pipe, "save_state", save)
    for i in range(120):  # one message a second for two minutes
        now[0] = T0 + i
        pipe.process([msg(i % len(VALUES))])
    assert pipe.state_every_s_ == pytest.approx(1.0 / pipeline_module.DETECTOR_STATE_SHARE)
    assert len(saves) == 3  # at the start, then 50 s apart
    assert [s - saves[0] for s in saves] == [0.0, 50.0, 100.0]
    step[0] = 0.001
    for i in range(120, 200):
        now[0] = T0 + i
        pipe.process([msg(i % len(VALUES))])
    assert pipe.state_every_s_ == pipeline_module.DETECTOR_STATE_EVERY_S
    assert store.get_json(DETECTOR_STATE_KEY)["reading_id"] > 0
