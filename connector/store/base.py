"""What the two store backends share: the tables, the :class:`Store` interface.

The store is a SQLite file by default (:mod:`connector.store.sqlite`).
Given a ``postgresql://`` (or ``postgres://``) URL instead of a path
(:func:`connector.store.open_store`), the same tables live in that
PostgreSQL database (:mod:`connector.store.postgres`) with the same
guarantees: a committed transaction is durable (``synchronous_commit``
on), a failure is a :class:`StorageError` whichever the backend, a
redelivered reading lands once. SQL given to :meth:`Store.execute` is
written for SQLite (``?`` placeholders); the PostgreSQL backend translates
it. The backends keep the readings their own way; everything else is the
SQL of :class:`Store` here, which both accept. This module imports neither
backend.

Tables
------
``reading_chunks`` (SQLite, :mod:`connector.store.sqlite`)
    Every accepted reading, once, in chunks: one row per insert (usually one
    MQTT message) with the tag, the first and last ``ts`` (at most
    :data:`~connector.store.sqlite.CHUNK_MAX_S` apart), the count, and the readings as columns:
    ``ts`` and ``value`` are little-endian IEEE 754 doubles, ``unit`` and
    ``quality`` the ones they all share, ``seq`` their sequence numbers
    (64-bit integers) and ``extra`` (JSON ``[[unit, quality, seq], ...]``)
    what is less regular (:func:`~connector.store.sqlite.encode_chunk`). One row and one index
    entry per message rather than per reading: on SQLite, the index entry
    per reading cost more than everything else ingestion does. A reading
    is identified by ``(tag, ts, seq)``; a redelivered message, a late one
    repeating stored readings, or the same reading twice in a payload is
    recognised (:meth:`Store.insert_readings`) and not stored again. Read them with
    :meth:`Store.tag_readings`, :meth:`Store.iter_readings` and
    :meth:`Store.reading_cursor` (the PostgreSQL store keeps a row per
    reading behind the same methods).
``ticks``
    FLEXO tick payloads as received, unique on ``(machine_id, ts)``.
``dead_letters``
    Payloads that could not be decoded, with the reason. The same topic and
    payload is one row whose ``count`` grows, so a sensor repeating garbage
    does not fill the disk.
``outbox``
    Items for Odoo: ``key`` is unique (an item produced twice is stored
    once); ``status`` is ``pending``, ``sent`` or ``rejected`` (with
    ``reason``); ``attempts`` counts failed pushes.
``alert_state``
    Open/cleared state per ``(tag, alert_type)``, so a restart does not
    raise an alert again.
``kv``
    Small values such as the last connector configuration pulled from Odoo,
    the FLEXO engine's state per machine and the history cursor.
``agg_minute``, ``agg_hour``, ``agg_day``
    The local history tiers (:mod:`connector.store.history`): per tag and period,
    ``n`` readings, their ``total``, ``vmin``, ``vmax`` and the last value
    ``vlast`` (at ``last_ts``). ``agg_pending`` lists the minutes that
    received readings since they were last aggregated, ``agg_dirty`` the
    hours and days to roll up again, ``series`` every tag seen.

Callers group the writes caused by one MQTT message (or a small batch of
them) in :meth:`Store.transaction`; the message is acknowledged to the
broker only after that transaction commits. One :class:`Store` is used by
one thread at a time (an internal lock enforces it); the pusher thread opens
its own.

The SQL of this module and of :mod:`connector.store.history` is written so that
SQLite and PostgreSQL both accept it (``coalesce``, ``INSERT ... ON
CONFLICT``), except ``ifnull``, which :mod:`connector.store.postgres` translates to
``coalesce``; what differs is in :mod:`connector.store.postgres`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

from ..ingest.schema import Reading
from ..push.items import OutboxItem

SCHEMA_VERSION = 3
#: Items whose ``status`` is one of these.
OUTBOX_STATUSES = ("pending", "sent", "rejected")

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS ticks (
    id INTEGER PRIMARY KEY,
    machine_id TEXT NOT NULL,
    ts REAL NOT NULL,
    shift TEXT,
    site TEXT,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    UNIQUE (machine_id, ts)
);

CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    last_at REAL NOT NULL,
    count INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    ts TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'rejected')),
    reason TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_rejected ON outbox (id) WHERE status = 'rejected';
CREATE INDEX IF NOT EXISTS outbox_sent_at ON outbox (sent_at) WHERE status = 'sent';

CREATE TABLE IF NOT EXISTS alert_state (
    tag TEXT NOT NULL,
    alert_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'cleared')),
    severity TEXT,
    raised_ts REAL,
    last_emit_ts REAL,
    active_count INTEGER NOT NULL DEFAULT 0,
    clear_since REAL,
    value REAL,
    message TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (tag, alert_type)
);

CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS agg_minute (
    tag TEXT NOT NULL,
    start REAL NOT NULL,
    n INTEGER NOT NULL,
    total REAL NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    vlast REAL NOT NULL,
    last_ts REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tag, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agg_hour (
    tag TEXT NOT NULL,
    start REAL NOT NULL,
    n INTEGER NOT NULL,
    total REAL NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    vlast REAL NOT NULL,
    last_ts REAL NOT NULL,
    PRIMARY KEY (tag, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agg_day (
    tag TEXT NOT NULL,
    start REAL NOT NULL,
    n INTEGER NOT NULL,
    total REAL NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    vlast REAL NOT NULL,
    last_ts REAL NOT NULL,
    PRIMARY KEY (tag, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agg_pending (
    tag TEXT NOT NULL,
    start REAL NOT NULL,
    PRIMARY KEY (tag, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agg_dirty (
    resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
    tag TEXT NOT NULL,
    start REAL NOT NULL,
    PRIMARY KEY (resolution, tag, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS series (
    tag TEXT PRIMARY KEY,
    first_seen REAL NOT NULL
) WITHOUT ROWID;
"""


