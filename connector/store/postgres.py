"""PostgreSQL backend of :class:`connector.store.Store` (``store_path`` a URL).

``open_store("postgresql://user:password@host:5432/dbname")`` (or ``postgres://``,
any URI libpq accepts) returns a :class:`PostgresStore`: the same methods and
the same guarantees as the SQLite file, on a PostgreSQL database.

* **One schema.** The tables are :data:`connector.store.base.SCHEMA_SQL` with the
  types mapped (:func:`pg_schema`: ``INTEGER PRIMARY KEY`` becomes a
  ``bigint`` identity, ``INTEGER`` ``bigint``, ``REAL`` ``double
  precision``, ``BLOB`` ``bytea``, no ``WITHOUT ROWID``). They are created
  on first open, in one transaction under an advisory lock, so several
  stores opening a new database at once are safe. The version is kept in
  ``store_schema``; a newer one is refused like SQLite's ``user_version``.
* **Durability.** A commit returns once PostgreSQL has flushed it to its
  write-ahead log (``synchronous_commit`` is turned on for the connection
  if the server has it off; the server's ``fsync`` must stay on, its
  default). Each :class:`PostgresStore` has its own connection, in
  autocommit mode outside :meth:`~connector.store.Store.transaction`
  (``BEGIN`` ... ``COMMIT``), like the SQLite connection.
* **Errors.** psycopg2's errors are re-raised as :class:`PostgresError`,
  this backend's :attr:`~connector.store.base.Store.errors`, which the
  store and the pipeline (a storage failure stops ingestion, it is never a
  dead letter) handle like SQLite's; transactions turn them into
  :class:`~connector.store.StorageError`. A transaction that a caller
  swallowed an error in is refused at commit (PostgreSQL would roll it back
  silently).
* **SQL.** Callers write SQLite's SQL; :func:`translate` turns ``?`` (and
  ``?NNN``) into psycopg2's ``%s``, ``ifnull`` into ``coalesce`` and
  ``INSERT OR IGNORE`` into ``INSERT ... ON CONFLICT DO NOTHING``. Integer
  ``numeric`` results (``sum`` of integers) come back as ``int`` and
  ``bytea`` as ``bytes``, as from SQLite.
* **Readings.** :meth:`PostgresStore.insert_readings` inserts a batch in one
  statement and learns which readings were new from ``RETURNING``.
* **Round trips.** ``SAVEPOINT`` and ``RELEASE`` (one pair per MQTT
  message in the pipeline) are held back and sent in front of the next
  statement, so a message costs one round trip rather than three;
  ``COMMIT`` and ``ROLLBACK`` drop the held ones (they end every savepoint).
* :meth:`~PostgresStore.checkpoint` does nothing and
  :meth:`~PostgresStore.journal_mode` answers ``postgresql``.
* **A lost server** is a storage failure like a full disk: the daemon
  stops (its supervisor restarts it) and, as nothing uncommitted was
  acknowledged, the broker redelivers. There is no reconnection inside a
  :class:`PostgresStore`.

The password of the URL is never shown: :attr:`Store.path` and every error
message carry the URL with the password replaced by ``***``.

psycopg2 is needed only here (``connector/requirements-postgres.txt``; the
Odoo environment has it).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from ..ingest.schema import Reading
from ..util import redact_url
from .base import SCHEMA_SQL, SCHEMA_VERSION, StorageError, Store, reading_key

try:  # optional: only a PostgreSQL store needs it
    import psycopg2
    import psycopg2.extensions
    import psycopg2.extras
except ImportError:  # pragma: no cover - exercised only without psycopg2
    psycopg2 = None  # type: ignore[assignment]

#: Key of the advisory lock taken while the schema is created or checked.
SCHEMA_LOCK = 0x434D4D53_53544F52  # "CMMSSTOR"
#: Seconds to wait for a lock before failing (SQLite's ``busy_timeout``).
LOCK_TIMEOUT_S = 30

#: PostgreSQL keeps a row per reading, unique on ``(tag, ts, seq)``: ``ON
#: CONFLICT`` stays exact when several connectors share a database.
_ROW_READINGS = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY,
    tag TEXT NOT NULL,
    ts REAL NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    quality TEXT,
    seq INTEGER,
    site TEXT,
    received_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS readings_dedupe
    ON readings (tag, ts, ifnull(seq, -1));
"""
_READING_COLUMNS = "tag, ts, value, unit, quality, seq"
_INSERT_READINGS = (
    "INSERT INTO readings (tag, ts, value, unit, quality, seq, site, received_at) "
    "VALUES %s ON CONFLICT DO NOTHING RETURNING tag, ts, coalesce(seq, -1)"
)
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE")
#: Savepoint statements held back and sent with the next statement.
_DEFERRED = re.compile(r"^(SAVEPOINT|RELEASE) \w+$")


