"""Durable local store: SQLite in WAL mode with ``synchronous=FULL``, or PostgreSQL.

The store is a SQLite file by default. Given a ``postgresql://`` (or
``postgres://``) URL instead of a path, the same tables live in that
PostgreSQL database (:mod:`connector.store_pg`) with the same guarantees: a
committed transaction is durable (``synchronous_commit`` on), a failure is a
:class:`StorageError`, a redelivered reading lands once. SQL given to
:meth:`Store.execute` is written for SQLite (``?`` placeholders); the
PostgreSQL backend translates it.

Tables
------
``reading_chunks``
    Every accepted reading, once, in chunks: one row per insert (usually one
    MQTT message) with the tag, the first and last ``ts`` (at most
    :data:`CHUNK_MAX_S` apart), the count, and the readings as columns:
    ``ts`` and ``value`` are little-endian IEEE 754 doubles, ``unit`` and
    ``quality`` the ones they all share, ``seq`` their sequence numbers
    (64-bit integers) and ``extra`` (JSON ``[[unit, quality, seq], ...]``)
    what is less regular (:func:`encode_chunk`). One row and one index
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
    The local history tiers (:mod:`connector.history`): per tag and period,
    ``n`` readings, their ``total``, ``vmin``, ``vmax`` and the last value
    ``vlast`` (at ``last_ts``). ``agg_pending`` lists the minutes that
    received readings since they were last aggregated, ``agg_dirty`` the
    hours and days to roll up again, ``series`` every tag seen.

Callers group the writes caused by one MQTT message (or a small batch of
them) in :meth:`Store.transaction`; the message is acknowledged to the
broker only after that transaction commits. One :class:`Store` is used by
one thread at a time (an internal lock enforces it); the pusher thread opens
its own.

The SQL of this module and of :mod:`connector.history` is written so that
SQLite and PostgreSQL both accept it (``coalesce``, ``INSERT ... ON
CONFLICT``), except ``ifnull``, which :mod:`connector.store_pg` translates to
``coalesce``; what differs is in :mod:`connector.store_pg`.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import struct
import sys
import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, Protocol

from .items import OutboxItem
from .schema import Reading, ReadingBatch
from .util import POSTGRES_SCHEMES, redact_url, store_url_scheme

SCHEMA_VERSION = 3
#: Largest ``ts_last - ts_first`` of a reading chunk (seconds): bounds the
#: index range a period's query scans.
CHUNK_MAX_S = 3600.0
#: Bytes of write-ahead log kept after a checkpoint.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
#: Items whose ``status`` is one of these.
OUTBOX_STATUSES = ("pending", "sent", "rejected")

_SCHEMA = """
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

