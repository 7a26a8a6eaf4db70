"""The readings' clock of a site, for the time-based detectors.

A data gap is a gap in the readings' own time (event time), not in the
connector's wall clock: a simulator replaying at 20x, or a gateway flushing
its buffer, sends a tag's readings much closer together in wall time than
their interval, and a connector that falls a little behind receives them
later than they were made. :class:`EventClock` follows the newest reading
time of a site and, while the site is silent, runs on from it at the pace
the readings' time has been advancing against the wall clock (1 for a live
plant, 20 for a 20x replay), so that the silence of a whole site is still a
gap.

Examples
--------
>>> clock = EventClock()
>>> clock.observe(1000.0, wall=50.0)
>>> clock.observe(1020.0, wall=51.0)   # the readings' time runs at 20x
>>> clock.observe(1040.0, wall=52.0)
>>> clock.now(52.0)
1040.0
>>> clock.now(52.5)                    # silent for half a wall second
1050.0
"""

from __future__ import annotations

__all__ = ["EventClock"]

#: Wall seconds over which the pace of the readings' time is measured.
PACE_WINDOW_S = 2.0
#: Bounds of the measured pace (a replay at "max" is fast, not infinite).
PACE_MIN, PACE_MAX = 0.01, 1000.0


class EventClock:
    """The newest reading time of a site and the pace it advances at."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.newest_: float | None = None  # newest reading time (epoch s)
        self.newest_wall_ = 0.0  # wall time it arrived
        self.pace_ = 1.0  # reading seconds per wall second
        self._anchor: tuple[float, float] | None = None  # (wall, newest) of the window

    def observe(self, ts: float, wall: float) -> None:
        """Note a reading stamped *ts* that arrived at wall time *wall*."""
        if self.newest_ is not None and ts <= self.newest_:
            return
        self.newest_, self.newest_wall_ = ts, wall
        if self._anchor is None:
            self._anchor = (wall, ts)
            return
        anchor_wall, anchor_ts = self._anchor
        if wall - anchor_wall >= PACE_WINDOW_S:
            pace = (ts - anchor_ts) / (wall - anchor_wall)
            self.pace_ = min(PACE_MAX, max(PACE_MIN, pace))
            self._anchor = (wall, ts)

    def now(self, wall: float) -> float | None:
        """The readings' time at wall time *wall* (``None`` before any reading)."""
        if self.newest_ is None:
            return None
        return self.newest_ + self.pace_ * max(0.0, wall - self.newest_wall_)
