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
from pathlib import Path

import pytest

from connector.items import OutboxItem
from connector.schema import Reading
from connector.store import AlertStateRow, StorageError, Store

T0 = 1795334400.0


def reading(i: int, seq: int | None = None, tag: str = "PT-101") -> Reading:
    return Reading(tag, T0 + i, 5.0 + i, "bar", None, seq)


def item(key: str, **data: object) -> OutboxItem:
    return OutboxItem(key, "alert_raised", "2026-11-22T08:00:00Z", dict(data))


def test_wal_mode_and_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite3") as store:
        assert store.journal_mode() == "wal"
        assert store.execute("PRAGMA synchronous")[0][0] == 2  # FULL
        tables = {
            r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert {"readings", "dead_letters", "outbox", "alert_state", "kv", "ticks"} <= tables


def test_redelivered_readings_are_stored_once(store_target: str) -> None:
    with Store(store_target) as store:
        batch = [reading(0), reading(1, seq=7), reading(1, seq=8)]
        assert store.insert_readings(batch, T0) == [True, True, True]
        # the same message again (MQTT redelivery), with and without seq
        assert store.insert_readings(batch, T0 + 5) == [False, False, False]
        assert store.insert_readings([reading(2)], T0) == [True]
        assert store.counts()["readings"] == 4


def test_transaction_rolls_back_everything_on_error(store_target: str) -> None:
    with Store(store_target) as store:
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            store.insert_readings([reading(0)], T0)
            store.add_outbox([item("k1")])
            raise RuntimeError("boom")
        counts = store.counts()
        assert counts["readings"] == 0 and counts["outbox_pending"] == 0


def test_savepoint_undoes_one_message_only(store_target: str) -> None:
    with Store(store_target) as store:
        with store.transaction():
            store.insert_readings([reading(0)], T0)
            with pytest.raises(ValueError), store.savepoint():
                store.insert_readings([reading(1)], T0)
                raise ValueError("bad message")
            store.insert_readings([reading(2)], T0)
        assert [r[0] for r in store.execute("SELECT ts FROM readings ORDER BY ts")] == [T0, T0 + 2]


def test_database_errors_become_storage_errors(store_target: str) -> None:
    with (
        Store(store_target) as store,
        pytest.raises(StorageError),
        store.transaction(),
    ):
        store.execute("INSERT INTO nope VALUES (1)")


def test_committed_data_survives_reopen(store_target: str) -> None:
    path = store_target
    with Store(path) as store, store.transaction():
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
    with Store(path) as store:
        assert store.counts()["readings"] == 1
        [row] = store.fetch_pending(10)
        assert (row.key, row.data) == ("k1", {"tag": "PT-101"})
        [state] = store.load_alert_states()
        assert state.open and state.active_count == 2 and state.raised_ts == T0
        assert store.get_json("connector_config") == {"version": "v1"}
        assert store.get_json("missing") is None


def test_outbox_key_is_unique_and_status_flow(store_target: str) -> None:
    with Store(store_target) as store:
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
    with Store(store_target) as store:
        for at in (1.0, 2.0, 3.0):
            store.add_dead_letter("cmms/p/PT-101/reading", b"garbage", "not json", "not json", at)
        store.add_dead_letter("cmms/p/PT-101/reading", b"other", "not json", "not json", 4.0)
        c = store.counts()
        assert (c["dead_letters"], c["dead_letter_messages"]) == (2, 4)
        assert store.execute(
            "SELECT count, at, last_at FROM dead_letters WHERE payload = ?", (b"garbage",)
        ) == [(3, 1.0, 3.0)]


def test_ticks_are_deduplicated(store_target: str) -> None:
    with Store(store_target) as store:
        assert store.insert_tick("FLEXO_104", T0, "A", "{}", T0)
        assert not store.insert_tick("FLEXO_104", T0, "A", "{}", T0 + 1)
        assert store.insert_tick("FLEXO_104", T0 + 60, "A", "{}", T0)


def test_two_connections_share_the_file(store_target: str) -> None:
    path = store_target
    with Store(path) as writer, Store(path) as pusher:
        writer.add_outbox([item("a")])
        [row] = pusher.fetch_pending(5)
        pusher.mark_sent([row.id])
        assert writer.counts()["outbox_sent"] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Store(path) as store:
        store.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="newer"):
        Store(path)


WRITER = textwrap.dedent("""
    import sys, time
    from connector.schema import Reading
    from connector.store import Store
    store = Store(sys.argv[1])
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
    with Store(path) as store:
        stored = store.counts()["readings"]
    assert stored >= last + 1 >= 151
