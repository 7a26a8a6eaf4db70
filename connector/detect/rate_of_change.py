"""Change between consecutive readings faster than plausible (:class:`RateOfChange`)."""

from __future__ import annotations

from collections.abc import Sequence

from .base import _NOTHING, INSTRUMENT_FAULT, OK, WARNING, Detector, QuietPlan, Verdict, _fmt


class RateOfChange(Detector):
    """Change between consecutive readings faster than physically plausible.

    Raises ``instrument_fault`` (``warning``) while ``|dv/dt| > roc_limit``
    (engineering units per second). ``roc_limit`` of 0 or ``None`` disables
    it; readings whose timestamp does not advance are ignored.

    Examples
    --------
    >>> roc = RateOfChange(roc_limit=1.0)
    >>> [roc.update(t, v).active for t, v in enumerate([5.0, 5.5, 9.0, 9.2])]
    [False, False, True, False]
    """

    alert_type = INSTRUMENT_FAULT
    kind = "rate_of_change"
    _param_names = ("roc_limit", "unit")
    _state_names = ("prev_", "active_", "message_")
    message_: str

    def __init__(self, roc_limit: float | None = 0.0, unit: str = "") -> None:
        self.roc_limit = roc_limit
        self.unit = unit

    def _too_fast(self, span: float, dt: float) -> bool:
        """Whether a change of *span* over *dt* seconds is faster than ``roc_limit``.

        For one reading *span* is ``|value - previous|``; for many, the
        widest range of the batch's values and the previous one, over the
        shortest time step: every consecutive change is at most that range
        and every step at least that long; IEEE rounding is monotonic, so
        each computed ``|rate|`` is at most the computed bound.
        """
        return span / dt > (self.roc_limit or 0.0)

    def update(self, ts: float, value: float) -> Verdict:
        """Compare with the previous reading (:meth:`quiet_plan` of one)."""
        if not self.roc_limit or self.roc_limit <= 0:
            return OK
        prev = getattr(self, "prev_", None)
        if prev is not None and ts <= prev[0]:
            return Verdict(True, WARNING, self.message_) if self.active_ else OK
        self.prev_ = (ts, value)
        if prev is None:
            return OK
        t0, v0 = prev
        self.active_ = self._too_fast(abs(value - v0), ts - t0)
        if not self.active_:
            return OK
        rate = (value - v0) / (ts - t0)
        self.message_ = (
            f"rate of change {rate:+.4g} {self.unit}/s exceeds {_fmt(self.roc_limit)} {self.unit}/s"
        )
        return Verdict(True, WARNING, self.message_)

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when the widest value range over the shortest time step
        (the first from the previous reading) is within ``roc_limit``."""
        limit = self.roc_limit
        if not limit or limit <= 0:
            return _NOTHING
        prev = getattr(self, "prev_", None)
        if prev is None:
            return None
        t0, v0 = prev
        first = ts[0] - t0
        if not first > 0 or self._too_fast(max(vmax, v0) - min(vmin, v0), min(first, step)):
            return None
        return {"prev_": (ts[-1], values[-1]), "active_": False}