def fresh_flags(readings: Sequence[Reading], fresh: set[tuple[Any, ...]]) -> list[bool]:
    """For each reading, whether its ``(tag, ts, seq or -1)`` is in *fresh*.

    *fresh* holds the keys of the rows an insert added; it is consumed, so a
    second copy of a reading in the same payload counts as a duplicate.
    """
    out: list[bool] = []
    for r in readings:
        key = (r.tag, r.ts, -1 if r.seq is None else r.seq)
        out.append(key in fresh)
        fresh.discard(key)
    return out


class PostgresError(Exception):
    """A PostgreSQL error (its psycopg2 exception is the ``__cause__``).

    The backend's :attr:`~connector.store.base.Store.errors`: a
    transaction turns it into a :class:`~connector.store.base.StorageError`.
    """


# -- schema ---------------------------------------------------------------------

_TYPE_MAP = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "bigint"),
    (re.compile(r"\bREAL\b"), "double precision"),
    (re.compile(r"\bBLOB\b"), "bytea"),
    (re.compile(r"\s*WITHOUT ROWID"), ""),
    (re.compile(r"\bifnull\(", re.IGNORECASE), "coalesce("),
)


def pg_schema(sqlite_schema: str = SCHEMA_SQL + _ROW_READINGS) -> list[str]:
    """The SQLite schema's statements, with PostgreSQL's types.

    Examples
    --------
    >>> pg_schema("CREATE TABLE t (n INTEGER, v REAL, b BLOB) WITHOUT ROWID; SELECT 1;")
    ['CREATE TABLE t (n bigint, v double precision, b bytea)', 'SELECT 1']
    """
    for pattern, replacement in _TYPE_MAP:
        sqlite_schema = pattern.sub(replacement, sqlite_schema)
    return [s.strip() for s in sqlite_schema.split(";") if s.strip()]


# -- SQL translation ------------------------------------------------------------

# String literals, quoted identifiers and comments are copied (with % doubled);
# ``?`` and ``?NNN`` outside them are parameters.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?(\d*)", re.DOTALL)
_IFNULL = re.compile(r"\bifnull\s*\(", re.IGNORECASE)
_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_OR_OTHER = re.compile(r"\bINSERT\s+OR\s+(REPLACE|ABORT|FAIL|ROLLBACK)\b", re.IGNORECASE)
_BEGIN = re.compile(r"^\s*BEGIN\s+(DEFERRED|IMMEDIATE|EXCLUSIVE)\s*(TRANSACTION\s*)?;?\s*$", re.I)


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, tuple[int, ...] | None]:
    """Turn SQLite's SQL into psycopg2's.

    Returns the statement and, when it numbers its parameters (``?2``), the
    index in the caller's parameters of each ``%s`` in turn (``None``: in
    order). ``%`` is doubled (psycopg2 formats the whole statement).

    Raises
    ------
    ValueError
        ``INSERT OR REPLACE`` (and the other ``OR`` forms): PostgreSQL needs
        the conflict target, write ``INSERT ... ON CONFLICT (...) DO UPDATE``.

    Examples
    --------
    >>> translate("SELECT ifnull(seq, -1) FROM readings WHERE tag = ? AND unit LIKE '%?'")
    ("SELECT coalesce(seq, -1) FROM readings WHERE tag = %s AND unit LIKE '%%?'", None)
    >>> translate("INSERT OR IGNORE INTO series (tag) VALUES (?)")
    ('INSERT INTO series (tag) VALUES (%s) ON CONFLICT DO NOTHING', None)
    >>> translate("SELECT ?2, ?1, ?")
    ('SELECT %s, %s, %s', (1, 0, 2))
    """
    if _BEGIN.match(sql):
        return "BEGIN", None
    parts: list[str] = []
    order: list[int] = []
    numbered = False
    highest = 0
    pos = 0
    for match in _TOKENS.finditer(sql):
        parts.append(_code(sql[pos : match.start()]))
        token = match.group(0)
        if token.startswith("?"):
            if match.group(1):
                numbered = True
                number = int(match.group(1))
            else:
                number = highest + 1
            if number < 1:
                raise ValueError(f"parameter ?{number} in {sql!r}")
            highest = max(highest, number)
            order.append(number - 1)
            parts.append("%s")
        else:
            parts.append(token.replace("%", "%%"))
        pos = match.end()
    parts.append(_code(sql[pos:]))
    text = "".join(parts)
    if _OR_OTHER.search(text):
        raise ValueError(
            f"not supported on PostgreSQL, write INSERT ... ON CONFLICT instead: {sql!r}"
        )
    if _OR_IGNORE.search(text):
        text = _OR_IGNORE.sub("INSERT INTO", text).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return text, (tuple(order) if numbered else None)


