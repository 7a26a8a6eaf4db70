"""Reading outside the instrument's physical signal range (:class:`SignalRange`)."""

from __future__ import annotations

from collections.abc import Sequence

from .base import _INACTIVE, CRITICAL, INSTRUMENT_FAULT, OK, Detector, QuietPlan, Verdict, _fmt


class SignalRange(Detector):
    """Reading outside the instrument's physical signal range.

    A 4-20 mA transmitter that reports below 4 mA (or above 20 mA) has a
    broken loop or a failed sensor: a hardware problem, not a process one,
    so this raises ``instrument_fault`` at ``critical``.

    Parameters
    ----------
    signal_low, signal_high : float or None
        Physical range in engineering units; ``None`` disables that side.
    unit : str
        Only used in messages.

    Examples
    --------
    >>> sr = SignalRange(signal_low=0.0, signal_high=16.0, unit="bar")
    >>> [sr.update(t, v).active for t, v in enumerate([5.0, -0.5, 17.0, 8.0])]
    [False, True, True, False]
    """

    alert_type = INSTRUMENT_FAULT
    kind = "signal_range"
    _param_names = ("signal_low", "signal_high", "unit")

    def __init__(
        self, signal_low: float | None = None, signal_high: float | None = None, unit: str = ""
    ) -> None:
        self.signal_low = signal_low
        self.signal_high = signal_high
        self.unit = unit

    def _outside(self, vmin: float, vmax: float) -> int:
        """-1 when *vmin* is below the range, 1 when *vmax* is above it, else 0."""
        low, high = self.signal_low, self.signal_high
        if low is not None and vmin < low:
            return -1
        if high is not None and vmax > high:
            return 1
        return 0

    def update(self, ts: float, value: float) -> Verdict:
        """Check one reading against the signal range (:meth:`quiet_plan` of one)."""
        side = self._outside(value, value)
        self.active_ = side != 0
        if not side:
            return OK
        word, name, limit = (
            ("below", "low", self.signal_low) if side < 0 else ("above", "high", self.signal_high)
        )
        unit = self.unit
        return Verdict(
            True,
            CRITICAL,
            f"{_fmt(value)} {unit} {word} signal range {name} {_fmt(limit or 0.0)} {unit}",
        )

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when every value is inside the signal range (see :meth:`Detector.quiet_plan`)."""
        return None if self._outside(vmin, vmax) else _INACTIVE
