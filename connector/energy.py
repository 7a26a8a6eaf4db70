"""Energy per machine and period, from cumulative meter counters.

A machine's energy meter publishes its cumulative counter (kWh), as real
meters do, on ``<prefix>/<site>/machine/<machine_id>/energy``. The
:class:`EnergyEngine` turns the counter into one ``energy`` item per machine
and period (an hour by default, aligned on UTC) for Odoo's ingestion method:

* the energy between two readings is the difference of their counters,
  spread over the periods between them in proportion to time (a meter
  that reports every minute puts each minute in its hour; one silent for
  three hours has its energy shared by those hours);
* a counter lower than the previous one is a reset (meter replaced, reset
  or rolled over): the energy since the reset is the new counter value,
  nothing is subtracted and nothing counted twice. A counter that comes back
  to its value before the drop within :data:`RESET_CONFIRM_S` was a glitch
  (a bad read, not a reset): the energy then counts from the value before
  the drop, less what the glitch already counted;
* a reading not newer than the last one (a redelivered or late message)
  changes nothing, so a replay after a crash counts no energy twice;
* a period is reported once the meter has passed its end by
  ``close_delay_s`` (so that the production counts of its last minutes are
  in); the units produced in a period (FLEXO ticks carry the units of
  their interval) are added as ``produced``. Units that arrive after their
  period was reported send it again, with the new total, under a revision
  key, and Odoo replaces the period (the newest report wins).

Keys are deterministic: ``energy:<machine_id>:<period start>`` and
``...:r<n>`` for the n-th revision. The engine is a plain class with no
I/O: its methods take a machine's state (a JSON-able dict, ``None`` at
first) and return the new state and the items; the pipeline keeps the state
in the store in the same transaction as the MQTT message and the items, so a
restart, even after SIGKILL, neither loses nor repeats energy.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .ingest.schema import MeterReading
from .push.items import ENERGY, OutboxItem, make_key
from .util import iso_utc

#: Default period of an ``energy`` item (seconds).
DEFAULT_PERIOD_S = 3600.0
#: Default delay after a period's end before it is reported (seconds).
DEFAULT_CLOSE_DELAY_S = 300.0
#: Reported periods are kept this long for revisions (late units).
KEEP_S = 2 * 86400.0
#: A counter drop is a reset once the counter stayed below its former value
#: this long; coming back above it sooner, it was a glitch.
RESET_CONFIRM_S = 3600.0


@dataclass(slots=True)
class EnergyStep:
    """The result of one call: the new state, the items, what was seen."""

    state: dict[str, Any]
    items: list[OutboxItem] = field(default_factory=list)
    readings: int = 0
    stale: int = 0
    resets: int = 0


def _new_state() -> dict[str, Any]:
    return {
        "last_ts": None,
        "last_kwh": None,
        "open": {},
        "units": {},
        "sent": {},
        "counted": False,
        "resets": 0,
        "reset": None,
    }


class EnergyEngine:
    """Energy items of metered machines.

    Parameters
    ----------
    period_s : float
        Length of a reported period; a divisor of a day (3600: hourly).
    close_delay_s : float
        A period is reported when a meter reading at least this long after
        its end arrives.
    machine_tags : mapping
        ``machine_id -> equipment tag`` in Odoo (default: the machine id),
        the same map as the FLEXO engine's.

    Examples
    --------
    >>> engine = EnergyEngine()
    >>> h = 1795334400.0  # 2026-11-22T08:00:00Z
    >>> step = engine.meter(None, "MX-01", [MeterReading(h, 100.0),
    ...                                     MeterReading(h + 3600, 104.0),
    ...                                     MeterReading(h + 3900, 104.5)])
    >>> [(i.key, i.data["kwh"]) for i in step.items]
    [('energy:MX-01:2026-11-22T08:00:00Z', 4.0)]
    """

    def __init__(
        self,
        period_s: float = DEFAULT_PERIOD_S,
        close_delay_s: float = DEFAULT_CLOSE_DELAY_S,
        machine_tags: Mapping[str, str] | None = None,
    ) -> None:
        if not period_s > 0 or 86400.0 % period_s:
            raise ValueError("the energy period must divide a day")
        if close_delay_s < 0:
            raise ValueError("the close delay must not be negative")
        self.period_s = float(period_s)
        self.close_delay_s = float(close_delay_s)
        self.machine_tags = dict(machine_tags or {})

    def machine_tag(self, machine_id: str) -> str:
        """Odoo equipment tag of a machine."""
        return self.machine_tags.get(machine_id, machine_id)

    def period_of(self, ts: float) -> float:
        """Start of the period that holds *ts*."""
        return math.floor(ts / self.period_s) * self.period_s

    # -- meter readings ----------------------------------------------------------

    def meter(
        self, state: Mapping[str, Any] | None, machine_id: str, readings: Sequence[MeterReading]
    ) -> EnergyStep:
        """Take a machine's meter readings (in the order received)."""
        st: dict[str, Any] = copy.deepcopy(dict(state)) if state else _new_state()
        step = EnergyStep(st)
        for reading in sorted(readings, key=lambda r: r.ts):
            ts, kwh = reading.ts, reading.kwh
            last_ts = st["last_ts"]
            if last_ts is not None and ts <= last_ts:
                step.stale += 1
                continue
            step.readings += 1
            if last_ts is not None:
                delta = self._delta(st, ts, kwh, step)
                self._spread(st["open"], last_ts, ts, delta)
            st["last_ts"], st["last_kwh"] = ts, kwh
        if step.readings:
            self._close(st, machine_id, step.items)
        return step

    @staticmethod
    def _delta(st: dict[str, Any], ts: float, kwh: float, step: EnergyStep) -> float:
        """The energy since the last reading, with resets and glitches."""
        delta = kwh - st["last_kwh"]
        reset = st.get("reset")
        if reset is not None:  # [counter before the drop, drop time, energy since]
            if ts - reset[1] >= RESET_CONFIRM_S:  # a reset, confirmed
                st["reset"] = None
            elif kwh >= reset[0]:  # back above it soon: the drop was a glitch
                st["reset"] = None
                return max(0.0, kwh - reset[0] - reset[2])
            elif delta >= 0:
                reset[2] += delta
        if delta < 0:  # a reset: the counter started again from zero
            delta = kwh
            step.resets += 1
            st["resets"] += 1
            st["reset"] = [st["last_kwh"], ts, kwh]
        return delta

    def _spread(self, periods: dict[str, float], t0: float, t1: float, delta: float) -> None:
        """Share *delta* kWh between the periods of ``(t0, t1]`` by time."""
        span = t1 - t0
        start = self.period_of(t0)
        while start < t1:
            a, b = max(t0, start), min(t1, start + self.period_s)
            if b > a:
                key = str(int(start))
                periods[key] = periods.get(key, 0.0) + delta * (b - a) / span
            start += self.period_s

    def _close(self, st: dict[str, Any], machine_id: str, items: list[OutboxItem]) -> None:
        """Report the periods the meter has passed; forget old ones."""
        now = st["last_ts"]
        for key in sorted(st["open"], key=int):
            start = int(key)
            if start + self.period_s + self.close_delay_s > now:
                break
            kwh = st["open"].pop(key)
            units = int(st["units"].pop(key, 0))
            st["sent"][key] = [kwh, units, 0]
            items.append(self._item(st, machine_id, start, kwh, units, 0))
        self._forget(st, now)

    @staticmethod
    def _forget(st: dict[str, Any], now: float) -> None:
        horizon = now - KEEP_S
        for name in ("sent", "units"):
            for key in [k for k in st[name] if int(k) < horizon]:
                del st[name][key]

    # -- production counts ---------------------------------------------------------

    def units(
        self,
        state: Mapping[str, Any] | None,
        machine_id: str,
        ts: float,
        produced: float,
        interval_s: float = 0.0,
    ) -> EnergyStep:
        """Add the units a machine produced in the interval ending at *ts*.

        The units go to the period holding the middle of the interval (a
        tick at 09:00 for 08:59-09:00 counts in 08:00-09:00). A period
        already reported is reported again with the new total (a revision).
        """
        st: dict[str, Any] = copy.deepcopy(dict(state)) if state else _new_state()
        step = EnergyStep(st)
        count = int(round(produced))
        st["counted"] = True
        if count <= 0:
            return step
        middle = ts - max(interval_s, 0.0) / 2.0 if interval_s > 0 else ts - 1e-3
        key = str(int(self.period_of(middle)))
        sent = st["sent"].get(key)
        if sent is not None:
            sent[1] += count
            sent[2] += 1
            step.items.append(self._item(st, machine_id, int(key), sent[0], sent[1], sent[2]))
        else:
            st["units"][key] = st["units"].get(key, 0) + count
        self._forget(st, max(ts, st["last_ts"] or ts))
        return step

    # -- items -------------------------------------------------------------------

    def _item(
        self,
        st: Mapping[str, Any],
        machine_id: str,
        start: float,
        kwh: float,
        units: int,
        revision: int,
    ) -> OutboxItem:
        begin, end = iso_utc(start), iso_utc(start + self.period_s)
        data: dict[str, Any] = {
            "machine": self.machine_tag(machine_id),
            "period_start": begin,
            "period_end": end,
            "kwh": round(max(kwh, 0.0), 4),
        }
        if st["counted"]:
            data["produced"] = int(units)
        parts: list[object] = ["energy", machine_id, begin]
        if revision:
            parts.append(f"r{revision}")
        return OutboxItem(key=make_key(*parts), type=ENERGY, ts=end, data=data)
