"""The online detector: causality, learning, calibration, saved state."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import Any

import pytest

from connector.detect.anomaly import AnomalyEngine, RowAligner
from connector.ingest.pipeline import Pipeline
from connector.ml.online import DEFAULTS, OnlineDetector
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, T0, make_config


def series(n: int, seed: int = 0, k: int = 3) -> list[list[float | None]]:
    rng = random.Random(seed)
    rows: list[list[float | None]] = []
    for t in range(n):
        row: list[float | None] = [
            10.0 * (j + 1) + rng.gauss(0, 0.2) + 0.5 * math.sin(t / 200) for j in range(k)
        ]
        if 500 <= t < 560:
            row[1] = (row[1] or 0.0) + 3.0
        if rng.random() < 0.02:
            row[rng.randrange(k)] = None  # missing readings
        rows.append(row)
    return rows


def run(rows: Sequence[Sequence[float | None]], **kw: Any) -> list[tuple[float, bool]]:
    det = OnlineDetector(len(rows[0]), **kw)
    return [det.update(row) for row in rows]


def test_a_prefix_scores_as_the_whole_series_prefix() -> None:
    rows = series(900)
    whole = run(rows)
    for cut in (1, 250, 401, 530, 777):
        assert run(rows[:cut]) == whole[:cut]


def test_changing_a_row_changes_nothing_before_it() -> None:
    rows = series(700, seed=2)
    base = run(rows)
    for t in (420, 510, 650):
        other = [list(r) for r in rows]
        other[t][0] = 1e6
        out = run(other)
        assert out[:t] == base[:t] and out[t] != base[t]


def test_score_is_calibrated_and_alarm_follows_it() -> None:
    rows = series(900, seed=1)
    out = run(rows)
    assert all(0.0 <= s <= 1.0 for s, _ in out)
    assert all(s == 0.0 and not a for s, a in out[: DEFAULTS["warmup"]])
    rises = [t for t in range(1, len(out)) if out[t][1] and not out[t - 1][1]]
    assert rises and 500 <= rises[0] <= 505  # the step at 500
    for t in rises:
        assert out[t][0] > 0.5  # an alarm rises only above 0.5
    assert not out[620][1] and out[620][0] < 0.5  # and falls when it is over


def test_a_lasting_level_shift_becomes_the_new_normal() -> None:
    rng = random.Random(4)
    rows = [[5.0 + rng.gauss(0, 0.05)] for _ in range(500)]
    rows += [[6.0 + rng.gauss(0, 0.05)] for _ in range(3000)]
    out = run(rows)
    assert out[510][1]  # the shift alarms ...
    assert not any(a for _, a in out[-500:])  # ... and is normal after a while


def test_a_daily_cycle_and_a_slow_trend_do_not_alarm() -> None:
    rng = random.Random(5)
    day = 86400
    rows = [
        [65.0 + 1.5 * math.sin(2 * math.pi * t / day) + t * 2e-5 + rng.gauss(0, 0.15)]
        for t in range(0, 2 * day, 10)
    ]
    out = run(rows)
    assert sum(a for _, a in out) == 0


def test_learning_is_frozen_while_the_alarm_is_on() -> None:
    det = OnlineDetector(1, warmup=100)
    rng = random.Random(6)
    for _ in range(400):
        det.update([1.0 + rng.gauss(0, 0.01)])
    centre, spread = det.lcen_[0], det.lmad_[0]
    for _ in range(200):
        _, alarm = det.update([3.0])
    assert alarm and det.lcen_[0] == centre and det.lmad_[0] == spread


def test_state_round_trips_through_json() -> None:
    rows = series(800, seed=3)
    det = OnlineDetector(3, names=["a", "b", "c"])
    for row in rows[:520]:
        det.update(row)
    saved = json.loads(json.dumps(det.state_dict()))
    again = OnlineDetector(3, names=["a", "b", "c"])
    assert again.load_state(saved)
    assert [again.update(r) for r in rows[520:]] == [det.update(r) for r in rows[520:]]
    assert not OnlineDetector(3, names=["a", "b", "x"]).load_state(saved)
    assert not OnlineDetector(3, names=["a", "b", "c"], margin=9.0).load_state(saved)


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError):
        OnlineDetector(1, alpha=0.0)
    with pytest.raises(ValueError):
        OnlineDetector(1, wrong=1)


def test_aligner_tolerates_late_and_missing_readings() -> None:
    al = RowAligner(["A", "B"], period_s=1.0, grace=2)
    out = []
    for tag, ts in [("A", 0.0), ("A", 1.0), ("B", 0.5), ("A", 2.0), ("B", 1.2), ("A", 3.0)]:
        out += al.add(tag, ts, ts)  # B's readings are late, within the grace
    assert out == [(0.0, [0.0, 0.5]), (1.0, [1.0, 1.2])]
    assert al.add("B", 0.9, 9.9) == []  # its row was scored
    assert al.add("A", 4.0, 4.0) == [(2.0, [2.0, None])]  # B missing in slot 2


def test_engine_state_survives_a_pipeline_restart(tmp_path: object) -> None:
    path = str(tmp_path) + "/s.sqlite3"
    sensor = {**SENSOR_PT101, "machine": "FL-01"}
    rng = random.Random(7)
    values = [6.0 + rng.gauss(0, 0.05) for _ in range(700)]

    def feed(pipe: Pipeline, lo: int, hi: int) -> None:
        for i in range(lo, hi):
            msg = json.dumps({"ts": T0 + i, "value": values[i], "unit": "bar"})
            pipe.process([("cmms/plant1/PT-101/reading", msg.encode())], received_at=T0 + i)

    ref_scores: list[tuple[Any, ...]] = []
    ref = Pipeline(
        open_store(":memory:"), engine=AnomalyEngine(on_score=lambda *a: ref_scores.append(a))
    )
    ref.apply_config(make_config("v1", sensor))
    feed(ref, 0, 700)

    scores: list[tuple[Any, ...]] = []
    first = Pipeline(open_store(path), engine=AnomalyEngine(on_score=lambda *a: scores.append(a)))
    first.apply_config(make_config("v1", sensor))
    feed(first, 0, 450)
    first.save_state(T0 + 450)
    feed(first, 450, 460)  # stored after the save: replayed at the restart
    first.store.close()
    second = Pipeline(open_store(path), engine=AnomalyEngine(on_score=lambda *a: scores.append(a)))
    second.load_cached_config()
    assert second.engine.tags_["PT-101"].detector.rows_ == 460
    tail: list[tuple[Any, ...]] = []
    second.engine.on_score = lambda *a: tail.append(a)
    feed(second, 460, 700)
    ref_tail = [row for row in ref_scores if row[1] >= T0 + 460 and row[0] == "PT-101"]
    assert [row for row in tail if row[0] == "PT-101"] == ref_tail


def _messages(seed: int = 3) -> list[tuple[str, list[float], list[float]]]:
    """Messages of four tags of one machine and a lone tag: a few readings
    each, some late, repeated or missing, with faults that raise alarms."""
    rng = random.Random(seed)
    tags = ["A", "B", "C", "D", "E"]
    step = dict.fromkeys(tags, 0)
    out = []
    for m in range(1500):
        tag = tags[m % len(tags)]
        ts, values = [], []
        for _ in range(rng.choice((1, 2, 5, 20))):
            t = step[tag]
            step[tag] += 1
            value = 10.0 + rng.gauss(0, 0.3) + (4.0 if 1200 < t < 1300 and tag == "B" else 0.0)
            if 1600 < t < 1640 and tag in "AC":
                value -= 6.0
            if rng.random() < 0.01:
                t -= rng.choice((0, 1, 3))  # repeated or late
            ts.append(T0 + t)
            values.append(math.nan if rng.random() < 0.005 else value)
        out.append((tag, ts, values))
    return out


def test_a_message_at_once_scores_as_its_readings_one_by_one() -> None:
    """The engine's batched path is its one-reading path: same verdicts and scores."""
    sensors = [{"tag": t, "interval_s": 1.0, "machine": "M"} for t in "ABCD"] + [{"tag": "E"}]
    one: list[tuple[Any, ...]] = []
    many: list[tuple[Any, ...]] = []
    each, batched = AnomalyEngine(on_score=lambda *a: one.append(a)), AnomalyEngine()
    batched.on_score = lambda *a: many.append(a)
    quiet = AnomalyEngine()  # no callback: the fast path
    for engine in (each, batched, quiet):
        engine.configure(sensors)
    for tag, ts, values in _messages():
        expected = [each.update(tag, t, v) for t, v in zip(ts, values, strict=True)]
        assert batched.update_many(tag, ts, values) == expected
        assert quiet.update_many(tag, ts, values) == expected
    assert one == many
    assert sum(row[3] for row in one if row[0] == "M") > 10  # the machine's alarm rose
    assert any(row[3] for row in one if row[0] != "M")  # and a tag's own
    assert json.dumps(each.state_dict()) == json.dumps(quiet.state_dict())