def reading_key(r: Reading) -> tuple[float, int]:
    """What identifies a reading of a tag: ``(ts, seq or -1)``."""
    return (r.ts, -1 if r.seq is None else r.seq)


class StorageError(RuntimeError):
    """The local store failed (disk full, file locked, corrupt database).

    This is not an input problem: the daemon stops rather than acknowledge
    a message it could not keep.
    """


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox item as read back for pushing."""

    id: int
    key: str
    type: str
    ts: str
    data: dict[str, Any]
    attempts: int

    def to_rpc(self) -> dict[str, Any]:
        """Return the dict sent over JSON-RPC."""
        return {"key": self.key, "type": self.type, "ts": self.ts, "data": self.data}


@dataclass(slots=True)
class AlertStateRow:
    """Persisted state of one ``(tag, alert_type)`` alert aggregator."""

    tag: str
    alert_type: str
    open: bool = False
    severity: str | None = None
    raised_ts: float | None = None
    last_emit_ts: float | None = None
    active_count: int = 0
    clear_since: float | None = None
    value: float | None = None
    message: str | None = None


class _Connection(Protocol):
    """What :class:`_Savepoint` needs of a connection (sqlite3's, or
    :class:`connector.store.postgres.PgConnection`)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...


class _Savepoint:
    """Context manager of :meth:`Store.savepoint`."""

    __slots__ = ("_db", "_name")

    def __init__(self, db: _Connection, name: str) -> None:
        self._db = db
        self._name = name

    def __enter__(self) -> None:
        self._db.execute(f"SAVEPOINT {self._name}")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._db.execute(f"ROLLBACK TO {self._name}")
        self._db.execute(f"RELEASE {self._name}")


