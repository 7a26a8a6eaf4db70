"""The anomaly engine of the daemon: online scorers per tag and per machine.

:class:`AnomalyEngine` runs :class:`connector.ml.online.OnlineDetector`,
the same class with the same default configuration that ``python -m
connector replay`` and the benchmarks run, in two ways:

* a **univariate scorer per tag**, fed each new reading of the tag;
* a **machine-level detector per equipment group** over the tags of one
  machine, fed rows of readings aligned in time by a :class:`RowAligner`
  (one slot per ``period_s`` seconds; a slot is scored once every tag has
  a reading of it or a later one, or at the latest once a reading ``grace``
  slots later has arrived, so readings published late or in batches tag by
  tag still count; a reading of a slot already scored is left out, a tag
  without a reading in a slot is a missing value).

Both give :class:`~connector.detect.base.Verdict` s of the ``anomaly`` alert
type; the pipeline merges them into each tag's ``anomaly`` verdict, so they
go through the same :class:`~connector.detect.alerts.AlertAggregator` and outbox
as every alert. While a machine's alarm is on, its contributing tags (those
beyond half their threshold when it rose, and any that crosses its
threshold while it holds) carry it; the message names them.

Sensors are grouped by the ``machine`` key of their configuration (the
equipment tag of the instrument's parent machine in Odoo); a sensor without
one has its univariate scorer only.

Nothing here does I/O or imports numpy. The learned state is plain JSON
(:meth:`AnomalyEngine.state_dict`, :meth:`AnomalyEngine.load_state`); the
pipeline saves it with the other detectors' state.

>>> eng = AnomalyEngine()
>>> eng.configure([{"tag": "A", "machine": "M"}, {"tag": "B", "machine": "M"}, {"tag": "C"}])
>>> [eng.update("A", float(t), 1.0).active for t in range(3)]
[False, False, False]
>>> {name: watch.tags for name, watch in eng.groups_.items()}
{'M': ['A', 'B']}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import lt
from typing import Any

from ..ml.online import DEFAULTS, OnlineDetector
from ..native import adopt
from .base import CRITICAL, OK, WARNING, Verdict

#: Slots after which a machine's row is scored even if a tag has not passed
#: it (a minute at 1 Hz: it covers a gateway's batches of readings published
#: tag by tag; see :class:`RowAligner`).
DEFAULT_GRACE = 60
#: Score from which an anomaly alert is critical.
CRITICAL_SCORE = 0.8


def _severity(score: float) -> str:
    return CRITICAL if score >= CRITICAL_SCORE else WARNING


class RowAligner:
    """Align the readings of several tags into rows, one per time slot.

    A slot is complete, and its row given out, once every tag has a reading
    of that slot or a later one (the watermark: the oldest of the tags'
    newest slots), or once any tag has a reading ``grace`` slots later (so
    that a missing or dead tag does not hold its machine back for ever: its
    value in those rows is a missing value). A reading of a slot already
    given out is late and left out.

    Gateways publish their readings in batches, tag by tag (say twenty
    seconds of one tag, then the same twenty seconds of the next): the
    watermark waits for the last tag of the batch, and ``grace`` must cover
    a batch so that the first tag's readings do not complete the rows before
    the other tags' readings of the same slots have arrived. The default
    (:data:`DEFAULT_GRACE`, 60 slots: a minute at 1 Hz) covers a few
    batches; what it costs is that a tag that stops reporting delays its
    machine's rows by ``grace`` slots.

    Parameters
    ----------
    tags : sequence of str
        The columns.
    period_s : float
        Slot length in seconds.
    grace : int
        A slot is complete at the latest once a reading of a slot ``grace``
        slots later has arrived.

    Examples
    --------
    A row is complete as soon as every tag has passed its slot:

    >>> al = RowAligner(["A", "B"], period_s=1.0, grace=3)
    >>> al.add("A", 10.0, 1.0), al.add("A", 11.0, 1.5)
    ([], [])
    >>> al.add("B", 10.2, 2.0)
    [(10.0, [1.0, 2.0])]
    >>> al.add("B", 11.4, 2.5)
    [(11.0, [1.5, 2.5])]

    When B stops, its slot is completed ``grace`` slots later, without it;
    a reading of a slot already given out is left out:

    >>> al.add_many("A", [12.0, 13.0, 14.0], [1.6, 1.7, 1.8])
    []
    >>> al.add("A", 15.0, 1.9)
    [(12.0, [1.6, None])]
    >>> al.add("B", 12.5, 0.0)  # too late: its row was given out
    []

    Batches published tag by tag lose nothing when ``grace`` covers them
    (the default does):

    >>> al = RowAligner(["A", "B", "C"])
    >>> ts = [0.0, 1.0, 2.0]
    >>> al.add_many("A", ts, [1.0, 1.1, 1.2]), al.add_many("B", ts, [2.0, 2.1, 2.2])
    ([], [])
    >>> al.add_many("C", ts, [3.0, 3.1, 3.2])
    [(0.0, [1.0, 2.0, 3.0]), (1.0, [1.1, 2.1, 3.1]), (2.0, [1.2, 2.2, 3.2])]
    """

    def __init__(self, tags: Sequence[str], period_s: float = 1.0, grace: int = DEFAULT_GRACE):
        self.tags = list(tags)
        self.index = {tag: j for j, tag in enumerate(self.tags)}
        self.period_s = float(period_s) if period_s and period_s > 0 else 1.0
        self.grace = int(grace)
        self.pending_: dict[int, list[float | None]] = {}
        # Slots (-inf: none yet): the newest of any tag, the last emitted,
        # the one up to which every slot is due; each tag's newest and the
        # oldest of those (the watermark) and how many tags are at it.
        self.newest_ = self.done_ = self.limit_ = self.low_ = -math.inf
        self.last_: list[float] = [-math.inf] * len(self.tags)
        self.at_low_ = len(self.tags)

    def add(self, tag: str, ts: float, value: float) -> list[tuple[float, list[float | None]]]:
        """Add a reading; return the rows completed, oldest first, as
        ``(slot start time, values)``."""
        return self.add_many(tag, (ts,), (value,))

    def add_many(
        self,
        tag: str,
        ts: Sequence[float],
        values: Sequence[float],
        ends: list[int] | None = None,
    ) -> list[tuple[float, list[float | None]]]:
        """Add a tag's readings in turn (:meth:`add` is this on one reading);
        return the rows they completed, oldest first. When *ends* is given,
        the number of rows completed so far is appended to it after each
        reading."""
        j = self.index.get(tag)
        out: list[tuple[float, list[float | None]]] = []
        if j is None:
            if ends is not None:
                ends.extend([0] * len(values))
            return out
        period, grace, pending, width = self.period_s, self.grace, self.pending_, len(self.tags)
        newest, done, limit, last = self.newest_, self.done_, self.limit_, self.last_
        low, at_low = self.low_, self.at_low_
        mine = last[j]
        due: Iterable[int]
        isfinite, floor = math.isfinite, math.floor
        for t, value in zip(ts, values, strict=True):
            if isfinite(t):
                slot = floor(t / period)
                if slot > done:  # else late: its row was given out
                    if slot <= limit:  # due already: no tag had a reading of it
                        due_row = pending.pop(slot, None) or [None] * width
                        due_row[j] = value
                        out.append((slot * period, due_row))
                        done = float(slot)
                    else:
                        row = pending.get(slot)
                        if row is None:
                            row = pending[slot] = [None] * width
                        row[j] = value
                    if slot > mine:
                        last[j] = slot
                        if mine == low:  # this tag held the watermark back
                            at_low -= 1
                            if not at_low:
                                low = min(last)
                                at_low = last.count(low)
                        mine = float(slot)
                        if mine > newest:
                            newest = mine
                        top = newest - grace
                        if low > top:
                            top = low
                        if top > limit:
                            # Slots up to the last limit were emitted: only
                            # those past it may be due.
                            if top - limit == 1:
                                due = (int(top),) if top in pending else ()
                            elif top - limit > len(pending):
                                due = sorted(s for s in pending if s <= top)
                            else:
                                due = [
                                    s for s in range(int(limit) + 1, int(top) + 1) if s in pending
                                ]
                            limit = top
                            for s in due:
                                out.append((s * period, pending.pop(s)))
                                done = float(s)
            if ends is not None:
                ends.append(len(out))
        self.newest_, self.done_, self.limit_ = newest, done, limit
        self.low_, self.at_low_ = low, at_low
        return out

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON."""

        def slot(s: float) -> int | None:
            return int(s) if math.isfinite(s) else None

        return {
            "pending": [[s, row] for s, row in sorted(self.pending_.items())],
            "newest": slot(self.newest_),
            "done": slot(self.done_),
            "limit": slot(self.limit_),
            "last": [slot(s) for s in self.last_],
        }

    def load_state(self, saved: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output (a state saved without the
        tags' newest slots takes them as not seen)."""

        def slot(s: Any) -> float:
            return -math.inf if s is None else int(s)

        self.pending_ = {int(s): list(row) for s, row in saved.get("pending") or []}
        self.newest_ = slot(saved.get("newest"))
        self.done_ = slot(saved.get("done"))
        # Every pending slot is past the last one emitted.
        self.limit_ = slot(saved.get("limit", saved.get("done")))
        last = saved.get("last")
        if not isinstance(last, list) or len(last) != len(self.tags):
            last = [None] * len(self.tags)
        self.last_ = [slot(s) for s in last]
        self.low_ = min(self.last_, default=-math.inf)
        self.at_low_ = self.last_.count(self.low_)


class MachineWatch:
    """The machine-level detector of one group and the tags it blames.

    Parameters
    ----------
    name : str
        The group (machine) name.
    tags : sequence of str
        Its tags.
    period_s : float
        Row period (the smallest reading interval of its tags).
    params : dict, optional
        :class:`~connector.ml.online.OnlineDetector` parameters (defaults:
        :data:`connector.ml.online.DEFAULTS`).
    """

    def __init__(
        self,
        name: str,
        tags: Sequence[str],
        period_s: float = 1.0,
        params: Mapping[str, Any] | None = None,
        grace: int = DEFAULT_GRACE,
    ) -> None:
        self.name = name
        self.tags = list(tags)
        self.aligner = RowAligner(self.tags, period_s, grace)
        self.detector = OnlineDetector(len(self.tags), names=self.tags, **dict(params or {}))
        self.blamed_: list[str] = []
        self.verdict_ = OK

    def add(
        self, tag: str, ts: float, value: float, on_score: Callable[..., Any] | None = None
    ) -> bool:
        """Add one reading; return True when the alarm state or blame changed."""
        rows = self.aligner.add(tag, ts, value)
        scores: list[float] | None = [] if on_score is not None else None
        changed, alarms = self.score_rows(rows, scores)
        if on_score is not None and scores:
            on = {i for i, _, _ in alarms}
            for i, ((t, _), score) in enumerate(zip(rows, scores, strict=True)):
                on_score(self.name, t, score, i in on)
        return changed

    def score_rows(
        self, rows: Sequence[tuple[float, Sequence[float | None]]], scores: list[float] | None
    ) -> tuple[bool, list[tuple[int, Verdict, list[str]]]]:
        """Score aligned rows in turn; return whether the alarm state or
        blame changed, and the rows after which the alarm was on (index, the
        verdict and the tags it blamed then). Each row's score is appended
        to *scores* when given."""
        changed = False
        alarms: list[tuple[int, Verdict, list[str]]] = []
        if not rows:
            return changed, alarms
        det = self.detector
        flat = [x for _, row in rows for x in row] if len(rows) > 1 else rows[0][1]
        n_rows = len(rows)
        tags = self.tags
        ratios = det.ratios_
        index = 0
        while index < n_rows:
            was = det.active_
            start = index
            index = det.update_many(flat, index, scores)
            alarm = det.active_
            if not alarm:  # every row taken left the alarm off
                if was:  # cleared at the first of them
                    self.blamed_ = []
                    changed = True
                self.verdict_ = OK
                continue
            if index - start > 1:  # rows before the last one left the alarm off
                if was:
                    self.blamed_ = []
                    changed = True
                was = False
            score = det.score_
            if not was:
                self.blamed_ = [
                    tags[j]
                    for j in sorted(range(len(ratios)), key=lambda j: -ratios[j])
                    if ratios[j] > 0.5
                ] or [tags[max(range(len(ratios)), key=ratios.__getitem__)]]
                changed = True
            else:
                for j, r in enumerate(ratios):
                    if r > 1.0 and tags[j] not in self.blamed_:
                        self.blamed_.append(tags[j])
                        changed = True
            parts = ", ".join(f"{tag} {ratios[tags.index(tag)]:.2f}x" for tag in self.blamed_)
            self.verdict_ = Verdict(
                True,
                _severity(score),
                f"machine {self.name}: anomaly score {score:.2f} over its tags "
                f"(contributing: {parts})",
            )
            alarms.append((index - 1, self.verdict_, list(self.blamed_)))
        return changed, alarms

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "tags": self.tags,
            "aligner": self.aligner.state_dict(),
            "detector": self.detector.state_dict(),
            "blamed": self.blamed_,
            "verdict": [self.verdict_.active, self.verdict_.severity, self.verdict_.message],
        }

    def load_state(self, saved: Mapping[str, Any]) -> bool:
        """Restore :meth:`state_dict` output when it is of the same tags."""
        if list(saved.get("tags") or []) != self.tags:
            return False
        if not self.detector.load_state(saved.get("detector") or {}):
            return False
        self.aligner.load_state(saved.get("aligner") or {})
        self.blamed_ = list(saved.get("blamed") or [])
        active, severity, message = saved.get("verdict") or (False, None, "")
        self.verdict_ = Verdict(True, severity, message) if active else OK
        return True


class TagScorer:
    """The univariate online scorer of one tag (readings newer than the last)."""

    def __init__(self, tag: str, params: Mapping[str, Any] | None = None) -> None:
        self.tag = tag
        self.detector = OnlineDetector(1, names=[tag], **dict(params or {}))
        self.last_ts_: float | None = None
        self.verdict_ = OK

    def update(self, ts: float, value: float) -> Verdict:
        """Score one reading; an older or repeated time is not scored."""
        return self.update_many((ts,), (value,))[0]

    def update_many(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        flags: list[tuple[float, bool] | None] | None = None,
    ) -> list[Verdict]:
        """Score readings in turn (:meth:`update` is this on one reading);
        return the verdict after each.

        When *flags* is given, ``(score, alarm)`` after each reading is
        appended to it: ``None`` for a reading older than the last one, the
        last scored reading's for one that repeats its time.
        """
        last = first_last = self.last_ts_
        n = len(ts)
        order: list[int] | None = None
        if (last is None or ts[0] > last) and (n == 1 or all(map(lt, ts, ts[1:]))):
            taken = values  # every reading newer than the one before
        else:
            order = []
            for i, t in enumerate(ts):
                if last is None or t > last:
                    order.append(i)
                    last = t
            taken = [values[i] for i in order]
        det = self.detector
        if order is not None:
            before = self.verdict_, det.score_, det.active_
        scores: list[float] | None = [] if flags is not None else None
        n_taken = len(taken)
        verdicts = [OK] * n_taken
        pos = 0
        while pos < n_taken:
            pos = det.update_many(taken, pos, scores)
            if det.active_:
                verdicts[pos - 1] = Verdict(
                    True,
                    _severity(det.score_),
                    f"anomaly score {det.score_:.2f} ({det.ratios_[0]:.2f}x its learned "
                    f"threshold, {det.mode_[0]})",
                )
        if n_taken:
            self.verdict_ = verdicts[-1]
            self.last_ts_ = ts[-1] if order is None else ts[order[-1]]
        if order is None:
            if flags is not None and scores is not None:
                flags.extend(zip(scores, [v.active for v in verdicts], strict=True))
            return verdicts
        out: list[Verdict] = []
        verdict, score, alarm = before
        last = first_last
        k = 0
        for i, t in enumerate(ts):
            if k < n_taken and order[k] == i:
                verdict = verdicts[k]
                if scores is not None:
                    score, alarm = scores[k], verdict.active
                k += 1
                last = t
                if flags is not None:
                    flags.append((score, alarm))
            elif flags is not None:
                flags.append((score, alarm) if t == last else None)
            out.append(verdict)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"last_ts": self.last_ts_, "detector": self.detector.state_dict()}

    def load_state(self, saved: Mapping[str, Any]) -> bool:
        """Restore :meth:`state_dict` output."""
        if not self.detector.load_state(saved.get("detector") or {}):
            return False
        self.last_ts_ = saved.get("last_ts")
        score = self.detector.score_
        self.verdict_ = (
            Verdict(True, _severity(score), f"anomaly score {score:.2f}")
            if self.detector.active_
            else OK
        )
        return True


