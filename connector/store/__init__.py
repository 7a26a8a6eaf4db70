"""The connector's durable local store and its history tiers.

:func:`open_store` opens the store of a file path (SQLite,
:mod:`.sqlite`) or of a ``postgresql://`` URL (:mod:`.postgres`); both are
a :class:`Store` (:mod:`.base`: the tables, the interface, the SQL they
share) and fail with :class:`StorageError`. :mod:`.history` keeps the
minute, hour and day aggregates.
"""

from __future__ import annotations

from pathlib import Path

from ..util import POSTGRES_SCHEMES, redact_url, store_url_scheme
from .base import SCHEMA_VERSION, AlertStateRow, OutboxRow, StorageError, Store, reading_key
from .sqlite import SqliteStore

__all__ = [
    "SCHEMA_VERSION",
    "AlertStateRow",
    "OutboxRow",
    "SqliteStore",
    "StorageError",
    "Store",
    "open_store",
    "reading_key",
]


def open_store(
    url_or_path: str | Path, synchronous: str = "FULL", autocheckpoint: bool = True
) -> Store:
    """Open the store at *url_or_path*: a SQLite file, or a PostgreSQL database.

    Parameters
    ----------
    url_or_path : str or path-like
        A file path (created with its tables when missing; ``":memory:"``
        for tests that need no durability), or a ``postgresql://`` or
        ``postgres://`` URL (its tables are created on first use; needs
        psycopg2).
    synchronous : str
        SQLite's ``synchronous`` pragma (``FULL``, the default, makes a
        commit survive a power cut). On PostgreSQL, ``OFF`` turns
        ``synchronous_commit`` off for the connection and anything else
        makes sure it is on.
    autocheckpoint : bool
        SQLite: let this connection's commits copy the write-ahead log into
        the database (see :class:`~connector.store.sqlite.SqliteStore`).
        Ignored on PostgreSQL.

    Raises
    ------
    StorageError
        The store cannot be opened, its schema is newer than this
        connector's, or the URL's scheme is not PostgreSQL's.
    """
    scheme = store_url_scheme(url_or_path) if isinstance(url_or_path, str) else None
    if scheme is None:
        return SqliteStore(url_or_path, synchronous, autocheckpoint)
    if scheme not in POSTGRES_SCHEMES:
        raise StorageError(
            f"unsupported store URL {redact_url(str(url_or_path))}: a file path or a "
            "postgresql:// URL is expected"
        )
    from .postgres import PostgresStore  # psycopg2 only when it is used

    return PostgresStore(url_or_path, synchronous, autocheckpoint)
