"""The SQLite store: a file in WAL mode with ``synchronous=FULL``.

:class:`SqliteStore` is the :class:`~connector.store.base.Store` of a file
path (:func:`connector.store.open_store`). It keeps the readings in chunks,
one row per insert (``reading_chunks``, see :mod:`connector.store.base`;
:func:`encode_chunk`, :func:`chunk_readings`), and converts a store written
by the previous version (a row per reading) on first open.
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
import sys
import threading
from array import array
from collections.abc import Iterator, Sequence
from contextlib import suppress
from itertools import repeat
from pathlib import Path
from typing import Any

from ..ingest.schema import Reading, ReadingBatch
from .base import SCHEMA_SQL, SCHEMA_VERSION, StorageError, Store, reading_key

#: Largest ``ts_last - ts_first`` of a reading chunk (seconds): bounds the
#: index range a period's query scans.
CHUNK_MAX_S = 3600.0
#: Bytes of write-ahead log kept after a checkpoint.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

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
            packed_seq = _pack(seq, "q")  # type: ignore[arg-type]  # no None left here
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


class SqliteStore(Store):
    """The connector's database in a SQLite file.

    Parameters
    ----------
    path : str or path-like
        Database file; created with its tables when missing. ``":memory:"``
        works for tests that need no durability.
    synchronous : str
        SQLite ``synchronous`` pragma. ``FULL`` (default) makes a commit
        survive a power cut, which is what "durable before ack" means.
    autocheckpoint : bool
        Let this connection's commits copy the write-ahead log into the
        database when it is large (SQLite's default). The ingest connection
        turns it off, so that its commits only append to the log (one
        ``fsync``), and the service runs :meth:`checkpoint` on its own
        connection instead. Durability is the same either way: a committed
        transaction is in the synced log.

    Raises
    ------
    StorageError
        The database cannot be opened, or its schema is newer than this
        connector's.
    """

    dialect = "sqlite"
    errors = (sqlite3.Error,)

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
        for statement in (SCHEMA_SQL + _SQLITE_READINGS).split(";"):
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

    def _check_others(self) -> None:
        """Forget the per-tag bounds if another connection inserted readings
        since this one last did (on PostgreSQL nothing is kept). Deleting
        old readings (the history's retention) or other tables' writes (the
        pusher's) do not count: the newest chunk is never deleted."""
        top = self._db.execute("SELECT max(id) FROM reading_chunks").fetchone()[0]
        if top != self._last_chunk:
            self._tag_last.clear()
            self._last_chunk = top

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
