"""No reading for too long (:class:`DataGap`, timer-driven)."""

from __future__ import annotations

from .base import DATA_GAP, OK, WARNING, Detector, Verdict, _fmt


class DataGap(Detector):
    """No reading for more than ``factor`` x ``interval_s`` seconds.

    Timer-driven: :meth:`update` notes an arrival, :meth:`check` is called
    periodically with the current time. The timer arms at the first
    :meth:`check` or arrival. ``interval_s`` of 0 or ``None`` disables it.

    Given the readings' own time too (``event_ts`` of :meth:`update`,
    ``event_now`` of :meth:`check`, from :class:`~connector.detect.event_clock.EventClock`),
    a gap must hold on both clocks: readings replayed faster than real time
    or received late after a backlog are no gap, a tag that stops while its
    site goes on is one (the site's clock runs on without it).

    Examples
    --------
    >>> gap = DataGap(interval_s=1.0)
    >>> _ = gap.update(100.0)
    >>> [gap.check(now).active for now in (101.0, 102.0, 102.5)]
    [False, False, True]
    >>> _ = gap.update(103.0, event_ts=5000.0)  # the readings' time is ahead
    >>> gap.check(105.5, event_now=5001.0).active  # 2.5 s late, 1 s of readings
    False
    >>> gap.check(105.5, event_now=5010.0).active  # the site went on without it
    True
    """

    alert_type = DATA_GAP
    kind = "data_gap"
    _param_names = ("interval_s", "factor")
    _state_names = ("last_seen_", "last_event_", "active_")

    def __init__(self, interval_s: float | None = 0.0, factor: float = 2.0) -> None:
        self.interval_s = interval_s
        self.factor = factor

    @property
    def enabled(self) -> bool:
        """False when ``interval_s`` disables the detector."""
        return bool(self.interval_s) and (self.interval_s or 0.0) > 0

    def update(
        self, ts: float, value: float | None = None, event_ts: float | None = None
    ) -> Verdict:
        """Note that a reading arrived at *ts* (arrival time), stamped *event_ts*."""
        last = getattr(self, "last_seen_", None)
        self.last_seen_ = ts if last is None else max(last, ts)
        if event_ts is not None:
            self.note_event(event_ts)
        self.active_ = False
        return OK

    def note_event(self, event_ts: float) -> None:
        """Note a reading stamped *event_ts* (also when replaying stored ones)."""
        newest = getattr(self, "last_event_", None)
        self.last_event_ = event_ts if newest is None else max(newest, event_ts)

    def rearm(self, now: float) -> None:
        """Restart the timer at *now* unless a gap is already active.

        Called when the connector (re)connects to the broker, so that its own
        outage does not count as a gap of every instrument.
        """
        if not self.active_:
            self.last_seen_ = now

    def check(self, now: float, event_now: float | None = None) -> Verdict:
        """Return whether nothing has arrived for too long at time *now*
        (and, when given, at the readings' time *event_now*)."""
        if not self.enabled:
            return OK
        last = getattr(self, "last_seen_", None)
        if last is None:
            self.last_seen_ = now
        if getattr(self, "last_event_", None) is None and event_now is not None:
            self.last_event_ = event_now  # armed on the site's clock
        if last is None:
            return OK
        gap = now - last
        last_event = getattr(self, "last_event_", None)
        if event_now is not None and last_event is not None:
            gap = min(gap, event_now - last_event)
        limit = self.factor * float(self.interval_s or 0.0)
        self.active_ = gap > limit
        if not self.active_:
            return OK
        return Verdict(
            True,
            WARNING,
            f"no reading for {gap:.0f} s (expected every {_fmt(float(self.interval_s or 0.0))} s)",
        )
