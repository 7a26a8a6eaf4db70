"""The store: WAL, idempotent inserts, transactions, durability.

Tests taking ``store_target`` run on a SQLite file and on PostgreSQL (see
``conftest.py``); the PostgreSQL-only ones are in ``test_store_pg.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.ingest.schema import Reading, ReadingBatch
from connector.push.items import OutboxItem
from connector.store import AlertStateRow, StorageError, open_store
from connector.store.sqlite import chunk_readings, encode_chunk

T0 = 1795334400.0


def reading(i: int, seq: int | None = None, tag: str = "PT-101") -> Reading:
    return Reading(tag, T0 + i, 5.0 + i, "bar", None, seq)


def item(key: str, **data: object) -> OutboxItem:
    return OutboxItem(key, "alert_raised", "2026-11-22T08:00:00Z", dict(data))


def test_wal_mode_and_tables(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.sqlite3") as store:
        assert store.journal_mode() == "wal"
        assert store.execute("PRAGMA synchronous")[0][0] == 2  # FULL
        tables = {
            r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert {"reading_chunks", "dead_letters", "outbox", "alert_state", "kv", "ticks"} <= tables


def test_redelivered_readings_are_stored_once(store_target: str) -> None:
    with open_store(store_target) as store:
        batch = [reading(0), reading(1, seq=7), reading(1, seq=8)]
        assert store.insert_readings(batch, T0) == [True, True, True]
        # the same message again (MQTT redelivery), with and without seq
        assert store.insert_readings(batch, T0 + 5) == [False, False, False]
        assert store.insert_readings([reading(2)], T0) == [True]
        assert store.counts()["readings"] == 4


def batch(*stamps: float, tag: str = "PT-101") -> ReadingBatch:
    """A decoded plain array: readings at T0 + each of *stamps*."""
    return ReadingBatch(
        tag, [T0 + t for t in stamps], [float(t) for t in stamps], ["bar"] * len(stamps)
    )


def test_readings_come_back_as_stored(store_target: str) -> None:
    """Columns, seq, quality and mixed units survive the chunk format; cursors
    give the readings stored after them, in the order stored."""
    with open_store(store_target) as store:
        store.insert_readings(batch(0, 1, 2), T0, "plant")
        cursor = store.reading_cursor()
        odd = [
            Reading("PT-101", T0 + 5, 1.5, "bar", "uncertain", 3),
            Reading("PT-101", T0 + 4, -2.0, "mbar", None, None),
            Reading("TT-201", T0 + 4, 20.25, "°C", None, 9),
        ]
        assert store.insert_readings(odd, T0) == [True, True, True]
        store.insert_readings(ReadingBatch("TT-201", [T0 + 7, T0 + 8], [1.0, 2.0], ["K", "°C"]), T0)
        # as the simulator sends them: quality and seq on every reading
        full = ReadingBatch(
            "TT-201", [T0 + 9, T0 + 10], [3.0, 4.0], ["K"] * 2, ["good"] * 2, [1, 2]
        )
        store.insert_readings(full, T0)
        assert list(store.iter_readings()) == [
            *batch(0, 1, 2),
            *odd,
            Reading("TT-201", T0 + 7, 1.0, "K"),
            Reading("TT-201", T0 + 8, 2.0, "°C"),
            Reading("TT-201", T0 + 9, 3.0, "K", "good", 1),
            Reading("TT-201", T0 + 10, 4.0, "K", "good", 2),
        ]
        assert list(store.iter_readings(cursor, page=1)) == list(store.iter_readings())[3:]
        assert list(store.iter_readings(store.reading_cursor())) == []
        # a tag's period: [start, end), in ts order
        assert [r.ts - T0 for r in store.tag_readings("PT-101", T0 + 1, T0 + 5)] == [1, 2, 4]
        assert store.tag_readings("PT-101", T0 + 6, T0 + 9) == []
        assert store.count_readings() == 10


readings_of_one_tag = st.lists(
    st.builds(
        Reading,
        st.just("PT-101"),
        st.floats(min_value=1.0, max_value=9e10),
        st.floats(allow_nan=False),
        st.sampled_from(["bar", "°C"]),
        st.sampled_from([None, "good", "bad"]),
        st.one_of(st.none(), st.integers(min_value=0, max_value=2**63 - 1)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(readings_of_one_tag, st.booleans())
def test_a_chunk_gives_back_its_readings(readings: list[Reading], as_batch: bool) -> None:
    """Whatever units, qualities and seq numbers readings have, their chunk
    gives them back unchanged, in order (as a list or as decoded columns)."""
    if as_batch:
        given_: Sequence[Reading] = ReadingBatch(
            "PT-101",
            [r.ts for r in readings],
            [r.value for r in readings],
            [r.unit for r in readings],
            [r.quality for r in readings],
            [r.seq for r in readings],
        )
    else:
        given_ = readings
    tag, stamps, data = encode_chunk(given_)
    assert tag == "PT-101" and list(stamps) == [r.ts for r in readings]
    assert chunk_readings(tag, *data) == readings


def test_minutes_of_the_readings_after_a_cursor(store_target: str) -> None:
    with open_store(store_target) as store:
        store.insert_readings(batch(1, 2, 3), T0)  # T0 starts a minute
        cursor = store.reading_cursor()
        store.insert_readings(batch(50, 70, 130), T0)  # three minutes in one message
        store.insert_readings(batch(5, tag="TT-201"), T0)
        top = store.reading_cursor()
        assert store.reading_minutes(0, cursor) == {("PT-101", T0)}
        assert store.reading_minutes(cursor, top) == {
            ("PT-101", T0),
            ("PT-101", T0 + 60),
            ("PT-101", T0 + 120),
            ("TT-201", T0),
        }
        assert store.reading_minutes(top, top) == set()


def test_repeated_readings_are_recognised(store_target: str) -> None:
    """Redelivered, overlapping and late messages, and repeats inside one."""
    with open_store(store_target) as store:
        assert store.insert_readings(batch(0, 1, 2, 3), T0) == [True] * 4
        assert store.insert_readings(batch(0, 1, 2, 3), T0) == [False] * 4  # redelivered
        assert store.insert_readings(batch(2, 3, 4, 5), T0) == [False, False, True, True]
        assert store.insert_readings(batch(1.5, 9), T0) == [True, True]  # late, between
        assert store.insert_readings(batch(7, 7, 8), T0) == [True, False, True]  # repeat inside
        assert store.insert_readings(batch(4, tag="TT-201"), T0) == [True]  # another tag
        again = [reading(9, seq=1), reading(9, seq=2), reading(9, seq=1)]
        assert store.insert_readings(again, T0) == [True, True, False]  # seq tells them apart
        stored = [r.ts - T0 for r in store.tag_readings("PT-101", T0, T0 + 100)]
        assert stored == [0, 1, 1.5, 2, 3, 4, 5, 7, 8, 9, 9, 9]
        assert store.count_readings() == 13


def test_a_long_message_is_cut_into_chunks(tmp_path: Path) -> None:
    from connector.store.sqlite import CHUNK_MAX_S

    hours = [i * 600.0 for i in range(19)]  # three hours of ten-minute readings
    with open_store(tmp_path / "s.sqlite3") as store:
        assert store.insert_readings(batch(*hours), T0) == [True] * 19
        spans = store.execute("SELECT ts_last - ts_first, n FROM reading_chunks")
        assert len(spans) > 1 and all(span <= CHUNK_MAX_S for span, _ in spans)
        assert sum(n for _, n in spans) == 19
        assert [r.ts - T0 for r in store.tag_readings("PT-101", T0, T0 + 4 * 3600)] == hours
        assert store.insert_readings(batch(*hours), T0) == [False] * 19


def test_a_reading_written_by_another_connection_is_known(tmp_path: Path) -> None:
    """The insert's knowledge of each tag's last reading is dropped when
    another connection wrote to the file."""
    path = tmp_path / "s.sqlite3"
    with open_store(path) as ours, open_store(path) as other:
        ours.insert_readings(batch(0, 1), T0)
        other.insert_readings(batch(2, 3), T0)
        assert ours.insert_readings(batch(2, 3, 4), T0) == [False, False, True]
        assert other.insert_readings(batch(4, 5), T0) == [False, True]


def test_old_readings_are_deleted_to_the_reading(store_target: str) -> None:
    with open_store(store_target) as store:
        store.insert_readings(batch(0, 1, 2, 3, 4, 5), T0)
        store.insert_readings(batch(0, 1, tag="TT-201"), T0)
        store.insert_readings(batch(6, 7), T0)
        assert store.delete_readings_before("PT-101", T0 + 4) == 4
        assert [r.ts - T0 for r in store.tag_readings("PT-101", T0, T0 + 10)] == [4, 5, 6, 7]
        assert store.count_readings() == 6  # the other tag is untouched
        # the newest reading of the store stays (on SQLite, with its chunk), so
        # that the store's cursor never starts again
        deleted = store.delete_readings_before("PT-101", T0 + 100)
        left = [r.ts - T0 for r in store.tag_readings("PT-101", T0, T0 + 10)]
        assert left[-1:] == [7] and deleted + len(left) == 4
        assert store.insert_readings(batch(4, 5, 7), T0) == [True, True, False]


SCHEMA_2 = """
CREATE TABLE readings (
    id INTEGER PRIMARY KEY, tag TEXT NOT NULL, ts REAL NOT NULL, value REAL NOT NULL,
    unit TEXT NOT NULL, quality TEXT, seq INTEGER, site TEXT, received_at REAL NOT NULL
);
CREATE UNIQUE INDEX readings_dedupe ON readings (tag, ts, ifnull(seq, -1));
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL);
PRAGMA user_version = 2;
"""


def test_a_schema_2_store_is_migrated(tmp_path: Path) -> None:
    """A store written by the previous version (a row per reading) opens
    with its readings, ids and cursors."""
    import sqlite3

    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_2)
    db.executemany(
        "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (3, "PT-101", T0, 1.0, "bar", None, None, "plant", T0),
            (8, "PT-101", T0 + 1, 2.0, "bar", "bad", 5, None, T0),
            (9, "TT-201", T0, 20.0, "°C", None, None, None, T0),
        ],
    )
    db.execute("INSERT INTO kv VALUES ('history_cursor', '8', 0)")
    db.commit()
    db.close()
    with open_store(path) as store:
        assert list(store.iter_readings()) == [
            Reading("PT-101", T0, 1.0, "bar"),
            Reading("PT-101", T0 + 1, 2.0, "bar", "bad", 5),
            Reading("TT-201", T0, 20.0, "°C"),
        ]
        assert list(store.iter_readings(store.get_json("history_cursor"))) == [
            Reading("TT-201", T0, 20.0, "°C")
        ]
        assert store.reading_cursor() == 9
        tables = {r[0] for r in store.execute("SELECT name FROM sqlite_master")}
        assert "readings" not in tables and "readings_dedupe" not in tables
        assert store.insert_readings([Reading("PT-101", T0 + 1, 2.0, "bar", None, 5)], T0) == [
            False
        ]
        assert store.insert_readings([reading(2)], T0) == [True]
        assert store.reading_cursor() == 10


def test_transaction_rolls_back_everything_on_error(store_target: str) -> None:
    with open_store(store_target) as store:
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            store.insert_readings([reading(0)], T0)
            store.add_outbox([item("k1")])
            raise RuntimeError("boom")
        counts = store.counts()
        assert counts["readings"] == 0 and counts["outbox_pending"] == 0


def test_savepoint_undoes_one_message_only(store_target: str) -> None:
    with open_store(store_target) as store:
        with store.transaction():
            store.insert_readings([reading(0)], T0)
            with pytest.raises(ValueError), store.savepoint():
                store.insert_readings([reading(1)], T0)
                raise ValueError("bad message")
            store.insert_readings([reading(2)], T0)
        assert sorted(r.ts for r in store.iter_readings()) == [T0, T0 + 2]


def test_database_errors_become_storage_errors(store_target: str) -> None:
    with (
        open_store(store_target) as store,
        pytest.raises(StorageError),
        store.transaction(),
    ):
        store.execute("INSERT INTO nope VALUES (1)")


def test_committed_data_survives_reopen(store_target: str) -> None:
    path = store_target
    with open_store(path) as store, store.transaction():
        store.insert_readings([reading(0)], T0)
        store.add_outbox([item("k1", tag="PT-101")])
        store.save_alert_state(
            AlertStateRow(
                "PT-101",
                "rule_violation",
                open=True,
                severity="warning",
                raised_ts=T0,
                active_count=2,
            )
        )
        store.set_json("connector_config", {"version": "v1"})
    with open_store(path) as store:
        assert store.counts()["readings"] == 1
        [row] = store.fetch_pending(10)
        assert (row.key, row.data) == ("k1", {"tag": "PT-101"})
        [state] = store.load_alert_states()
        assert state.open and state.active_count == 2 and state.raised_ts == T0
        assert store.get_json("connector_config") == {"version": "v1"}
        assert store.get_json("missing") is None


def test_outbox_key_is_unique_and_status_flow(store_target: str) -> None:
    with open_store(store_target) as store:
        assert store.add_outbox([item("a"), item("b"), item("c")], now=100.0) == 3
        assert store.add_outbox([item("a"), item("d")], now=101.0) == 1
        assert store.pending_stats() == (4, 100.0)
        rows = store.fetch_pending(2)
        assert [r.key for r in rows] == ["a", "b"]  # oldest first
        store.mark_sent([rows[0].id], at=102.0)
        store.mark_rejected([(rows[1].id, "unknown tag")])
        store.bump_attempts([r.id for r in store.fetch_pending(10)], "timeout")
        assert [r.key for r in store.fetch_pending(10)] == ["c", "d"]
        assert all(r.attempts == 1 for r in store.fetch_pending(10))
        c = store.counts()
        assert (c["outbox_pending"], c["outbox_sent"], c["outbox_rejected"]) == (2, 1, 1)
        assert store.execute("SELECT reason FROM outbox WHERE key = 'b'") == [("unknown tag",)]
        assert store.requeue_rejected() == 1
        assert store.pending_stats()[0] == 3


def test_dead_letters_count_repeats(store_target: str) -> None:
    with open_store(store_target) as store:
        for at in (1.0, 2.0, 3.0):
            store.add_dead_letter("cmms/p/PT-101/reading", b"garbage", "not json", "not json", at)
        store.add_dead_letter("cmms/p/PT-101/reading", b"other", "not json", "not json", 4.0)
        c = store.counts()
        assert (c["dead_letters"], c["dead_letter_messages"]) == (2, 4)
        assert store.execute(
            "SELECT count, at, last_at FROM dead_letters WHERE payload = ?", (b"garbage",)
        ) == [(3, 1.0, 3.0)]


def test_ticks_are_deduplicated(store_target: str) -> None:
    with open_store(store_target) as store:
        assert store.insert_tick("FLEXO_104", T0, "A", "{}", T0)
        assert not store.insert_tick("FLEXO_104", T0, "A", "{}", T0 + 1)
        assert store.insert_tick("FLEXO_104", T0 + 60, "A", "{}", T0)


def test_two_connections_share_the_file(store_target: str) -> None:
    path = store_target
    with open_store(path) as writer, open_store(path) as pusher:
        writer.add_outbox([item("a")])
        [row] = pusher.fetch_pending(5)
        pusher.mark_sent([row.id])
        assert writer.counts()["outbox_sent"] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with open_store(path) as store:
        store.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="newer"):
        open_store(path)


WRITER = textwrap.dedent("""
    import sys, time
    from connector.ingest.schema import Reading, ReadingBatch
    from connector.store import open_store
    store = open_store(sys.argv[1])
    for i in range(100000):
        with store.transaction():
            store.insert_readings([Reading("PT-101", 1e9 + i, float(i), "bar")], 0.0)
        print(i, flush=True)   # reported only after COMMIT returned
""")


def test_commit_survives_sigkill(store_target: str) -> None:
    """Every reading reported as committed is there after a hard kill."""
    path = store_target
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    last = -1
    for line in proc.stdout:
        last = int(line)
        if last >= 150:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    with open_store(path) as store:
        stored = store.counts()["readings"]
    assert stored >= last + 1 >= 151
