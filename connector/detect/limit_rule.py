"""Process limits with deadband and on-delay (:class:`LimitRule`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .base import CRITICAL, OK, RULE_VIOLATION, WARNING, Detector, QuietPlan, Verdict, _fmt

#: :class:`LimitRule`: no level pending.
_NOT_PENDING: tuple[None, None] = (None, None)
#: The plan of a calm :class:`LimitRule` (never mutated).
_CALM: QuietPlan = {"since_": _NOT_PENDING, "active_": False}


class LimitRule(Detector):
    """Process limits with deadband (hysteresis) and on-delay.

    A side enters a level when the value goes beyond its limit (strictly)
    and that has held for ``on_delay_s`` seconds (measured on the readings'
    timestamps). It leaves the level only when the value comes back inside
    the limit by more than ``deadband``. Escalation to critical waits for its
    own on-delay; de-escalation from critical to warning is immediate.

    Parameters
    ----------
    low_critical, low_warning, high_warning, high_critical : float or None
        Limits in engineering units; ``None`` disables that limit.
    deadband : float
        Hysteresis for leaving a level, in engineering units.
    on_delay_s : float
        How long a limit must be exceeded before the level is entered.
    unit : str
        Only used in messages.

    Examples
    --------
    Five seconds of on-delay filter a one-second spike:

    >>> rule = LimitRule(high_warning=9.0, on_delay_s=5.0)
    >>> [rule.update(t, v).active for t, v in enumerate([9.5, 8.0, 9.5, 9.5,
    ...                                                  9.5, 9.5, 9.5, 9.5])]
    [False, False, False, False, False, False, False, True]
    """

    alert_type = RULE_VIOLATION
    kind = "limit_rule"
    _state_names = ("level_", "since_", "active_")
    _param_names = (
        "low_critical",
        "low_warning",
        "high_warning",
        "high_critical",
        "deadband",
        "on_delay_s",
        "unit",
    )

    def __init__(
        self,
        low_critical: float | None = None,
        low_warning: float | None = None,
        high_warning: float | None = None,
        high_critical: float | None = None,
        deadband: float = 0.0,
        on_delay_s: float = 0.0,
        unit: str = "",
    ) -> None:
        self.low_critical = low_critical
        self.low_warning = low_warning
        self.high_warning = high_warning
        self.high_critical = high_critical
        self.deadband = deadband
        self.on_delay_s = on_delay_s
        self.unit = unit

    def _level(self, value: float, margin: float) -> int:
        """Highest level whose limit *value* exceeds, moved in by *margin*."""
        for level, low, high in (
            (2, self.low_critical, self.high_critical),
            (1, self.low_warning, self.high_warning),
        ):
            if high is not None and value > high - margin:
                return level
            if low is not None and value < low + margin:
                return level
        return 0

    def _inside(self) -> tuple[float, float]:
        """The band inside every limit (a value on a limit is inside)."""
        highs = [x for x in (self.high_warning, self.high_critical) if x is not None]
        lows = [x for x in (self.low_warning, self.low_critical) if x is not None]
        return max(lows, default=-math.inf), min(highs, default=math.inf)

    def load_state(self, saved: Mapping[str, Any]) -> bool:
        """Restore :meth:`state_dict` output (see :meth:`Detector.load_state`)."""
        if not super().load_state(saved):
            return False
        self.inside_ = self._inside()
        return True

    def _calm(self, vmin: float, vmax: float) -> bool:
        """No level held and every value from *vmin* to *vmax* inside every
        limit: then nothing is pending after them (one reading or many)."""
        if self.level_:
            return False
        low, high = self.inside_
        return low <= vmin and vmax <= high

    def update(self, ts: float, value: float) -> Verdict:
        """Take one reading and return the rule's level as a verdict."""
        if not hasattr(self, "level_"):
            self.level_ = 0
            self.since_: tuple[float | None, float | None] = (None, None)
            self.inside_ = self._inside()
        if self._calm(value, value):  # what :meth:`quiet_plan` takes at once
            self.since_ = _NOT_PENDING
            self.active_ = False
            return OK
        entry = self._level(value, 0.0)
        hold = self._level(value, max(self.deadband, 0.0))
        warning, critical = self.since_  # when each level's limit was first exceeded
        warning = (ts if warning is None else warning) if entry >= 1 else None
        critical = (ts if critical is None else critical) if entry >= 2 else None
        self.since_ = (warning, critical)
        new = 0
        for level, since in ((2, critical), (1, warning)):
            held = self.level_ >= level and hold >= level
            delayed = since is not None and ts - since >= self.on_delay_s
            if held or delayed:
                new = level
                break
        self.level_ = new
        self.active_ = new > 0
        if not new:
            return OK
        low, high = (
            (self.low_critical, self.high_critical)
            if new == 2
            else (self.low_warning, self.high_warning)
        )
        if high is not None and (low is None or abs(value - high) <= abs(value - low)):
            side, limit = "high", high
        else:
            side, limit = "low", low if low is not None else math.nan
        name = "critical" if new == 2 else "warning"
        word = "above" if side == "high" else "below"
        return Verdict(
            True,
            CRITICAL if new == 2 else WARNING,
            f"{_fmt(value)} {self.unit} {word} {side} {name} limit {_fmt(limit)} {self.unit}",
        )

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when no level is held and every value is inside every limit
        (the test :meth:`update` makes first). A rule that has never seen a
        reading is left to it."""
        if not hasattr(self, "level_") or not self._calm(vmin, vmax):
            return None
        return _CALM
