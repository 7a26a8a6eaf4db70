"""Turn detector conditions into alert events for Odoo.

One :class:`AlertAggregator` exists per ``(tag, alert_type)``. Fed the
combined :class:`~connector.detect.base.Verdict` after each reading, it emits

* one ``alert_raised`` when the condition starts;
* ``alert_active`` at most every ``active_interval_s`` while it holds, and
  at once when the severity changes (warning -> critical and back);
* one ``alert_cleared`` when the condition has been gone for
  ``clear_delay_s`` (debounce: a value that flickers across the deadband
  does not clear and re-raise the alert).

Time is the readings' own timestamps (the current time for the
timer-driven ``data_gap``), so replaying the same readings after a crash
produces the same events with the same idempotency keys::

    <tag>:<alert_type>:<raised ts ISO>:raised
    <tag>:<alert_type>:<raised ts ISO>:active:<n>      n = 1, 2, ...
    <tag>:<alert_type>:<raised ts ISO>:cleared

The aggregator's state is a :class:`~connector.store.AlertStateRow`, saved
in the ``alert_state`` table in the same transaction as the items it
produced, so a restarted connector continues an open alert instead of
raising it again.
"""

from __future__ import annotations

from ..push.items import (
    ALERT_ACTIVE,
    ALERT_CLEARED,
    ALERT_RAISED,
    OutboxItem,
    make_key,
)
from ..store import AlertStateRow
from ..util import iso_utc
from .base import WARNING, Verdict


class AlertAggregator:
    """Raise / still active / clear events for one ``(tag, alert_type)``.

    Parameters
    ----------
    tag : str
        Sensor tag.
    alert_type : str
        ``rule_violation``, ``instrument_fault``, ``drift``, ``data_gap`` ...
    active_interval_s : float
        Minimum time between two ``alert_active`` items of an unchanged alert.
    clear_delay_s : float
        How long the condition must be gone before ``alert_cleared``.

    Examples
    --------
    >>> from connector.detect.base import Verdict
    >>> agg = AlertAggregator("PT-101", "rule_violation", active_interval_s=2,
    ...                       clear_delay_s=1)
    >>> hot = Verdict(True, "warning", "high")
    >>> cold = Verdict(False)
    >>> seq = [hot, hot, hot, cold, cold, cold]
    >>> [[i.type for i in agg.update(t, v, 9.5)] for t, v in enumerate(seq)]
    [['alert_raised'], [], ['alert_active'], [], ['alert_cleared'], []]
    """

    def __init__(
        self, tag: str, alert_type: str, active_interval_s: float = 60.0, clear_delay_s: float = 5.0
    ) -> None:
        self.tag = tag
        self.alert_type = alert_type
        self.active_interval_s = active_interval_s
        self.clear_delay_s = clear_delay_s

    @property
    def state(self) -> AlertStateRow:
        """The persisted part of the aggregator (created on first use)."""
        if not hasattr(self, "state_"):
            self.state_ = AlertStateRow(self.tag, self.alert_type)
        return self.state_

    @state.setter
    def state(self, value: AlertStateRow) -> None:
        if (value.tag, value.alert_type) != (self.tag, self.alert_type):
            raise ValueError("alert state belongs to another (tag, alert_type)")
        self.state_ = value

    @property
    def is_open(self) -> bool:
        """Whether an alert is currently raised."""
        return self.state.open

    def _item(self, kind: str, ts: float, value: float | None, *suffix: object) -> OutboxItem:
        st = self.state
        raised = iso_utc(st.raised_ts or ts)
        return OutboxItem(
            key=make_key(self.tag, self.alert_type, raised, kind, *suffix),
            type={"raised": ALERT_RAISED, "active": ALERT_ACTIVE, "cleared": ALERT_CLEARED}[kind],
            ts=iso_utc(ts),
            data={
                "tag": self.tag,
                "alert_type": self.alert_type,
                "severity": st.severity or WARNING,
                "value": value,
                "message": st.message or "",
            },
        )

    def update(self, ts: float, verdict: Verdict, value: float | None) -> list[OutboxItem]:
        """Feed the condition at time *ts*; return the items to send (0 or 1).

        Sets ``dirty_`` when the persisted state changed and must be saved.
        """
        st = self.state
        self.dirty_ = False
        if verdict.active:
            severity = verdict.severity or WARNING
            if not st.open:
                st.open = True
                st.severity = severity
                st.raised_ts = ts
                st.last_emit_ts = ts
                st.active_count = 0
                st.clear_since = None
                st.value, st.message = value, verdict.message
                self.dirty_ = True
                return [self._item("raised", ts, value)]
            if st.clear_since is not None:
                st.clear_since = None
                self.dirty_ = True
            st.value, st.message = value, verdict.message
            last = st.last_emit_ts if st.last_emit_ts is not None else ts
            if severity != st.severity or ts - last >= self.active_interval_s:
                st.severity = severity
                st.active_count += 1
                st.last_emit_ts = ts
                self.dirty_ = True
                return [self._item("active", ts, value, st.active_count)]
            return []
        if not st.open:
            return []
        if st.clear_since is None:
            st.clear_since = ts
            self.dirty_ = True
        if ts - st.clear_since < self.clear_delay_s:
            return []
        item = self._item("cleared", st.clear_since, value)
        st.open = False
        st.clear_since = None
        st.value = value
        self.dirty_ = True
        return [item]
