"""Small helpers shared by the connector modules (time formatting, log-once,
store URLs)."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

#: URL schemes of a PostgreSQL store (``store_path = "postgresql://..."``).
POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_QUERY_PASSWORD = re.compile(r"(?i)(^|&)(password=)[^&]*")


def iso_utc(ts: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with a ``Z`` suffix.

    Microseconds are written only when they are not zero, so whole seconds
    look like the contract's example.

    Examples
    --------
    >>> iso_utc(1795334400.0)
    '2026-11-22T08:00:00Z'
    >>> iso_utc(1795334400.25)
    '2026-11-22T08:00:00.250000Z'
    """
    dt = datetime.fromtimestamp(ts, tz=UTC)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


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