class Store(ABC):
    """The connector's database: what both backends answer, and the SQL they share.

    Open one with :func:`connector.store.open_store`: a file path gives a
    :class:`~connector.store.sqlite.SqliteStore`, a ``postgresql://`` URL a
    :class:`~connector.store.postgres.PostgresStore`. A backend sets
    :attr:`dialect` and :attr:`errors`, opens ``_db`` (a connection with
    SQLite's ``execute``, ``executemany``, ``total_changes`` and ``close``)
    and implements the abstract methods: how it keeps the readings, and its
    checkpoint.
    """

    #: ``sqlite`` or ``postgresql``: for the few statements written per dialect.
    dialect: str = ""
    #: The errors of the backend's driver. Inside :meth:`transaction` they
    #: come out as :class:`StorageError`; code that must let a storage
    #: failure through (the pipeline: it is never a dead letter) catches
    #: ``store.errors``.
    errors: tuple[type[Exception], ...] = ()
    path: str
    _db: Any
    _lock: threading.RLock
    _in_tx: bool

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Copy the write-ahead log into the database (SQLite); returns
        ``(busy, log frames, frames checkpointed)``."""

    @abstractmethod
    def journal_mode(self) -> str:
        """Return the journal mode (``wal`` on SQLite, ``postgresql``)."""

    # -- transactions --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes into one committed unit.

        The block's writes are committed together when it exits normally
        and rolled back when it raises. The backend's errors come out as
        :class:`StorageError`.
        """
        with self._lock:
            if self._in_tx:
                raise RuntimeError("nested Store.transaction(); use savepoint()")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._check_others()
            except self.errors as exc:
                with suppress(*self.errors):
                    self._db.execute("ROLLBACK")
                raise StorageError(f"cannot begin transaction: {exc}") from exc
            self._in_tx = True
            try:
                yield self
            except BaseException as exc:
                self._in_tx = False
                with suppress(*self.errors):
                    self._db.execute("ROLLBACK")
                if isinstance(exc, self.errors):
                    raise StorageError(f"store write failed: {exc}") from exc
                raise
            else:
                self._in_tx = False
                try:
                    self._db.execute("COMMIT")
                except self.errors as exc:
                    with suppress(*self.errors):
                        self._db.execute("ROLLBACK")
                    raise StorageError(f"commit failed: {exc}") from exc

    @abstractmethod
    def _check_others(self) -> None:
        """At the start of each transaction: forget what this connection
        knows of the readings if another one inserted some (a backend that
        keeps nothing has nothing to do)."""

    def savepoint(self, name: str = "msg") -> _Savepoint:
        """Undo the block's writes alone when it raises (inside a transaction).

        Used as ``with store.savepoint(): ...``. The backend's errors are re-raised
        untouched so that the enclosing :meth:`transaction` turns them into
        :class:`StorageError`. (A small class rather than a generator: the
        pipeline opens one per message.)
        """
        return _Savepoint(self._db, name)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """Run writes inside the caller's transaction, or in a new one."""
        with self._lock:  # re-entrant: only our own open transaction passes
            if self._in_tx:
                yield
            else:
                with self.transaction():
                    yield

    # -- readings: each backend keeps them its own way --------------------------

    @abstractmethod
    def insert_readings(
        self, readings: Sequence[Reading], received_at: float, site: str | None = None
    ) -> list[bool]:
        """Insert readings; return for each whether it was new (not a duplicate).

        A reading is a duplicate when the store holds one of the same tag
        with the same ``ts`` and ``seq`` (:func:`reading_key`), or when it
        came earlier in *readings*.
        """

    @abstractmethod
    def tag_readings(self, tag: str, start: float, end: float) -> list[Reading]:
        """Return *tag*'s readings with ``start <= ts < end``, in ``ts``
        order (then ``seq``)."""

    @abstractmethod
    def reading_cursor(self) -> int:
        """Return the cursor after the last stored reading (see :meth:`iter_readings`)."""

    @abstractmethod
    def iter_readings(
        self, after: int = 0, upto: int | None = None, page: int = 1000
    ) -> Iterator[Reading]:
        """Yield the readings stored after cursor *after* (up to cursor
        *upto*), in the order they were stored."""

    @abstractmethod
    def reading_minutes(self, after: int, upto: int) -> set[tuple[str, float]]:
        """Return ``(tag, start of the minute)`` of every reading stored
        between cursors *after* and *upto*."""

    @abstractmethod
    def count_readings(self) -> int:
        """Return how many readings the store holds."""

    @abstractmethod
    def delete_readings_before(self, tag: str, cutoff: float) -> int:
        """Delete *tag*'s readings with ``ts < cutoff``; return how many (the
        newest reading of the store stays, so that cursors never start
        again). In the caller's transaction, or in a new one."""

    # -- ticks, dead letters --------------------------------------------------

    def insert_tick(
        self,
        machine_id: str,
        ts: float,
        shift: str | None,
        payload: str,
        received_at: float,
        site: str | None = None,
    ) -> bool:
        """Insert a FLEXO tick; return False when it was already stored."""
        with self._write():
            cur = self._db.execute(
                "INSERT INTO ticks "
                "(machine_id, ts, shift, site, payload, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (machine_id, ts, shift, site, payload, received_at),
            )
        return cur.rowcount == 1

    def add_dead_letter(
        self, topic: str, payload: bytes, reason: str, kind: str, at: float
    ) -> None:
        """Keep a refused payload with its reason (same payload: count + 1)."""
        digest = hashlib.sha256(topic.encode("utf-8") + b"\0" + payload).hexdigest()
        with self._write():
            self._db.execute(
                "INSERT INTO dead_letters "
                "(digest, topic, payload, reason, kind, at, last_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (digest) DO UPDATE SET count = dead_letters.count + 1, "
                "last_at = excluded.last_at",
                (digest, topic, payload, reason, kind, at, at),
            )

    # -- outbox --------------------------------------------------------------

    def add_outbox(self, items: Iterable[OutboxItem], now: float | None = None) -> int:
        """Queue items for Odoo; an item whose key exists is ignored.

        Returns
        -------
        int
            How many items were new.
        """
        created = time.time() if now is None else now
        n = 0
        with self._write():
            for item in items:
                cur = self._db.execute(
                    "INSERT INTO outbox (key, type, ts, data, created_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        item.key,
                        item.type,
                        item.ts,
                        json.dumps(item.data, separators=(",", ":"), allow_nan=False),
                        created,
                    ),
                )
                n += cur.rowcount
        return n

    def outbox_counts(self) -> dict[str, int]:
        """Return the number of pending and rejected items (indexed, cheap)."""
        with self._lock:
            pending = self._db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'pending'"
            ).fetchone()[0]
            rejected = self._db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'rejected'"
            ).fetchone()[0]
        return {"pending": int(pending), "rejected": int(rejected)}

    def purge_sent(self, before: float) -> int:
        """Delete delivered items sent before *before*; return how many."""
        with self._write():
            cur = self._db.execute(
                "DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?", (before,)
            )
        return int(cur.rowcount)

    def pending_stats(self) -> tuple[int, float | None]:
        """Return (number of pending items, ``created_at`` of the oldest)."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return int(row[0]), row[1]

    def has_pending(self, types: Sequence[str]) -> bool:
        """Whether an item of one of *types* is pending."""
        if not types:
            return False
        marks = ", ".join("?" * len(types))
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM outbox WHERE status = 'pending' " f"AND type IN ({marks}) LIMIT 1",
                tuple(types),
            ).fetchone()
        return row is not None

    def fetch_pending(self, limit: int, types: Sequence[str] | None = None) -> list[OutboxRow]:
        """Return up to *limit* pending items, oldest first (only those of
        *types*, when given)."""
        where = "status = 'pending'"
        params: tuple[str, ...] = ()
        if types:
            where += f" AND type IN ({', '.join('?' * len(types))})"
            params = tuple(types)
        with self._lock:
            rows = self._db.execute(
                "SELECT id, key, type, ts, data, attempts FROM outbox "
                f"WHERE {where} ORDER BY id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [
            OutboxRow(id=r[0], key=r[1], type=r[2], ts=r[3], data=json.loads(r[4]), attempts=r[5])
            for r in rows
        ]

    def mark_sent(self, ids: Sequence[int], at: float | None = None) -> None:
        """Mark items as delivered (Odoo answered accepted or duplicate)."""
        sent_at = time.time() if at is None else at
        with self._write():
            self._db.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, reason = NULL WHERE id = ?",
                [(sent_at, i) for i in ids],
            )

    def mark_rejected(self, rejected: Sequence[tuple[int, str]]) -> None:
        """Set items aside as rejected, each with its reason; they stay stored."""
        with self._write():
            self._db.executemany(
                "UPDATE outbox SET status = 'rejected', reason = ? WHERE id = ?",
                [(reason, i) for i, reason in rejected],
            )

    def bump_attempts(self, ids: Sequence[int], error: str) -> None:
        """Count a failed push of these items and remember the last error."""
        with self._write():
            self._db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, reason = ? WHERE id = ?",
                [(error[:1000], i) for i in ids],
            )

    def requeue_rejected(self) -> int:
        """Put every rejected item back to pending; return how many."""
        with self._write():
            cur = self._db.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0 WHERE status = 'rejected'"
            )
        return cur.rowcount

    # -- alert state ---------------------------------------------------------

    def save_alert_state(self, state: AlertStateRow, now: float | None = None) -> None:
        """Insert or replace the state of one ``(tag, alert_type)``."""
        with self._write():
            self._db.execute(
                "INSERT INTO alert_state (tag, alert_type, state, "
                "severity, raised_ts, last_emit_ts, active_count, clear_since, "
                "value, message, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (tag, alert_type) DO UPDATE SET state = excluded.state, "
                "severity = excluded.severity, raised_ts = excluded.raised_ts, "
                "last_emit_ts = excluded.last_emit_ts, active_count = excluded.active_count, "
                "clear_since = excluded.clear_since, value = excluded.value, "
                "message = excluded.message, updated_at = excluded.updated_at",
                (
                    state.tag,
                    state.alert_type,
                    "open" if state.open else "cleared",
                    state.severity,
                    state.raised_ts,
                    state.last_emit_ts,
                    state.active_count,
                    state.clear_since,
                    state.value,
                    state.message,
                    time.time() if now is None else now,
                ),
            )

    def load_alert_states(self) -> list[AlertStateRow]:
        """Return every persisted alert state."""
        with self._lock:
            rows = self._db.execute(
                "SELECT tag, alert_type, state, severity, raised_ts, last_emit_ts, "
                "active_count, clear_since, value, message FROM alert_state"
            ).fetchall()
        return [
            AlertStateRow(
                tag=r[0],
                alert_type=r[1],
                open=r[2] == "open",
                severity=r[3],
                raised_ts=r[4],
                last_emit_ts=r[5],
                active_count=r[6],
                clear_since=r[7],
                value=r[8],
                message=r[9],
            )
            for r in rows
        ]

    # -- key/value -----------------------------------------------------------

    def set_json(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under *key*."""
        with self._write():
            self._db.execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, json.dumps(value), time.time()),
            )

    def get_json(self, key: str) -> Any:
        """Return the value stored under *key*, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    # -- reporting -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Return the row counts that ``python -m connector status`` prints."""
        with self._lock:
            q = self._db.execute
            outbox = dict(q("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
            dl_rows, dl_total = q(
                "SELECT count(*), coalesce(sum(count), 0) FROM dead_letters"
            ).fetchone()
            return {
                "readings": self.count_readings(),
                "ticks": q("SELECT count(*) FROM ticks").fetchone()[0],
                "outbox_pending": outbox.get("pending", 0),
                "outbox_sent": outbox.get("sent", 0),
                "outbox_rejected": outbox.get("rejected", 0),
                "dead_letters": dl_rows,
                "dead_letter_messages": dl_total,
                "open_alerts": q(
                    "SELECT count(*) FROM alert_state WHERE state = 'open'"
                ).fetchone()[0],
            }

    def dead_letter_total(self) -> int:
        """Return how many refused messages were received (repeats included)."""
        with self._lock:
            return int(
                self._db.execute("SELECT coalesce(sum(count), 0) FROM dead_letters").fetchone()[0]
            )

    def dead_letters_by_kind(self) -> dict[str, int]:
        """Return how many refused messages were received, by kind."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, coalesce(sum(count), 0) FROM dead_letters GROUP BY kind"
            ).fetchall()
        return {str(kind): int(n) for kind, n in rows}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return all rows.

        Used for reads (tests, diagnostics, :mod:`connector.store.history`) and,
        inside :meth:`transaction`, for writes of the history tiers. *sql*
        is SQLite's (``?`` placeholders); on PostgreSQL it is translated
        (:func:`connector.store.postgres.translate`).
        """
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement per row of *rows* (in the caller's transaction,
        or in a new one); return the number of rows changed."""
        with self._write():
            before = self._db.total_changes
            self._db.executemany(sql, rows)
            return int(self._db.total_changes - before)
