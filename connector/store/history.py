"""Local history tiers: raw readings, 1-minute, hourly and daily aggregates.

=========== ============================== ============================
tier        what                           kept (default)
=========== ============================== ============================
raw         every reading (``readings``)   7 days
minute      n, sum, min, max, last         90 days
hour        rolled up from the minutes     2 years
day         rolled up from the hours       for ever
=========== ============================== ============================

An aggregate keeps the shape of its series: the count of readings, their
sum (the mean is ``sum / n``, so a coarser mean is count-weighted), the
minimum of the minimums, the maximum of the maximums and the last value
with its time. Periods are aligned on whole UTC minutes, hours and days.

:meth:`History.compact` does the work; the service calls it every
``history_compact_s`` seconds with the current time and tests call it with
an explicit ``now``. One call

1. notes the minutes that received readings since the last call (the
   readings past the store's reading cursor, so the ingest path pays
   nothing);
2. aggregates every such minute once it is *closed* (``close_delay_s``
   after its end) and queues it for Odoo as a ``reading_agg`` item, key
   ``agg:<tag>:<minute start>``. A reading that arrives after its minute
   was aggregated reopens the minute: it is aggregated again and sent as
   revision ``n`` (key suffix ``:r<n>``; Odoo keeps the newest report of a
   period);
3. rolls the changed minutes up into their hours, and the changed hours
   into their days, once those are closed;
4. at most once an hour, deletes what is older than each tier's retention
   (raw readings only after their minute was aggregated), and delivered
   outbox items older than ``keep_sent_s``.

Every step runs in store transactions of at most ``chunk`` periods, so a
long catch-up never holds the database for long. The SQL runs on both store
backends (SQLite, PostgreSQL); the raw readings are read through the
store's methods (:meth:`~connector.store.Store.tag_readings`,
:meth:`~connector.store.Store.iter_readings`), as each backend keeps them
its own way.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from ..push.items import READING_AGG, OutboxItem, make_key
from ..util import iso_utc
from .base import Store

log = logging.getLogger(__name__)

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
#: kv keys of the history's progress.
CURSOR_KEY = "history_cursor"
RETENTION_KEY = "history_retention_at"
DAY_S = 86400.0
#: The ``DO UPDATE`` of an aggregate written again.
_UPDATE_AGG = ", ".join(
    f"{c} = excluded.{c}" for c in ("n", "total", "vmin", "vmax", "vlast", "last_ts")
)


@dataclass(slots=True)
class Aggregate:
    """One period of one tag."""

    tag: str
    start: float
    n: int
    total: float
    vmin: float
    vmax: float
    vlast: float
    last_ts: float

    @property
    def mean(self) -> float:
        """Count-weighted mean, kept within [min, max] against rounding."""
        return min(self.vmax, max(self.vmin, self.total / self.n))


@dataclass(slots=True)
class CompactStats:
    """What one :meth:`History.compact` did."""

    minutes: int = 0
    revisions: int = 0
    hours: int = 0
    days: int = 0
    items: int = 0
    raw_deleted: int = 0
    minutes_deleted: int = 0
    hours_deleted: int = 0
    sent_deleted: int = 0
    seconds: float = 0.0


def floor_to(ts: float, period: float) -> float:
    """Start of the period of length *period* (seconds) holding *ts*.

    Examples
    --------
    >>> floor_to(1795334459.9, 60.0), floor_to(1795334400.0, 3600.0)
    (1795334400.0, 1795334400.0)
    """
    return math.floor(ts / period) * period


def reading_agg_item(agg: Aggregate, revision: int = 0) -> OutboxItem:
    """The ``reading_agg`` item of a closed minute.

    Examples
    --------
    >>> item = reading_agg_item(Aggregate("PT-101", 1795334400.0, 3, 18.0, 5.0, 7.0, 6.5, 0.0))
    >>> item.key, item.data["mean"], item.data["period_start"]
    ('agg:PT-101:2026-11-22T08:00:00Z', 6.0, '2026-11-22T08:00:00Z')
    """
    start = iso_utc(agg.start)
    parts: list[object] = ["agg", agg.tag, start]
    if revision:
        parts.append(f"r{revision}")
    return OutboxItem(
        make_key(*parts),
        READING_AGG,
        start,
        {
            "tag": agg.tag,
            "resolution": "minute",
            "period_start": start,
            "min": agg.vmin,
            "max": agg.vmax,
            "mean": agg.mean,
            "last": agg.vlast,
            "count": agg.n,
        },
    )


class History:
    """Compaction of the local history (see the module doc).

    Parameters
    ----------
    store : Store
        The store (its own connection when run in its own thread).
    close_delay_s : float
        A minute (hour, day) is closed this long after its end.
    raw_days, minute_days, hour_days : float
        Retention of raw readings, minute and hour aggregates (days).
    keep_sent_s : float
        Delivered outbox items are deleted after this long (0 keeps them).
    push : bool
        Queue closed minutes for Odoo.
    push_tags : callable, optional
        Returns the tags whose minutes are pushed (Odoo rejects unknown
        tags); ``None`` pushes every tag.
    chunk : int
        Periods per store transaction.
    """

    def __init__(
        self,
        store: Store,
        close_delay_s: float = 5.0,
        raw_days: float = 7.0,
        minute_days: float = 90.0,
        hour_days: float = 730.0,
        keep_sent_s: float = 7 * DAY_S,
        push: bool = True,
        push_tags: Callable[[], Collection[str]] | None = None,
        chunk: int = 2000,
    ) -> None:
        self.store = store
        self.close_delay_s = close_delay_s
        self.raw_days = raw_days
        self.minute_days = minute_days
        self.hour_days = hour_days
        self.keep_sent_s = keep_sent_s
        self.push = push
        self.push_tags = push_tags
        self.chunk = chunk
        self.last_stats_: CompactStats | None = None
        self.last_run_at_: float | None = None
        self.minutes_total_ = 0
        self.items_total_ = 0

    # -- the step --------------------------------------------------------------

    def compact(self, now: float | None = None, retention: bool | None = None) -> CompactStats:
        """Run one compaction at time *now* (default: the current time).

        Parameters
        ----------
        now : float, optional
            Epoch seconds taken as the current time.
        retention : bool, optional
            Force (True) or skip (False) the retention step; by default it
            runs when the last one is an hour old.
        """
        t = time.time() if now is None else now
        started = time.perf_counter()
        stats = CompactStats()
        self._collect(t)
        tags = None if self.push_tags is None else frozenset(self.push_tags())
        self._close_minutes(t, tags, stats)
        self._rollup("hour", HOUR, "agg_minute", t, stats)
        self._rollup("day", DAY, "agg_hour", t, stats)
        last = self.store.get_json(RETENTION_KEY)
        due = not isinstance(last, int | float) or t - float(last) >= HOUR
        if retention or (retention is None and due):
            self._retention(t, stats)
            self.store.set_json(RETENTION_KEY, t)
        stats.seconds = time.perf_counter() - started
        self.last_stats_, self.last_run_at_ = stats, t
        self.minutes_total_ += stats.minutes
        self.items_total_ += stats.items
        if stats.minutes or stats.hours or stats.days or stats.raw_deleted:
            log.debug("history compaction: %s", stats)
        return stats

    def _collect(self, now: float) -> None:
        """Note the minutes of the readings stored since the last call."""
        with self.store.transaction():
            cursor = self.store.get_json(CURSOR_KEY)
            cursor = int(cursor) if isinstance(cursor, int) else 0
            top = self.store.reading_cursor()
            if top < cursor:  # the store was emptied and its cursor started again
                cursor = 0
            if top == cursor:
                return
            minutes = self.store.reading_minutes(cursor, top)
            self.store.executemany(
                "INSERT INTO agg_pending (tag, start) VALUES (?, ?) ON CONFLICT DO NOTHING",
                sorted(minutes),
            )
            self.store.execute(
                "INSERT INTO series (tag, first_seen) "
                "SELECT DISTINCT tag, ? FROM agg_pending WHERE true ON CONFLICT DO NOTHING",
                (now,),
            )
            self.store.set_json(CURSOR_KEY, top)

    def _close_minutes(self, now: float, tags: frozenset[str] | None, stats: CompactStats) -> None:
        limit = now - MINUTE - self.close_delay_s
        while True:
            with self.store.transaction():
                due = self.store.execute(
                    "SELECT tag, start FROM agg_pending WHERE start <= ? LIMIT ?",
                    (limit, self.chunk),
                )
                if not due:
                    return
                items: list[OutboxItem] = []
                for tag, start in due:
                    agg = self._raw_minute(tag, start)
                    self.store.execute(
                        "DELETE FROM agg_pending WHERE tag = ? AND start = ?", (tag, start)
                    )
                    if agg is None:
                        continue  # its readings are gone (retention)
                    revision = self._save_minute(agg)
                    if revision is None:
                        continue  # unchanged
                    stats.minutes += 1
                    stats.revisions += revision > 0
                    self.store.execute(
                        "INSERT INTO agg_dirty (resolution, tag, start) VALUES (?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
                        ("hour", tag, floor_to(start, HOUR)),
                    )
                    if self.push and (tags is None or tag in tags):
                        items.append(reading_agg_item(agg, revision))
                if items:
                    stats.items += self.store.add_outbox(items, now)

    def _raw_minute(self, tag: str, start: float) -> Aggregate | None:
        readings = self.store.tag_readings(tag, start, start + MINUTE)
        if not readings:
            return None
        values = [r.value for r in readings]
        last = readings[-1]  # in ts order, then seq
        n, total, vmin, vmax = len(values), math.fsum(values), min(values), max(values)
        return Aggregate(tag, start, n, total, vmin, vmax, last.value, last.ts)

    def _save_minute(self, agg: Aggregate) -> int | None:
        """Store a minute; return its revision (None when nothing changed)."""
        old = self.store.execute(
            "SELECT n, total, vmin, vmax, vlast, last_ts, revision FROM agg_minute "
            "WHERE tag = ? AND start = ?",
            (agg.tag, agg.start),
        )
        values = (agg.n, agg.total, agg.vmin, agg.vmax, agg.vlast, agg.last_ts)
        if old and tuple(old[0][:6]) == values:
            return None
        revision = old[0][6] + 1 if old else 0
        self.store.execute(
            "INSERT INTO agg_minute "
            "(tag, start, n, total, vmin, vmax, vlast, last_ts, revision) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (tag, start) DO UPDATE SET {_UPDATE_AGG}, revision = excluded.revision",
            (agg.tag, agg.start, *values, revision),
        )
        return int(revision)

    def _rollup(
        self, resolution: str, period: float, source: str, now: float, stats: CompactStats
    ) -> None:
        """Recompute the closed dirty periods of *resolution* from *source*."""
        table = f"agg_{resolution}"
        limit = now - period - self.close_delay_s
        # A period older than the source tier's retention cannot be rebuilt.
        keep_days = self.minute_days if source == "agg_minute" else self.hour_days
        oldest = now - keep_days * DAY_S if keep_days else -math.inf
        while True:
            with self.store.transaction():
                due = self.store.execute(
                    "SELECT tag, start FROM agg_dirty WHERE resolution = ? AND start <= ? LIMIT ?",
                    (resolution, limit, self.chunk),
                )
                if not due:
                    return
                for tag, start in due:
                    self.store.execute(
                        "DELETE FROM agg_dirty WHERE resolution = ? AND tag = ? AND start = ?",
                        (resolution, tag, start),
                    )
                    if start < oldest:
                        continue
                    end = start + period
                    row = self.store.execute(
                        f"SELECT sum(n), sum(total), min(vmin), max(vmax), max(last_ts), "
                        f"(SELECT vlast FROM {source} WHERE tag = ? AND start >= ? "
                        f" AND start < ? ORDER BY last_ts DESC, start DESC LIMIT 1) "
                        f"FROM {source} WHERE tag = ? AND start >= ? AND start < ?",
                        (tag, start, end, tag, start, end),
                    )[0]
                    if not row[0]:
                        continue
                    self.store.execute(
                        f"INSERT INTO {table} "
                        "(tag, start, n, total, vmin, vmax, vlast, last_ts) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        f"ON CONFLICT (tag, start) DO UPDATE SET {_UPDATE_AGG}",
                        (tag, start, row[0], row[1], row[2], row[3], row[5], row[4]),
                    )
                    if resolution == "hour":
                        stats.hours += 1
                        self.store.execute(
                            "INSERT INTO agg_dirty (resolution, tag, start) "
                            "VALUES ('day', ?, ?) ON CONFLICT DO NOTHING",
                            (tag, floor_to(start, DAY)),
                        )
                    else:
                        stats.days += 1

    def _retention(self, now: float, stats: CompactStats) -> None:
        tags = [r[0] for r in self.store.execute("SELECT tag FROM series ORDER BY tag")]
        plans = (
            ("readings", "ts", self.raw_days, "raw_deleted"),
            ("agg_minute", "start", self.minute_days, "minutes_deleted"),
            ("agg_hour", "start", self.hour_days, "hours_deleted"),
        )
        for table, column, days, counter in plans:
            if not days:
                continue
            cutoff = now - days * DAY_S
            # Raw readings of a minute still waiting to be aggregated stay.
            if table == "readings":
                pending = self.store.execute("SELECT min(start) FROM agg_pending")[0][0]
                if pending is not None:
                    cutoff = min(cutoff, pending)
            for i in range(0, len(tags), self.chunk):
                batch = tags[i : i + self.chunk]
                with self.store.transaction():
                    if table == "readings":  # the newest reading stays: see the store
                        deleted = sum(self.store.delete_readings_before(t, cutoff) for t in batch)
                    else:
                        deleted = self.store.executemany(
                            f"DELETE FROM {table} WHERE tag = ? AND {column} < ?",
                            [(tag, cutoff) for tag in batch],
                        )
                setattr(stats, counter, getattr(stats, counter) + deleted)
        if self.keep_sent_s:
            stats.sent_deleted = self.store.purge_sent(now - self.keep_sent_s)

    # -- reading the history ---------------------------------------------------

    def series(self, tag: str, resolution: str, start: float, end: float) -> list[dict[str, Any]]:
        """Return the aggregates of *tag* in ``[start, end)``, oldest first.

        *resolution* is ``minute``, ``hour``, ``day``, or ``raw`` (each
        reading as ``{"ts", "value"}``).
        """
        if resolution == "raw":
            return [
                {"ts": r.ts, "value": r.value} for r in self.store.tag_readings(tag, start, end)
            ]
        if resolution not in ("minute", "hour", "day"):
            raise ValueError(f"unknown resolution {resolution!r}")
        rows = self.store.execute(
            f"SELECT start, n, total, vmin, vmax, vlast, last_ts FROM agg_{resolution} "
            "WHERE tag = ? AND start >= ? AND start < ? ORDER BY start",
            (tag, start, end),
        )
        return [
            {
                "start": r[0],
                "count": r[1],
                "mean": Aggregate(tag, r[0], r[1], r[2], r[3], r[4], r[5], r[6]).mean,
                "min": r[3],
                "max": r[4],
                "last": r[5],
                "last_ts": r[6],
            }
            for r in rows
        ]
