"""Small helpers shared by the connector modules (time formatting, log-once)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime


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