def test_a_recurring_excursion_alarms_less_each_time_and_a_rare_one_fully() -> None:
    rng = random.Random(1)
    rows: list[list[float | None]] = [[30 + rng.gauss(0, 0.5)] for _ in range(600)]
    starts = []
    for height in [8.0] * 6 + [25.0]:
        starts.append(len(rows))
        rows += [[30 + height + rng.gauss(0, 0.5)] for _ in range(10)]
        rows += [[30 + rng.gauss(0, 0.5)] for _ in range(150)]

    def peaks(**kw: object) -> list[float]:
        det = OnlineDetector(1, warmup=400, **kw)  # type: ignore[arg-type]
        scores = [det.update(row)[0] for row in rows]
        return [max(scores[s : s + 40]) for s in starts]

    learned, plain = peaks(), peaks(tail_gain=0.0)
    assert max(plain[:6]) - min(plain[:6]) < 0.05  # without the tail: the same each time
    assert learned[0] == pytest.approx(plain[0])  # the first one scores in full
    assert learned[1] < learned[0] and learned[5] < learned[1]
    assert learned[6] > 0.5 and learned[6] > learned[5]  # a larger one still alarms


def test_the_tail_fades_back() -> None:
    rng = random.Random(2)
    det = OnlineDetector(1, warmup=400)
    rows = [[30 + rng.gauss(0, 0.5)] for _ in range(600)]
    rows += [[38.0]] * 10 + [[30 + rng.gauss(0, 0.5)] for _ in range(200)]
    for row in rows:
        det.update(row)
    high = det.tail_[0]
    assert high > 1.0
    for _ in range(5000):
        det.update([30 + rng.gauss(0, 0.5)])
    assert 1.0 <= det.tail_[0] < 1.0 + 0.05 * (high - 1.0)


def test_a_signal_constant_at_zero_alarms_when_it_moves_with_a_bounded_score() -> None:
    # Zero spread and a centre of 0 (a server's idle error counter): its
    # first move alarms; the threshold then follows the signal's steps, so
    # the score stays finite and the alarm clears once the spike is over
    # (without the floor: 1 - 1e-11 and about 250 rows).
    det = OnlineDetector(1, warmup=400)
    rows = [0.0] * 1000 + [1.0] + [0.0] * 999 + [1.0] + [0.0] * 300
    out = [det.update([v]) for v in rows]
    for spike in (1000, 2000):
        score, alarm = out[spike]
        assert alarm and 0.5 < score < 0.9999
        assert not any(a for _, a in out[spike + 100 : spike + 300])
    assert not any(a for _, a in out[:1000])
