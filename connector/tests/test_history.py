"""History tiers: compaction with explicit times keeps each series' shape.

The tests taking the ``store`` fixture run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.ingest.schema import Reading
from connector.push.items import OutboxItem
from connector.store import Store, open_store
from connector.store.history import DAY, HOUR, MINUTE, History, floor_to

T = 1795334400.0  # 2026-11-22T08:00:00Z, a whole hour
DAY_S = 86400.0


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    with open_store(store_target) as opened:
        yield opened


def put(store: Store, rows: list[tuple[float, float]], tag: str = "PT-101") -> None:
    store.insert_readings([Reading(tag, ts, value, "bar") for ts, value in rows], rows[0][0])


def aggs(store: Store) -> list[dict[str, Any]]:
    rows = store.execute(
        "SELECT key, data FROM outbox WHERE type = 'reading_agg' ORDER BY id",
    )
    return [dict(json.loads(data), key=key) for key, data in rows]


def test_a_minute_is_pushed_once_it_is_closed(store: Store) -> None:
    history = History(store, close_delay_s=5.0)
    put(store, [(T + i, float(i)) for i in range(60)] + [(T + 60 + i, 1.0) for i in range(5)])
    assert history.compact(T + 64.9).minutes == 0  # 08:00 closes at 08:01:05
    stats = history.compact(T + 65)
    assert (stats.minutes, stats.items) == (1, 1)
    assert aggs(store) == [
        {
            "key": "agg:PT-101:2026-11-22T08:00:00Z",
            "tag": "PT-101",
            "resolution": "minute",
            "period_start": "2026-11-22T08:00:00Z",
            "min": 0.0,
            "max": 59.0,
            "mean": 29.5,
            "last": 59.0,
            "count": 60,
        }
    ]
    assert history.compact(T + 100).minutes == 0  # nothing new
    assert history.compact(T + 125).minutes == 1  # 08:01 (5 readings)
    assert [a["count"] for a in aggs(store)] == [60, 5]


def test_a_late_reading_sends_a_revision(store: Store) -> None:
    history = History(store, close_delay_s=0.0)
    put(store, [(T + 10, 5.0), (T + 20, 7.0)])
    history.compact(T + 60)
    put(store, [(T + 30.5, 9.0)])  # arrives after its minute was sent
    stats = history.compact(T + 70)
    assert (stats.minutes, stats.revisions) == (1, 1)
    first, second = aggs(store)
    assert second["key"] == first["key"] + ":r1"
    assert (second["count"], second["max"], second["last"], second["mean"]) == (3, 9.0, 9.0, 7.0)


def test_hours_and_days_keep_the_shape_of_the_series(store: Store) -> None:
    history = History(store, close_delay_s=0.0)
    rng = random.Random(4)
    start = floor_to(T, DAY)  # 2026-11-22T00:00:00Z
    rows: list[tuple[float, float]] = []
    for minute in range(0, 26 * 60, 7):  # uneven counts per minute, over two days
        for k in range(rng.randint(1, 5)):
            rows.append((start + minute * 60 + k * 9.0, round(rng.gauss(6.0, 2.0), 3)))
    put(store, rows)
    stats = history.compact(start + 2 * DAY)
    assert stats.hours == 26 and stats.days == 2
    for resolution, period in (("minute", MINUTE), ("hour", HOUR), ("day", DAY)):
        got = history.series("PT-101", resolution, start, start + 2 * DAY)
        groups: dict[float, list[tuple[float, float]]] = {}
        for ts, value in rows:
            groups.setdefault(floor_to(ts, period), []).append((ts, value))
        assert [g["start"] for g in got] == sorted(groups)
        for agg in got:
            points = groups[agg["start"]]
            values = [v for _, v in points]
            assert agg["count"] == len(values)
            assert agg["min"] == min(values) and agg["max"] == max(values)
            assert agg["mean"] == pytest.approx(sum(values) / len(values), rel=1e-12)
            assert agg["last"] == max(points)[1] and agg["last_ts"] == max(points)[0]
    # only minutes are pushed
    assert {a["resolution"] for a in aggs(store)} == {"minute"}
    assert len(aggs(store)) == len(history.series("PT-101", "minute", start, start + 2 * DAY))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=3 * 3600 - 1e-3, allow_nan=False),
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=60,
        unique_by=lambda r: T + r[0],
    )
)
def test_hour_aggregates_equal_the_raw_statistics(rows: list[tuple[float, float]]) -> None:
    store = open_store(":memory:")
    history = History(store, close_delay_s=0.0)
    put(store, [(T + ts, value) for ts, value in rows])
    history.compact(T + 4 * 3600)
    for agg in history.series("PT-101", "hour", T, T + 4 * 3600):
        points = [(T + ts, v) for ts, v in rows if floor_to(T + ts, HOUR) == agg["start"]]
        values = [v for _, v in points]
        assert agg["count"] == len(points)
        assert (agg["min"], agg["max"]) == (min(values), max(values))
        assert agg["min"] <= agg["mean"] <= agg["max"]
        assert agg["mean"] == pytest.approx(sum(values) / len(values), abs=1e-6)
        assert agg["last"] == max(points)[1]


def test_retention_of_each_tier(store: Store) -> None:
    history = History(store, close_delay_s=0.0, raw_days=7, minute_days=90, hour_days=730)
    old = T - 800 * DAY_S
    put(store, [(old + i * 20.0, float(i)) for i in range(6)])  # two minutes
    history.compact(old + DAY_S + 1)
    counts = lambda: {  # noqa: E731
        "readings": store.count_readings(),
        **{
            t: store.execute(f"SELECT count(*) FROM {t}")[0][0]
            for t in ("agg_minute", "agg_hour", "agg_day")
        },
    }
    assert counts() == {"readings": 6, "agg_minute": 2, "agg_hour": 1, "agg_day": 1}
    put(store, [(old + 8 * DAY_S, 1.0)])  # a newer reading (it stays: the newest row)
    history.compact(old + 8 * DAY_S + 120, retention=True)
    assert counts()["readings"] == 1 and counts()["agg_minute"] == 3
    history.compact(old + 91 * DAY_S, retention=True)
    assert counts() == {"readings": 1, "agg_minute": 1, "agg_hour": 2, "agg_day": 2}
    stats = history.compact(old + 731 * DAY_S, retention=True)
    assert stats.hours_deleted == 1
    assert counts() == {"readings": 1, "agg_minute": 0, "agg_hour": 1, "agg_day": 2}
    # by default, retention runs at most once an hour
    assert history.compact(old + 731 * DAY_S + 60).raw_deleted == 0


def test_raw_readings_of_an_open_minute_are_kept(store: Store) -> None:
    history = History(store, close_delay_s=0.0, raw_days=0.0001)
    put(store, [(T + 1, 1.0), (T + 2, 2.0), (T + 3, 3.0)])
    history.compact(T + 30, retention=True)  # the minute is still open
    assert store.count_readings() == 3
    history.compact(T + 61, retention=True)
    assert history.series("PT-101", "minute", T, T + 60)[0]["count"] == 3


def test_only_known_tags_are_pushed(store: Store) -> None:
    history = History(store, close_delay_s=0.0, push_tags=lambda: {"PT-101"})
    put(store, [(T, 1.0)])
    put(store, [(T, 2.0)], tag="XX-9")
    stats = history.compact(T + 60)
    assert (stats.minutes, stats.items) == (2, 1)
    assert [a["tag"] for a in aggs(store)] == ["PT-101"]
    quiet = History(open_store(":memory:"), push=False)
    put(quiet.store, [(T, 1.0)])
    assert quiet.compact(T + 120).items == 0


def test_delivered_items_are_purged(store: Store) -> None:
    history = History(store, keep_sent_s=DAY_S)
    store.add_outbox([OutboxItem(f"k{i}", "heartbeat", "2026-11-22T08:00:00Z") for i in range(3)])
    ids = [r[0] for r in store.execute("SELECT id FROM outbox ORDER BY id")]
    store.mark_sent(ids[:2], at=T - 2 * DAY_S)
    assert history.compact(T, retention=True).sent_deleted == 2
    assert store.outbox_counts() == {"pending": 1, "rejected": 0}


def test_ids_starting_again_are_noticed(store: Store) -> None:
    history = History(store, close_delay_s=0.0)
    for i in range(5):  # five messages
        put(store, [(T + i, 1.0)])
    history.compact(T + 60)
    # the store emptied by hand: each backend keeps its readings its own way
    table = "readings" if store.dialect == "postgresql" else "reading_chunks"
    store.execute(f"DELETE FROM {table}")
    put(store, [(T + 120, 2.0)])  # id 1 again
    assert history.compact(T + 200).minutes == 1


def test_bad_resolution(store: Store) -> None:
    with pytest.raises(ValueError):
        History(store).series("PT-101", "week", T, T + 1)
    assert History(store).series("PT-101", "raw", T, T + 1) == []


def test_minutes_are_floored_not_rounded(store: Store) -> None:
    history = History(store, close_delay_s=0.0)
    put(store, [(T + 59.9, 1.0), (T + 60.4, 2.0)])  # PostgreSQL's CAST would round
    history.compact(T + 180)
    got = history.series("PT-101", "minute", T, T + 120)
    assert [(g["start"], g["count"], g["last"]) for g in got] == [(T, 1, 1.0), (T + 60, 1, 2.0)]


def test_checkpoint_copies_the_log(tmp_path: Path) -> None:
    ingest = open_store(tmp_path / "c.sqlite3", autocheckpoint=False)
    assert ingest.execute("PRAGMA wal_autocheckpoint")[0][0] == 0
    put(ingest, [(T + i, float(i)) for i in range(2000)])
    other = open_store(tmp_path / "c.sqlite3")
    busy, frames, done = other.checkpoint()
    assert busy == 0 and frames > 0 and done == frames
    with pytest.raises(ValueError):
        other.checkpoint("NOW")
