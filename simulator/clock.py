"""Simulated time.

The simulator never reads the wall clock to decide what to generate: a run
starts at a fixed instant (``DEFAULT_START`` unless told otherwise) and every
reading carries ``start + t`` where ``t`` is the simulated second.  The wall
clock is only used by the publisher to pace messages at ``--rate``.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

DEFAULT_START = "2026-11-22T08:00:00Z"

__all__ = ["DEFAULT_START", "IsoFormatter", "iso_utc", "parse_start"]


def parse_start(value: str | float | None) -> float:
    """Return the epoch seconds of a start instant.

    Parameters
    ----------
    value
        ``None`` for :data:`DEFAULT_START`, ``"now"`` for the current second
        (the only place the wall clock enters a run), an ISO 8601 string (a
        naive one is taken as UTC) or epoch seconds.

    Examples
    --------
    >>> parse_start("2026-11-22T08:00:00Z")
    1795334400.0
    """
    if value is None:
        value = DEFAULT_START
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"start must be finite, got {value!r}")
        return float(value)
    text = value.strip()
    if text.lower() == "now":
        return float(math.floor(time.time()))
    try:
        return float(text)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso_utc(epoch: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with a ``Z`` suffix.

    Whole seconds are written without a fraction, anything else with
    milliseconds.

    Examples
    --------
    >>> iso_utc(1795334400.0)
    '2026-11-22T08:00:00Z'
    >>> iso_utc(1795334400.25)
    '2026-11-22T08:00:00.250Z'
    """
    millis = round(epoch * 1000.0)
    seconds, ms = divmod(millis, 1000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{base}.{ms:03d}Z" if ms else f"{base}Z"


class IsoFormatter:
    """:func:`iso_utc` with a one-entry cache of the formatted second.

    Readings come in time order, many per second, so caching the last
    ``strftime`` result saves most of the formatting cost.
    """

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self, epoch: float) -> str:
        """Return ``iso_utc(epoch)``."""
        millis = round(epoch * 1000.0)
        seconds, ms = divmod(millis, 1000)
        if seconds != self._second:
            self._second = seconds
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        return f"{self._text}.{ms:03d}Z" if ms else f"{self._text}Z"