def _code(segment: str) -> str:
    return _IFNULL.sub("coalesce(", segment.replace("%", "%%"))


def _translated(sql: str) -> tuple[str, tuple[int, ...] | None]:
    """:func:`translate`, SQL it cannot take being a storage failure."""
    try:
        return translate(sql)
    except ValueError as exc:
        raise PostgresError(str(exc)) from None


# -- connection -----------------------------------------------------------------


def _cast_numeric(value: str | None, cursor: Any) -> int | float | None:
    """``numeric`` as SQLite would give it: ``sum(bigint)`` is an ``int``."""
    if value is None:
        return None
    if any(c in value for c in ".eEnN"):  # a fraction, an exponent, NaN, Infinity
        return float(value)
    return int(value)


def _cast_bytea(value: str | bytes | None, cursor: Any) -> bytes | None:
    return None if value is None else bytes(psycopg2.BINARY(value, cursor))


def _message(exc: BaseException, secret: str | None) -> str:
    """One line about *exc*, without the URL's password."""
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None else None) or str(exc).strip()
    text = " ".join(text.split())  # libpq's hints come on further lines
    code = getattr(exc, "pgcode", None)
    if code:
        text = f"{text} (SQLSTATE {code})"
    return text.replace(secret, "***") if secret else text


class PgConnection:
    """The part of :class:`sqlite3.Connection` that :class:`~connector.store.Store`
    uses (``execute``, ``executemany``, ``total_changes``, ``close``), on a
    psycopg2 connection in autocommit mode.

    Parameters
    ----------
    url : str
        libpq URI (``postgresql://...``).
    """

    def __init__(self, url: str) -> None:
        self.total_changes = 0
        self._held: list[str] = []
        self._secret = _password(url)
        kwargs: dict[str, Any] = {}
        if "connect_timeout=" not in url:
            kwargs["connect_timeout"] = 10
        if "application_name=" not in url:
            kwargs["application_name"] = "cmms-connector"
        try:
            self._conn = psycopg2.connect(url, **kwargs)
        except psycopg2.Error as exc:
            raise PostgresError(_message(exc, self._secret)) from None
        self._conn.autocommit = True
        for caster in (
            # The stubs allow bytes; psycopg2 on Python 3 passes text (str).
            psycopg2.extensions.new_type((1700,), "CMMS_NUMERIC", _cast_numeric),  # type: ignore[arg-type]
            psycopg2.extensions.new_type(psycopg2.BINARY.values, "CMMS_BYTEA", _cast_bytea),
        ):
            psycopg2.extensions.register_type(caster, self._conn)

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        """Run one SQLite-style statement; return the psycopg2 cursor.

        ``SAVEPOINT name`` and ``RELEASE name`` only wait for the next
        statement (their errors come with it).
        """
        if _DEFERRED.match(sql):
            self._held.append(sql)
            return _NO_ROWS
        text, order = _translated(sql)
        params = tuple(parameters) if order is None else tuple(parameters[i] for i in order)
        cursor = self._conn.cursor()
        try:
            if text in ("COMMIT", "ROLLBACK"):
                self._held.clear()
                if text == "COMMIT" and self.aborted():
                    raise PostgresError("an earlier error aborted the transaction: rolled back")
            cursor.execute(self._with_held(text), params)
        except psycopg2.Error as exc:
            raise PostgresError(_message(exc, self._secret)) from exc
        self._count(cursor)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any:
        """Run one statement per row; ``rowcount`` of the cursor is their sum."""
        text, order = _translated(sql)
        cursor = self._conn.cursor()
        total = 0
        try:
            for row in rows:
                params = tuple(row) if order is None else tuple(row[i] for i in order)
                cursor.execute(self._with_held(text), params)
                self._count(cursor)
                total += max(cursor.rowcount, 0)
        except psycopg2.Error as exc:
            raise PostgresError(_message(exc, self._secret)) from exc
        return _Many(total)

    def insert_returning(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """One multi-row ``INSERT`` (``VALUES %s``, psycopg2 syntax); return
        the rows of its ``RETURNING``."""
        if not rows:
            return []
        cursor = self._conn.cursor()
        try:
            if len(rows) == 1:  # the usual MQTT message: skip execute_values' work
                one = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
                cursor.execute(self._with_held(sql.replace("%s", one, 1)), rows[0])
                returned = cursor.fetchall()
            else:
                returned = psycopg2.extras.execute_values(
                    cursor, self._with_held(sql), rows, page_size=len(rows), fetch=True
                )
        except psycopg2.Error as exc:
            raise PostgresError(_message(exc, self._secret)) from exc
        self.total_changes += len(returned)
        return list(returned)

    def aborted(self) -> bool:
        """Tell whether the open transaction failed (only a rollback is possible)."""
        status = self._conn.info.transaction_status
        return bool(status == psycopg2.extensions.TRANSACTION_STATUS_INERROR)

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""
        self._held.clear()
        self._conn.close()

    def _with_held(self, text: str) -> str:
        """*text* behind the held savepoint statements (which are then gone)."""
        if not self._held:
            return text
        held = "; ".join(self._held)
        self._held.clear()
        return f"{held}; {text}"

    def _count(self, cursor: Any) -> None:
        if (cursor.statusmessage or "").startswith(_WRITES) and cursor.rowcount > 0:
            self.total_changes += cursor.rowcount


class _Many:
    """What :meth:`PgConnection.executemany` returns: the rows changed."""

    __slots__ = ("rowcount",)

    description = None

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return []


#: The "cursor" of a held savepoint statement.
_NO_ROWS = _Many(-1)


def _password(url: str) -> str | None:
    """The password written in *url* (to scrub it from error messages)."""
    try:
        from urllib.parse import parse_qs, unquote, urlsplit

        parts = urlsplit(url)
        userinfo, at, _ = parts.netloc.rpartition("@")
        if at and ":" in userinfo:
            return unquote(userinfo.split(":", 1)[1]) or None
        found = parse_qs(parts.query).get("password")
        return found[0] if found else None
    except ValueError:
        return None


# -- the store ------------------------------------------------------------------


class PostgresStore(Store):
    """:class:`~connector.store.Store` on a PostgreSQL database.

    Made by ``open_store(url)``; see the module doc for what differs.

    Parameters
    ----------
    path : str
        ``postgresql://`` or ``postgres://`` URL.
    synchronous : str
        ``OFF`` turns ``synchronous_commit`` off for this connection (no
        durability, like SQLite's ``synchronous=OFF``); anything else
        (default ``FULL``) makes sure it is on.
    autocheckpoint : bool
        Ignored (PostgreSQL checkpoints on its own).
    """

    dialect = "postgresql"
    errors = (PostgresError,)

    def __init__(
        self, path: str | Path, synchronous: str = "FULL", autocheckpoint: bool = True
    ) -> None:
        url = str(path)
        self.path = redact_url(url)
        self._lock = threading.RLock()
        self._in_tx = False
        if psycopg2 is None:
            raise StorageError(
                f"cannot open store {self.path}: a PostgreSQL store needs psycopg2 "
                "(pip install -r connector/requirements-postgres.txt)"
            )
        try:
            self._db = PgConnection(url)
        except PostgresError as exc:
            raise StorageError(f"cannot open store {self.path}: {exc}") from None
        try:
            self._configure(synchronous)
            self._create_schema()
        except PostgresError as exc:
            self._db.close()
            raise StorageError(f"cannot open store {self.path}: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def _configure(self, synchronous: str) -> None:
        db = self._db
        if synchronous.upper() == "OFF":
            db.execute("SET synchronous_commit TO off")
        elif db.execute("SHOW synchronous_commit").fetchone()[0] == "off":
            db.execute("SET synchronous_commit TO on")
        db.execute(f"SET lock_timeout TO {LOCK_TIMEOUT_S * 1000}")

    def _create_schema(self) -> None:
        db = self._db
        db.execute("BEGIN")
        try:
            db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            db.execute("CREATE TABLE IF NOT EXISTS store_schema (version integer NOT NULL)")
            version = db.execute("SELECT max(version) FROM store_schema").fetchone()[0]
            if version is not None and version > SCHEMA_VERSION:
                raise StorageError(
                    f"store {self.path} has schema version {version}, newer than "
                    f"this connector's {SCHEMA_VERSION}"
                )
            if version != SCHEMA_VERSION:
                for statement in pg_schema():
                    db.execute(statement)
                db.execute("DELETE FROM store_schema")
                db.execute("INSERT INTO store_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            db.execute("COMMIT")
        except BaseException:
            with suppress(PostgresError):
                db.execute("ROLLBACK")
            raise

    # -- what differs from SQLite --------------------------------------------

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Nothing to do on PostgreSQL; returns ``(0, 0, 0)``."""
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        return 0, 0, 0

    def journal_mode(self) -> str:
        """Return ``postgresql`` (there is no SQLite journal)."""
        return "postgresql"

    def insert_readings(
        self, readings: Sequence[Reading], received_at: float, site: str | None = None
    ) -> list[bool]:
        """Insert readings; return for each whether it was new (not a duplicate).

        One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for the whole
        list: the rows it returns are the readings that were new.
        """
        if not readings:
            return []
        rows = [
            (r.tag, r.ts, r.value, r.unit, r.quality, r.seq, site, received_at) for r in readings
        ]
        with self._lock:
            if not self._in_tx:
                with self.transaction():
                    return self.insert_readings(readings, received_at, site)
            db: PgConnection = self._db
            returned = db.insert_returning(_INSERT_READINGS, rows)
        if len(returned) == len(rows):
            return [True] * len(rows)
        if not returned:
            return [False] * len(rows)
        fresh = set(returned)
        return fresh_flags(readings, fresh)

    def _check_others(self) -> None:
        """Nothing to forget: :meth:`insert_readings` keeps no knowledge of
        the readings between transactions."""

    def tag_readings(self, tag: str, start: float, end: float) -> list[Reading]:
        """Return *tag*'s readings with ``start <= ts < end``, in ``ts``
        order (then ``seq``)."""
        rows = self.execute(
            f"SELECT {_READING_COLUMNS} FROM readings WHERE tag = ? AND ts >= ? AND ts < ?",
            (tag, start, end),
        )
        out = [Reading(*row) for row in rows]
        out.sort(key=reading_key)
        return out

    def reading_cursor(self) -> int:
        """Return the cursor after the last stored reading (its id)."""
        return int(self.execute("SELECT coalesce(max(id), 0) FROM readings")[0][0])

    def iter_readings(
        self, after: int = 0, upto: int | None = None, page: int = 10000
    ) -> Iterator[Reading]:
        """Yield the readings stored after cursor *after* (up to *upto*), in
        the order they were stored."""
        upto = 2**63 - 1 if upto is None else upto
        while True:
            rows = self.execute(
                f"SELECT id, {_READING_COLUMNS} FROM readings WHERE id > ? AND id <= ? "
                "ORDER BY id LIMIT ?",
                (after, upto, page),
            )
            if not rows:
                return
            for row in rows:
                yield Reading(*row[1:])
            after = rows[-1][0]

    def reading_minutes(self, after: int, upto: int) -> set[tuple[str, float]]:
        """Return ``(tag, start of the minute)`` of every reading stored
        between cursors *after* and *upto*."""
        rows = self.execute(
            "SELECT DISTINCT tag, floor(ts / 60) * 60.0 FROM readings WHERE id > ? AND id <= ?",
            (after, upto),
        )
        return {(tag, float(start)) for tag, start in rows}

    def count_readings(self) -> int:
        """Return how many readings the store holds."""
        return int(self.execute("SELECT count(*) FROM readings")[0][0])

    def delete_readings_before(self, tag: str, cutoff: float) -> int:
        """Delete *tag*'s readings with ``ts < cutoff``; return how many
        (the newest reading of the store stays, so ids never start again)."""
        with self._write():
            return self.executemany(
                "DELETE FROM readings WHERE tag = ? AND ts < ? "
                "AND id < (SELECT max(id) FROM readings)",
                [(tag, cutoff)],
            )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (SQLite's SQL, translated) and return all rows."""
        with self._lock:
            cursor = self._db.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description is not None else []