def group_of(sensor: Mapping[str, Any]) -> str | None:
    """The machine group of a sensor configuration (``None``: none).

    >>> group_of({"tag": "PT-101", "machine": "FL-01"}), group_of({"machine": False})
    ('FL-01', None)
    """
    machine = sensor.get("machine")
    if isinstance(machine, str) and machine.strip():
        return machine.strip()
    return None


class AnomalyEngine:
    """Univariate scorers per tag and machine-level detectors per group.

    Parameters
    ----------
    params : dict, optional
        :class:`~connector.ml.online.OnlineDetector` parameters, the same for
        every scorer (default: :data:`connector.ml.online.DEFAULTS`).
    grace : int
        Slots after which a machine's row is scored without the tags that
        have not passed it (see :class:`RowAligner`).
    on_score : callable, optional
        ``on_score(name, ts, score, alarm)`` after each score (a tag's name
        for the univariate scorers, the group's for the machines); tests and
        the recorder use it.
    """

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        grace: int = DEFAULT_GRACE,
        on_score: Callable[..., Any] | None = None,
    ) -> None:
        self.params = {**DEFAULTS, **dict(params or {})}
        self.grace = grace
        self.on_score = on_score
        self.tags_: dict[str, TagScorer] = {}
        self.groups_: dict[str, MachineWatch] = {}
        self.group_of_: dict[str, str] = {}
        self.ruled_: set[str] = set()

    def configure(self, sensors: Iterable[Mapping[str, Any]]) -> None:
        """Set the tags and groups; scorers whose tag (and group, for the
        machines) did not change keep their learned state."""
        members: dict[str, list[str]] = {}
        periods: dict[str, float] = {}
        tags: dict[str, TagScorer] = {}
        for sensor in sensors:
            tag = sensor.get("tag")
            if not isinstance(tag, str) or not tag:
                continue
            tags[tag] = self.tags_.get(tag) or TagScorer(tag, self.params)
            group = group_of(sensor)
            if group is None:
                continue
            members.setdefault(group, []).append(tag)
            interval = sensor.get("interval_s")
            if (
                isinstance(interval, int | float)
                and not isinstance(interval, bool)
                and interval > 0
            ):
                periods[group] = min(periods.get(group, math.inf), float(interval))
        groups: dict[str, MachineWatch] = {}
        for group, names in members.items():
            old = self.groups_.get(group)
            period = periods.get(group, 1.0)
            if old is not None and old.tags == names and old.aligner.period_s == period:
                groups[group] = old
            else:
                groups[group] = MachineWatch(group, names, period, self.params, self.grace)
        self.tags_, self.groups_ = tags, groups
        self.group_of_ = {tag: group for group, names in members.items() for tag in names}

    def update(self, tag: str, ts: float, value: float) -> Verdict:
        """Feed one reading; return the tag's ``anomaly`` verdict (its own
        scorer's and its machine's alarm merged)."""
        return self.update_many(tag, (ts,), (value,))[0]

    def update_many(self, tag: str, ts: Sequence[float], values: Sequence[float]) -> list[Verdict]:
        """Feed a tag's readings in turn (:meth:`update` is this on one
        reading); return the tag's ``anomaly`` verdict after each."""
        scorer = self.tags_.get(tag)
        if scorer is None:
            return [OK] * len(values)
        on_score = self.on_score
        flags: list[tuple[float, bool] | None] | None = [] if on_score is not None else None
        own = scorer.update_many(ts, values, flags)
        watch = self.groups_.get(self.group_of_.get(tag, ""))
        if watch is None:
            if on_score is not None and flags is not None:
                for t, flag in zip(ts, flags, strict=True):
                    if flag is not None:
                        on_score(tag, t, *flag)
            return own
        carried = watch.verdict_ if watch.verdict_.active and tag in watch.blamed_ else None
        ends: list[int] = []
        rows = watch.aligner.add_many(tag, ts, values, ends)
        scores: list[float] | None = [] if on_score is not None else None
        alarms = watch.score_rows(rows, scores)[1] if rows else ()
        if on_score is not None and flags is not None and scores is not None:
            on = {r for r, _, _ in alarms}
            r = 0
            for t, flag, end in zip(ts, flags, ends, strict=True):
                if flag is not None:
                    on_score(tag, t, *flag)
                while r < end:
                    on_score(watch.name, rows[r][0], scores[r], r in on)
                    r += 1
        if carried is None and not alarms:
            return own  # the machine's alarm held no reading of this tag
        after = {r: (verdict if tag in blamed else None) for r, verdict, blamed in alarms}
        out = []
        for verdict, end in zip(own, ends, strict=True):
            if end:
                carried = after.get(end - 1)
            if carried is None:
                out.append(verdict)
            elif not verdict.active:
                out.append(carried)
            else:
                severity = CRITICAL if CRITICAL in (verdict.severity, carried.severity) else WARNING
                out.append(Verdict(True, severity, f"{verdict.message}; {carried.message}"))
        return out

    def leave_to_rules(self, tag: str, verdict: Verdict, rule: Verdict) -> Verdict:
        """The tag's anomaly verdict, unless a limit rule reports the excursion.

        An anomaly of a tag that rises or holds while the tag's limit rule is
        violated is the rule's alert: it is left out until it ends (the
        limit rules take the large excursions, the engine what they miss).
        """
        if not verdict.active:
            self.ruled_.discard(tag)
            return verdict
        if rule.active or tag in self.ruled_:
            self.ruled_.add(tag)
            return OK
        return verdict

    def holds(self, tag: str) -> bool:
        """Whether the tag's anomaly verdict is active now."""
        scorer = self.tags_.get(tag)
        if scorer is not None and scorer.verdict_.active:
            return True
        watch = self.groups_.get(self.group_of_.get(tag, ""))
        return watch is not None and watch.verdict_.active and tag in watch.blamed_

    def state_dict(self) -> dict[str, Any]:
        """The learned state of every scorer, plain JSON."""
        return {
            "params": self.params,
            "tags": {tag: s.state_dict() for tag, s in self.tags_.items()},
            "groups": {name: w.state_dict() for name, w in self.groups_.items()},
            "ruled": sorted(self.ruled_),
        }

    def load_state(self, saved: Mapping[str, Any]) -> int:
        """Restore the scorers :meth:`state_dict` saved (those of the same
        tags and configuration); return how many were restored."""
        if not isinstance(saved, Mapping) or saved.get("params") != self.params:
            return 0
        n = 0
        self.ruled_ = {tag for tag in saved.get("ruled") or () if tag in self.tags_}
        for tag, state in (saved.get("tags") or {}).items():
            if tag in self.tags_ and self.tags_[tag].load_state(state):
                n += 1
        for name, state in (saved.get("groups") or {}).items():
            if name in self.groups_ and self.groups_[name].load_state(state):
                n += 1
        return n


