"""The row aligner of the machine-level detector: readings of several tags
aligned in time, tolerant of missing, late and batched readings."""

from __future__ import annotations

import json
import random
from typing import Any

from connector.detect.anomaly import DEFAULT_GRACE, AnomalyEngine, RowAligner

TAGS = [f"T{j}" for j in range(8)]
BATCH = 20


def value(j: int, slot: int) -> float:
    """A reading that says where it belongs."""
    return 1000.0 * j + slot


def feed_batches(
    al: RowAligner, first: int, batches: int, tags: list[str] = TAGS
) -> list[tuple[float, list[float | None]]]:
    """Feed *batches* gateway messages: each tag's BATCH readings in turn."""
    out: list[tuple[float, list[float | None]]] = []
    for b in range(first, first + batches):
        slots = range(b * BATCH, (b + 1) * BATCH)
        for tag in tags:
            j = TAGS.index(tag)
            ends: list[int] = []
            rows = al.add_many(tag, [float(s) for s in slots], [value(j, s) for s in slots], ends)
            assert len(ends) == BATCH and ends == sorted(ends) and ends[-1] == len(rows)
            out += rows
    return out


def test_batches_published_tag_by_tag_lose_nothing() -> None:
    al = RowAligner(TAGS, period_s=1.0)
    out = feed_batches(al, 0, 6)
    # The last tag of each message completes its slots: every row, in order.
    assert [t for t, _ in out] == [float(s) for s in range(6 * BATCH)]
    for t, row in out:
        assert row == [value(j, int(t)) for j in range(len(TAGS))]
    assert al.pending_ == {}


def test_a_tag_that_stops_is_a_missing_value_after_the_grace() -> None:
    al = RowAligner(TAGS, period_s=1.0)
    out = feed_batches(al, 0, 3)
    assert len(out) == 3 * BATCH
    out = feed_batches(al, 3, 6, TAGS[:-1])  # T7 stops
    newest = 9 * BATCH - 1
    # Its slots wait for it, then are completed `grace` slots later.
    assert [t for t, _ in out] == [float(s) for s in range(3 * BATCH, newest - DEFAULT_GRACE + 1)]
    for t, row in out:
        assert row == [value(j, int(t)) for j in range(len(TAGS) - 1)] + [None]
    # It comes back: the rows waiting complete at once, with it from then on.
    out = feed_batches(al, 9, 1)
    assert [t for t, _ in out] == [float(s) for s in range(newest - DEFAULT_GRACE + 1, 10 * BATCH)]
    assert all(row[-1] is None for t, row in out if t < 9 * BATCH)
    assert all(row[-1] == value(7, int(t)) for t, row in out if t >= 9 * BATCH)


def test_late_readings_within_the_grace_count_later_ones_are_dropped() -> None:
    al = RowAligner(["A", "B"], period_s=2.0, grace=3)
    assert al.add("A", 0.0, 1.0) == []
    assert al.add("A", 6.5, 2.0) == [(0.0, [1.0, None])]  # 3 slots later: B missing
    assert al.add("A", 8.0, 2.5) == []  # slot 1 is due too, it has no reading
    assert al.add("B", 1.0, 9.0) == []  # its slot was given out
    assert al.add("B", 2.0, 3.0) == [(2.0, [None, 3.0])]  # its slot was due: at once
    assert al.add("B", 6.0, 4.0) == [(6.0, [2.0, 4.0])]  # both passed slot 3
    assert al.add("B", 9.0, 5.0) == [(8.0, [2.5, 5.0])]


def test_state_round_trips_and_an_older_state_loads() -> None:
    ref = RowAligner(TAGS)
    ref_out = feed_batches(ref, 0, 2)
    al = RowAligner(TAGS)
    out = feed_batches(al, 0, 1) + feed_batches(al, 1, 1, TAGS[:3])
    saved = json.loads(json.dumps(al.state_dict()))
    again = RowAligner(TAGS)
    again.load_state(saved)
    out += feed_batches(again, 1, 1, TAGS[3:])
    assert out == ref_out
    # A state saved before the tags' newest slots were kept: they are not
    # seen, so rows complete after the grace, and nothing is lost or repeated.
    old = {k: saved[k] for k in ("pending", "newest", "done")}
    again = RowAligner(TAGS)
    again.load_state(old)
    rest = feed_batches(again, 1, 1, TAGS[3:]) + feed_batches(again, 2, 4)
    assert [t for t, _ in rest] == [float(s) for s in range(BATCH, 6 * BATCH)]
    assert all(None not in row for _, row in rest)


def test_machine_scores_do_not_depend_on_the_batching() -> None:
    rng = random.Random(5)
    tags = TAGS[:3]
    n = 400
    data = {
        tag: [10.0 * (j + 1) + rng.gauss(0, 0.3) for _ in range(n)] for j, tag in enumerate(tags)
    }
    sensors = [{"tag": tag, "machine": "M", "interval_s": 1.0} for tag in tags]

    def machine_scores(batch: int) -> list[tuple[Any, ...]]:
        scores: list[tuple[Any, ...]] = []
        engine = AnomalyEngine(on_score=lambda *a: scores.append(a))
        engine.configure(sensors)
        for start in range(0, n, batch):
            for tag in tags:
                ts = [float(i) for i in range(start, start + batch)]
                engine.update_many(tag, ts, data[tag][start : start + batch])
        return [s for s in scores if s[0] == "M"]

    one = machine_scores(1)  # in time order, tag after tag
    assert len(one) == n
    assert machine_scores(BATCH) == one