#: The readings of the SQLite store (the PostgreSQL store has its own).
_SQLITE_READINGS = """
CREATE TABLE IF NOT EXISTS reading_chunks (
    id INTEGER PRIMARY KEY,
    tag TEXT NOT NULL,
    ts_first REAL NOT NULL,
    ts_last REAL NOT NULL,
    n INTEGER NOT NULL,
    site TEXT,
    received_at REAL NOT NULL,
    unit TEXT,
    quality TEXT,
    ts BLOB NOT NULL,
    value BLOB NOT NULL,
    seq BLOB,
    extra TEXT
);
CREATE INDEX IF NOT EXISTS reading_chunks_tag ON reading_chunks (tag, ts_last);
"""
#: A chunk's readings, as :func:`encode_chunk` gives them and
#: :func:`chunk_readings` takes them.
_CHUNK_DATA = "unit, quality, ts, value, seq, extra"
_INSERT_CHUNK = (
    "INSERT INTO reading_chunks "
    f"(tag, ts_first, ts_last, n, site, received_at, {_CHUNK_DATA}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CHUNK_COLUMNS = f"id, tag, n, {_CHUNK_DATA}"
#: Chunks of a tag that may hold a ts in [lo, hi] (params: tag, lo, hi +
#: CHUNK_MAX_S, hi); for a period [start, end) the last bound is compared
#: with < by the caller's filter.
_TAG_CHUNKS = (
    f"SELECT {_CHUNK_COLUMNS} FROM reading_chunks "
    "WHERE tag = ? AND ts_last >= ? AND ts_last < ? AND ts_first <= ?"
)
_IS_LITTLE = sys.byteorder == "little"
_PACK_D, _PACK_Q = struct.Struct("<d").pack, struct.Struct("<q").pack
_as_reading = tuple.__new__
#: What :func:`encode_chunk` gives: unit, quality, ts, value, seq, extra.
ChunkData = tuple[str | None, str | None, bytes, bytes, bytes | None, str | None]


def _pack(numbers: Sequence[float] | Sequence[int], code: str = "d") -> bytes:
    """Doubles (or, code ``q``, 64-bit integers) as little-endian bytes."""
    packed = array(code, numbers)
    if not _IS_LITTLE:  # pragma: no cover - big-endian machines
        packed.byteswap()
    return packed.tobytes()


def _unpack(blob: bytes, code: str = "d") -> array[Any]:
    """The numbers of :func:`_pack`."""
    numbers = array(code)
    numbers.frombytes(blob)
    if not _IS_LITTLE:  # pragma: no cover - big-endian machines
        numbers.byteswap()
    return numbers


def encode_chunk(readings: Sequence[Reading]) -> tuple[str, Sequence[float], ChunkData]:
    """``(tag, times, data)`` of readings of one tag stored as one chunk.

    Times and values are packed doubles. A unit, a quality shared by every
    reading goes in its column, seq numbers present on every reading are
    packed 64-bit integers; anything less regular (units or qualities that
    differ, seq on some readings only) is ``extra``, JSON ``[[unit,
    quality, seq], ...]``.
    """
    if len(readings) == 1:  # the unbatched message
        one = readings[0]
        one_seq = None if one.seq is None else _PACK_Q(one.seq)
        return (
            one.tag,
            (one.ts,),
            (one.unit, one.quality, _PACK_D(one.ts), _PACK_D(one.value), one_seq, None),
        )
    if type(readings) is ReadingBatch:
        tag, stamps, values, units = readings.tag, readings.ts, readings.value, readings.units
        unit, quality, seq = readings.unit, readings.quality, readings.seq
    else:
        tag = readings[0].tag
        stamps = [r.ts for r in readings]
        values = [r.value for r in readings]
        units = [r.unit for r in readings]
        unit = units[0] if units.count(units[0]) == len(units) else None
        quality = [r.quality for r in readings]
        seq = [r.seq for r in readings]
    n = len(stamps)
    shared = None if quality is None else quality[0]
    regular = unit is not None and (quality is None or quality.count(shared) == n)
    packed_seq = None
    if regular and seq is not None and seq.count(None) != n:
        if None in seq:
            regular = False
        else:
            packed_seq = _pack(seq, "q")  # type: ignore[arg-type]
    if regular:
        return tag, stamps, (unit, shared, _pack(stamps), _pack(values), packed_seq, None)
    rest = zip(
        units,
        repeat(None, n) if quality is None else quality,
        repeat(None, n) if seq is None else seq,
        strict=True,
    )
    extra = json.dumps([list(r) for r in rest])
    return tag, stamps, (unit, None, _pack(stamps), _pack(values), None, extra)


def chunk_readings(
    tag: str,
    unit: str | None,
    quality: str | None,
    ts: bytes,
    value: bytes,
    seq: bytes | None,
    extra: str | None,
) -> list[Reading]:
    """The readings of one stored chunk, in their order."""
    stamps, values = _unpack(ts), _unpack(value)
    if extra is not None:
        return [
            _as_reading(Reading, (tag, t, v, u, q, n))
            for t, v, (u, q, n) in zip(stamps, values, json.loads(extra), strict=True)
        ]
    if seq is None:
        return [
            _as_reading(Reading, (tag, t, v, unit, quality, None))
            for t, v in zip(stamps, values, strict=True)
        ]
    return [
        _as_reading(Reading, (tag, t, v, unit, quality, n))
        for t, v, n in zip(stamps, values, _unpack(seq, "q"), strict=True)
    ]


def reading_key(r: Reading) -> tuple[float, int]:
    """What identifies a reading of a tag: ``(ts, seq or -1)``."""
    return (r.ts, -1 if r.seq is None else r.seq)


def chunks(readings: Sequence[Reading]) -> list[Sequence[Reading]]:
    """Cut readings of one tag, in their order, into runs of at most
    :data:`CHUNK_MAX_S` between their smallest and largest ``ts``."""
    out: list[Sequence[Reading]] = []
    start, lo, hi = 0, readings[0].ts, readings[0].ts
    for i, r in enumerate(readings):
        lo, hi = min(lo, r.ts), max(hi, r.ts)
        if hi - lo > CHUNK_MAX_S:
            out.append(readings[start:i])
            start, lo, hi = i, r.ts, r.ts
    out.append(readings[start:])
    return out


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
    :class:`connector.store_pg.PgConnection`)."""

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


class Store:
    """The connector's database: a SQLite file, or a PostgreSQL database.

    Parameters
    ----------
    path : str or path-like
        Database file; created with its tables when missing. ``":memory:"``
        works for tests that need no durability. A ``postgresql://`` or
        ``postgres://`` URL opens that PostgreSQL database instead (the
        object is then a :class:`connector.store_pg.PostgresStore`, with
        the same methods); its tables are created on first use.
    synchronous : str
        SQLite ``synchronous`` pragma. ``FULL`` (default) makes a commit
        survive a power cut, which is what "durable before ack" means. On
        PostgreSQL, ``OFF`` turns ``synchronous_commit`` off for the
        connection and anything else makes sure it is on.
    autocheckpoint : bool
        Let this connection's commits copy the write-ahead log into the
        database when it is large (SQLite's default). The ingest connection
        turns it off, so that its commits only append to the log (one
        ``fsync``), and the service runs :meth:`checkpoint` on its own
        connection instead. Durability is the same either way: a committed
        transaction is in the synced log. Ignored on PostgreSQL.

    Raises
    ------
    StorageError
        The database cannot be opened, its schema is newer than this
        connector's, or the URL's scheme is not PostgreSQL's.
    """

    #: ``sqlite`` or ``postgresql``: for the few statements written per dialect.
    dialect = "sqlite"

    def __new__(cls, path: str | Path, *args: Any, **kwargs: Any) -> Store:
        """Open a :class:`~connector.store_pg.PostgresStore` for a PostgreSQL URL."""
        scheme = store_url_scheme(path) if isinstance(path, str) else None
        if scheme is None or cls is not Store:
            return super().__new__(cls)
        if scheme not in POSTGRES_SCHEMES:
            raise StorageError(
                f"unsupported store URL {redact_url(str(path))}: a file path or a "
                "postgresql:// URL is expected"
            )
        from .store_pg import PostgresStore

        return super().__new__(PostgresStore)

    def __init__(
        self, path: str | Path, synchronous: str = "FULL", autocheckpoint: bool = True
    ) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._in_tx = False
        # Per tag, a ts no stored reading of the tag is later than (an upper
        # bound: kept through rollbacks and deletions), and the id of the last
        # chunk this connection wrote: a newer one means another connection
        # inserted readings, and the bounds are forgotten.
        self._tag_last: dict[str, float] = {}
        self._last_chunk: int | None = None
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=30.0,
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA busy_timeout=30000")
            # A log that grew during a burst shrinks back after a checkpoint.
            self._db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
            if not autocheckpoint:
                self._db.execute("PRAGMA wal_autocheckpoint=0")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"store {self.path} has schema version {version}, newer than "
                    f"this connector's {SCHEMA_VERSION}"
                )
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._create_schema()
                self._db.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open store {self.path}: {exc}") from exc

    def _create_schema(self) -> None:
        """Create the tables (in the caller's transaction), migrating a
        schema-2 store (a row per reading) to chunks."""
        db = self._db
        rows_table = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'"
        ).fetchone()
        for statement in (_SCHEMA + _SQLITE_READINGS).split(";"):
            if statement.strip():
                db.execute(statement)
        if rows_table:
            self._chunks_from_rows()
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _chunks_from_rows(self) -> None:
        """Each reading row of a schema-2 store becomes a chunk with the
        row's id (so the reading cursors kept in ``kv`` stay right); then
        the table goes."""
        db = self._db
        after = 0
        while True:
            rows = db.execute(
                "SELECT id, tag, ts, value, unit, quality, seq, site, received_at "
                "FROM readings WHERE id > ? ORDER BY id LIMIT 10000",
                (after,),
            ).fetchall()
            if not rows:
                break
            chunks_ = []
            for id_, tag, ts, value, unit, quality, seq, site, received_at in rows:
                _tag, _ts, data = encode_chunk([Reading(tag, ts, value, unit, quality, seq)])
                chunks_.append((id_, tag, ts, ts, site, received_at, *data))
            db.executemany(
                "INSERT INTO reading_chunks (id, tag, ts_first, ts_last, n, site, received_at, "
                f"{_CHUNK_DATA}) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                chunks_,
            )
            after = rows[-1][0]
        db.execute("DROP TABLE readings")

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        """Close the connection (a WAL checkpoint happens on last close)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Copy the write-ahead log into the database.

        ``PASSIVE`` (default) never blocks the writer. Returns SQLite's
        ``(busy, log frames, frames checkpointed)``.
        """
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        with self._lock:
            try:
                row = self._db.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            except sqlite3.Error as exc:
                raise StorageError(f"checkpoint failed: {exc}") from exc
        return int(row[0]), int(row[1]), int(row[2])

    def journal_mode(self) -> str:
        """Return SQLite's journal mode (``wal`` once opened)."""
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    # -- transactions --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes into one committed unit.

        The block's writes are committed together when it exits normally
        and rolled back when it raises. SQLite errors come out as
        :class:`StorageError`.
        """
        with self._lock:
            if self._in_tx:
                raise RuntimeError("nested Store.transaction(); use savepoint()")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._check_others()
            except sqlite3.Error as exc:
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise StorageError(f"cannot begin transaction: {exc}") from exc
            self._in_tx = True
            try:
                yield self
            except BaseException as exc:
                self._in_tx = False
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"store write failed: {exc}") from exc
                raise
            else:
                self._in_tx = False
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                    raise StorageError(f"commit failed: {exc}") from exc

    def _check_others(self) -> None:
        """Forget the per-tag bounds if another connection inserted readings
        since this one last did (on PostgreSQL nothing is kept). Deleting
        old readings (the history's retention) or other tables' writes (the
        pusher's) do not count: the newest chunk is never deleted."""
        top = self._db.execute("SELECT max(id) FROM reading_chunks").fetchone()[0]
        if top != self._last_chunk:
            self._tag_last.clear()
            self._last_chunk = top

    def savepoint(self, name: str = "msg") -> _Savepoint:
        """Undo the block's writes alone when it raises (inside a transaction).

        Used as ``with store.savepoint(): ...``. SQLite errors are re-raised
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

    # -- readings, ticks, dead letters --------------------------------------

    def insert_readings(
        self, readings: Sequence[Reading], received_at: float, site: str | None = None
    ) -> list[bool]:
        """Insert readings; return for each whether it was new (not a duplicate).

        A reading is a duplicate when the store holds one of the same tag
        with the same ``ts`` and ``seq``, or when it came earlier in
        *readings*. The usual message (one tag, readings after every stored
        one of the tag) is one chunk row; a message that may repeat stored
        readings (redelivered, late, or with a repeated ``ts``) reads the
        stored readings of its period first. The caller holds the write
        lock (a transaction), so nothing comes between the check and the
        insert.
        """
        if not readings:
            return []
        with self._lock:
            if not self._in_tx:  # the pipeline calls inside its transaction
                with self.transaction():
                    return self.insert_readings(readings, received_at, site)
            if len(readings) == 1:  # the unbatched message
                one = readings[0]
                if not self._after_stored(one.tag, one.ts, one.ts):
                    return self._insert_checked(readings, received_at, site)
                self._insert_chunk(readings, received_at, site, one.ts, one.ts)
                return [True]
            if type(readings) is ReadingBatch:
                tag, stamps = readings.tag, readings.ts
            else:
                tag = readings[0].tag
                if any(r.tag != tag for r in readings):
                    return self._insert_checked(readings, received_at, site)
                stamps = [r.ts for r in readings]
            lo, hi = min(stamps), max(stamps)
            if (
                hi - lo > CHUNK_MAX_S
                or len(set(stamps)) != len(stamps)
                or not self._after_stored(tag, lo, hi)
            ):
                return self._insert_checked(readings, received_at, site)
            self._insert_chunk(readings, received_at, site, lo, hi)
            return [True] * len(stamps)

    def _after_stored(self, tag: str, lo: float, hi: float) -> bool:
        """Tell whether no stored reading of *tag* has its ts in [lo, hi]
        (False: maybe one has)."""
        last = self._tag_last.get(tag)
        if last is None:
            (last,) = self._db.execute(
                "SELECT max(ts_last) FROM reading_chunks WHERE tag = ?", (tag,)
            ).fetchone()
            last = self._tag_last[tag] = -math.inf if last is None else last
        if lo > last:
            return True
        return not self._db.execute(
            "SELECT 1 FROM reading_chunks WHERE tag = ? AND ts_last >= ? AND ts_last < ? "
            "AND ts_first <= ? LIMIT 1",
            (tag, lo, hi + CHUNK_MAX_S, hi),
        ).fetchone()

    def _insert_checked(
        self, readings: Sequence[Reading], received_at: float, site: str | None
    ) -> list[bool]:
        """Insert the readings that are not stored yet, tag by tag."""
        readings = list(readings)
        fresh: list[bool] = []
        seen: dict[str, set[tuple[float, int]]] = {}
        for r in readings:
            keys = seen.get(r.tag)
            if keys is None:
                mine = [x.ts for x in readings if x.tag == r.tag]
                keys = seen[r.tag] = {
                    reading_key(x) for x in self._stored(r.tag, min(mine), max(mine))
                }
            key = reading_key(r)
            fresh.append(key not in keys)
            keys.add(key)
        new = [r for r, f in zip(readings, fresh, strict=True) if f]
        for tag in dict.fromkeys(r.tag for r in new):
            for run in chunks([r for r in new if r.tag == tag]):
                stamps = [r.ts for r in run]
                self._insert_chunk(run, received_at, site, min(stamps), max(stamps))
        return fresh

    def _stored(self, tag: str, lo: float, hi: float) -> list[Reading]:
        """The stored readings of *tag* with ``lo <= ts <= hi``, in no order."""
        rows = self._db.execute(_TAG_CHUNKS, (tag, lo, hi + CHUNK_MAX_S, hi)).fetchall()
        return [
            r
            for _id, tag_, _n, *data in rows
            for r in chunk_readings(tag_, *data)
            if lo <= r.ts <= hi
        ]

    def _insert_chunk(
        self,
        readings: Sequence[Reading],
        received_at: float,
        site: str | None,
        lo: float,
        hi: float,
    ) -> None:
        """Store new readings of one tag (ts within CHUNK_MAX_S) as a chunk."""
        tag, stamps, data = encode_chunk(readings)
        cursor = self._db.execute(
            _INSERT_CHUNK, (tag, lo, hi, len(stamps), site, received_at, *data)
        )
        self._last_chunk = cursor.lastrowid
        if hi > self._tag_last.get(tag, math.inf):
            self._tag_last[tag] = hi

    # -- reading the readings ----------------------------------------------------

    def tag_readings(self, tag: str, start: float, end: float) -> list[Reading]:
        """Return *tag*'s readings with ``start <= ts < end``, in ``ts``
        order (then ``seq``)."""
        with self._lock:
            out = [r for r in self._stored(tag, start, end) if r.ts < end]
        out.sort(key=reading_key)
        return out

    def reading_cursor(self) -> int:
        """Return the cursor after the last stored reading (see :meth:`iter_readings`)."""
        with self._lock:
            return int(
                self._db.execute("SELECT coalesce(max(id), 0) FROM reading_chunks").fetchone()[0]
            )

    def iter_readings(
        self, after: int = 0, upto: int | None = None, page: int = 1000
    ) -> Iterator[Reading]:
        """Yield the readings stored after cursor *after* (up to cursor
        *upto*), in the order they were stored."""
        upto = 2**63 - 1 if upto is None else upto
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {_CHUNK_COLUMNS} FROM reading_chunks "
                    "WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                    (after, upto, page),
                ).fetchall()
            if not rows:
                return
            for _id, tag, _n, *data in rows:
                yield from chunk_readings(tag, *data)
            after = rows[-1][0]

    def reading_minutes(self, after: int, upto: int) -> set[tuple[str, float]]:
        """Return ``(tag, start of the minute)`` of every reading stored
        between cursors *after* and *upto* (a chunk within one minute is
        not even unpacked)."""
        out: set[tuple[str, float]] = set()
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, tag, ts_first, ts_last, ts FROM reading_chunks "
                    "WHERE id > ? AND id <= ? ORDER BY id LIMIT 1000",
                    (after, upto),
                ).fetchall()
            if not rows:
                return out
            for _id, tag, first, last, ts in rows:
                minute = math.floor(first / 60.0)
                if minute == math.floor(last / 60.0):
                    out.add((tag, minute * 60.0))
                else:
                    out.update((tag, math.floor(t / 60.0) * 60.0) for t in _unpack(ts))
            after = rows[-1][0]

    def count_readings(self) -> int:
        """Return how many readings the store holds."""
        with self._lock:
            return int(
                self._db.execute("SELECT coalesce(sum(n), 0) FROM reading_chunks").fetchone()[0]
            )

    def delete_readings_before(self, tag: str, cutoff: float) -> int:
        """Delete *tag*'s readings with ``ts < cutoff``; return how many.

        The newest chunk of the store stays whole, so that cursors never
        start again. In the caller's transaction, or in a new one.
        """
        with self._write():
            db = self._db
            top = db.execute("SELECT coalesce(max(id), 0) FROM reading_chunks").fetchone()[0]
            where = "WHERE tag = ? AND ts_last < ? AND id < ?"
            (deleted,) = db.execute(
                f"SELECT coalesce(sum(n), 0) FROM reading_chunks {where}", (tag, cutoff, top)
            ).fetchone()
            db.execute(f"DELETE FROM reading_chunks {where}", (tag, cutoff, top))
            straddling = db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM reading_chunks WHERE tag = ? AND ts_last >= ? "
                "AND ts_last < ? AND ts_first < ? AND id < ?",
                (tag, cutoff, cutoff + CHUNK_MAX_S, cutoff, top),
            ).fetchall()
            for id_, tag_, n, *data in straddling:
                keep = [r for r in chunk_readings(tag_, *data) if r.ts >= cutoff]
                _tag, stamps, kept = encode_chunk(keep)
                db.execute(
                    "UPDATE reading_chunks SET ts_first = ?, n = ?, unit = ?, quality = ?, "
                    "ts = ?, value = ?, seq = ?, extra = ? WHERE id = ?",
                    (min(stamps), len(keep), *kept, id_),
                )
                deleted += n - len(keep)
        return int(deleted)

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

        Used for reads (tests, diagnostics, :mod:`connector.history`) and,
        inside :meth:`transaction`, for writes of the history tiers. *sql*
        is SQLite's (``?`` placeholders); on PostgreSQL it is translated
        (:func:`connector.store_pg.translate`).
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