def replay_stream(
    readings: Iterable[Any],
    sensors: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any] | None = None,
    on_score: Callable[..., Any] | None = None,
) -> AnomalyEngine:
    """Replay stored readings (``tag``, ``ts``, ``value``, in the order they
    were stored) through the tags' detectors and an :class:`AnomalyEngine`,
    as the pipeline ran them live; return the engine.

    The engine sees exactly the readings the pipeline gave it: those its
    tag's detectors evaluated (newer than the tag's last reading) while the
    instrument was inside its signal range.
    """
    from .base import RULE_VIOLATION
    from .tag import build_detectors

    monitors = {}
    for sensor in sensors:
        tag = sensor.get("tag")
        if isinstance(tag, str) and tag:
            try:
                monitors[tag] = build_detectors(sensor)
            except ValueError:
                continue
    engine = AnomalyEngine(params, on_score=on_score)
    engine.configure([s for s in sensors if s.get("tag") in monitors])
    for reading in readings:
        monitor = monitors.get(reading.tag)
        if monitor is None:
            continue
        if RULE_VIOLATION in monitor.update(reading.ts, reading.value):
            engine.update(reading.tag, reading.ts, reading.value)
    return engine


#: Whether the classes above are the compiled twin's, built from this very
#: source (see :mod:`connector.native`); the interpreted ones stay reachable
#: under these names.
PyRowAligner, PyMachineWatch, PyTagScorer, PyAnomalyEngine = (
    RowAligner,
    MachineWatch,
    TagScorer,
    AnomalyEngine,
)
NATIVE = adopt(globals(), ("RowAligner", "MachineWatch", "TagScorer", "AnomalyEngine"))
