"""A signal that has not moved beyond a deadband for a time window (:class:`StuckSensor`)."""

from __future__ import annotations

from collections.abc import Sequence

from .base import _NOTHING, INSTRUMENT_FAULT, OK, WARNING, Detector, QuietPlan, Verdict, _fmt


class StuckSensor(Detector):
    """A signal that has not moved beyond a deadband for a time window.

    Catches thermocouple burnout, plugged impulse lines and frozen
    transmitters: ``instrument_fault`` (``warning``) once all readings of the
    last ``stuck_window_s`` seconds fit in a band of ``stuck_deadband``.
    A window of 0 or ``None`` disables it.

    Examples
    --------
    >>> stuck = StuckSensor(stuck_deadband=0.05, stuck_window_s=3.0)
    >>> [stuck.update(t, v).active for t, v in enumerate([5.0, 5.01, 5.02, 5.0,
    ...                                                   5.3, 5.3])]
    [False, False, False, True, False, False]
    """

    alert_type = INSTRUMENT_FAULT
    kind = "stuck_sensor"
    _param_names = ("stuck_deadband", "stuck_window_s", "unit")
    _state_names = ("since_", "low_", "high_", "active_")

    def __init__(
        self, stuck_deadband: float = 0.0, stuck_window_s: float | None = 0.0, unit: str = ""
    ) -> None:
        self.stuck_deadband = stuck_deadband
        self.stuck_window_s = stuck_window_s
        self.unit = unit

    def _extend(
        self, since: float, low: float, high: float, ts: float, value: float
    ) -> tuple[float, float, float]:
        """The band of unchanged values (from *since*, between *low* and
        *high*) after a reading: extended, or restarted at it."""
        lo, hi = min(low, value), max(high, value)
        if hi - lo > max(self.stuck_deadband or 0.0, 0.0):
            return ts, value, value
        return since, lo, hi

    def update(self, ts: float, value: float) -> Verdict:
        """Extend or restart the band of unchanged values (:meth:`_extend`)."""
        window = self.stuck_window_s
        if not window or window <= 0:
            return OK
        if getattr(self, "since_", None) is None:
            self.since_, self.low_, self.high_ = ts, value, value
        since, self.low_, self.high_ = self._extend(self.since_, self.low_, self.high_, ts, value)
        self.since_ = since
        self.active_ = ts - since >= window
        if not self.active_:
            return OK
        return Verdict(
            True,
            WARNING,
            f"stuck at {_fmt(value)} {self.unit}: no change beyond "
            f"{_fmt(self.stuck_deadband or 0.0)} {self.unit} for "
            f"{ts - since:.0f} s",
        )

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when no reading's band has lasted the window.

        When the last reading is less than the window after the current
        band's start, no reading can reach it (every band within the batch
        starts there or later) and the band left at the end is found without
        a loop in the common cases: the last two values differ by more than
        the deadband (a new band at the last reading), or the whole batch
        fits in the current band. Otherwise the band is followed reading by
        reading (:meth:`_extend`, the step of :meth:`update`).
        """
        window = self.stuck_window_s
        if not window or window <= 0:
            return _NOTHING
        since = getattr(self, "since_", None)
        if since is None or since > ts[0]:
            return None
        band = max(self.stuck_deadband or 0.0, 0.0)
        if ts[-1] - since < window:
            last = values[-1]
            if len(values) > 1 and abs(last - values[-2]) > band:
                return {"since_": ts[-1], "low_": last, "high_": last, "active_": False}
            low, high = min(self.low_, vmin), max(self.high_, vmax)
            if high - low <= band:
                return {"since_": since, "low_": low, "high_": high, "active_": False}
        low, high = self.low_, self.high_
        extend = self._extend
        for t, value in zip(ts, values, strict=True):
            since, low, high = extend(since, low, high, t, value)
            if t - since >= window:
                return None
        return {"since_": since, "low_": low, "high_": high, "active_": False}
