"""Small helpers shared by the connector modules (time parsing and
formatting, log-once, store URLs).

Time, one rule for the whole connector: a time is epoch seconds or an ISO
8601 string with a zone; a string without a zone is refused unless the caller
says where the zone is (data files whose times are UTC by convention:
``naive_utc=True``). :func:`parse_time` reads every time, :func:`iso_utc`
writes every time (UTC, ``Z``, milliseconds when not a whole second, as the
simulator writes them).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

#: URL schemes of a PostgreSQL store (``store_path = "postgresql://..."``).
POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_QUERY_PASSWORD = re.compile(r"(?i)(^|&)(password=)[^&]*")


#: Epoch seconds above this are taken for milliseconds (year 5138).
MAX_EPOCH_S = 1e11


def parse_time(value: object, *, naive_utc: bool = False) -> float:
    """Epoch seconds of a time: epoch seconds, or ISO 8601 with a zone.

    Parameters
    ----------
    value : float, int or str
        Epoch seconds (not milliseconds), or an ISO 8601 string.
    naive_utc : bool
        A string without a zone is UTC (data files documented as UTC);
        otherwise it is refused: it would be off by the publisher's offset.

    Raises
    ------
    ValueError
        With a short reason (``has no time zone``, ``looks like milliseconds``...).

    Examples
    --------
    >>> parse_time("2026-11-22T08:00:00Z"), parse_time("2026-11-22T15:00:00+07:00")
    (1795334400.0, 1795334400.0)
    >>> parse_time(1795334400), parse_time("2026-11-22 08:00:00", naive_utc=True)
    (1795334400.0, 1795334400.0)
    >>> parse_time("2026-11-22T08:00:00")
    Traceback (most recent call last):
    ...
    ValueError: '2026-11-22T08:00:00' has no time zone
    """
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, int | float):
        ts = float(value)
        if not math.isfinite(ts) or ts <= 0:
            raise ValueError(f"{value!r} is not a positive epoch")
        if ts >= MAX_EPOCH_S:
            raise ValueError(f"{value!r} looks like milliseconds")
        return ts
    if not isinstance(value, str):
        raise ValueError(type(value).__name__)
    if len(value) > 64:
        raise ValueError("too long")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not ISO 8601") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        if not naive_utc:
            raise ValueError(f"{value!r} has no time zone")
        dt = dt.replace(tzinfo=UTC)
    try:
        ts = dt.timestamp()
    except (OverflowError, ValueError, OSError):
        ts = -1.0
    if not 0 < ts < MAX_EPOCH_S:
        raise ValueError(f"{value!r} out of range")
    return ts


def iso_utc(ts: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with a ``Z`` suffix.

    Whole seconds are written without a fraction (like the contract's
    example), anything else with milliseconds: the simulator's
    ``simulator.clock.iso_utc`` writes the same strings.

    Examples
    --------
    >>> iso_utc(1795334400.0)
    '2026-11-22T08:00:00Z'
    >>> iso_utc(1795334400.25)
    '2026-11-22T08:00:00.250Z'
    """
    millis = round(ts * 1000.0)
    seconds, ms = divmod(millis, 1000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ms:03d}Z" if ms else f"{base}Z"


class LogOnce:
    """Log a message the first time a *kind* of event happens, then count it.

    The daemon sees the same problem thousands of times (a sensor sending
    garbage at 10 Hz); the log should say so once, not once per message.
    Counts stay available through :meth:`counts`.

    Parameters
    ----------
    logger : logging.Logger
        Where the first occurrence of each kind is written.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._lock = threading.Lock()
        self.counts_: dict[str, int] = {}

    def __call__(self, kind: str, msg: str, *args: object, level: int = logging.WARNING) -> bool:
        """Count *kind*; log *msg* only on its first occurrence.

        Returns
        -------
        bool
            True when the message was logged (first occurrence).
        """
        with self._lock:
            n = self.counts_.get(kind, 0) + 1
            self.counts_[kind] = n
        if n == 1:
            self.logger.log(level, msg + " (further occurrences are counted, not logged)", *args)
            return True
        return False

    def counts(self) -> dict[str, int]:
        """Return a copy of the occurrence counts per kind."""
        with self._lock:
            return dict(self.counts_)


def store_url_scheme(target: object) -> str | None:
    """Return the scheme of a store URL, or ``None`` for a file path.

    Examples
    --------
    >>> store_url_scheme("postgresql://cmms@db/cmms"), store_url_scheme("/data/c.sqlite3")
    ('postgresql', None)
    """
    match = _SCHEME.match(str(target))
    return match.group(1).lower() if match else None


def is_postgres_url(target: object) -> bool:
    """Tell whether *target* is a ``postgresql://`` (or ``postgres://``) URL.

    Examples
    --------
    >>> is_postgres_url("postgres://u:p@h:5432/db"), is_postgres_url("connector.sqlite3")
    (True, False)
    """
    return isinstance(target, str) and store_url_scheme(target) in POSTGRES_SCHEMES


def redact_url(url: str) -> str:
    """Return *url* with its password (user info or ``password=`` query) hidden.

    Anything that is not a URL is returned unchanged, so a store's file path
    can go through it too.

    Examples
    --------
    >>> redact_url("postgresql://cmms:s3cret@db:5432/cmms?sslmode=require&password=x")
    'postgresql://cmms:***@db:5432/cmms?sslmode=require&password=***'
    >>> redact_url("/var/lib/cmms-connector/connector.sqlite3")
    '/var/lib/cmms-connector/connector.sqlite3'
    """
    if store_url_scheme(url) is None:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket: show the scheme only
        return f"{store_url_scheme(url)}://***"
    netloc = parts.netloc
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = _QUERY_PASSWORD.sub(r"\1\2***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
