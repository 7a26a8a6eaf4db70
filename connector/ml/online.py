"""The online anomaly engine: one detector for live readings and for replay.

:class:`OnlineDetector` watches one signal or several signals of one
machine at once. It takes one row of readings at a time (``NaN`` or
``None`` where a reading is missing) and returns a calibrated score in
``[0, 1]`` (0.5 is the alarm threshold) and an alarm flag. It learns as the
rows arrive: nothing assumes that the first rows describe the whole series.
It is plain Python (no numpy), a few dozen float operations per signal and
row, so that the daemon runs it on every reading.

Per signal:

1. an exponentially weighted moving average (weight ``alpha``) smooths the
   readings: the *level*;
2. the baseline of the level is a robust streaming centre and spread: an
   exponentially weighted mean of the level (weight ``1/n`` during the
   warm-up, then ``forget_centre``) and an exponentially weighted mean
   absolute deviation from it (weight ``1/n`` for the first ``1/forget``
   rows, then ``forget``), both winsorised (a row moves them by at most ``clip`` spreads), so that a
   spike is not learned and a slow trend or a daily cycle is followed;
3. the *evidence* is the level's distance from the centre over a threshold:
   ``margin`` spreads, never less than ``rel_floor`` times the centre
   (a 2.5 % change of a 30 m3/h flow matters; a 0.01 g change of a quiet
   0.2 g vibration does not) nor than a tenth of the signal's noise (so
   that a signal constant at 0 through its baseline, of zero spread, does
   not score without bound each time it moves);
4. learning stops while the signal is beyond its threshold or the alarm is
   on (an anomaly is not learned as normal), except that a deviation lasting
   ``relearn_after`` rows is a new normal: the signal's centre moves to its
   level and its learning resumes.

A signal whose level wanders far more than its noise explains (a
temperature following the weather) is watched by its *change* over
``change_lag`` rows instead of its level (its baseline is learned the same
way); the choice is made online, from the level's spread against the noise
(half the mean absolute first difference), and revised as the rows come.

Each signal's threshold is multiplied by a learned *tail* (at least 1), so
that a pattern that recurs (a daily square wave, a burst every few hours)
stops alarming every time while a rare excursion keeps its full score:
alarms less than ``tail_gap`` rows apart form one *episode*; when an episode
ends, the tail of every signal that went beyond its threshold in it is
multiplied by ``peak ** tail_gain`` (the largest ratio it reached, over its
tail then), and between episodes the tail's excess over 1 fades at the
spread's rate ``forget``. The same excursion recurring soon after scores
about ``peak ** (1 - tail_gain)`` the second time and less the next times
(it stops alarming when it is not much over its threshold and recurs
within a few hundred rows, as flickers of one event do); a larger one keeps
a high score; one that does not come back for a few ``1/forget`` rows is
rare again. The warm-up's excursions (once a signal's baseline holds 200
rows) are learned the same way, as if they had alarmed: the warm-up is
normal. The tail moves only when an episode has ended, so a long anomaly
keeps its score while it lasts.

The evidence of a row is the largest of the signals' evidences; the score is
``evidence / (1 + evidence)`` (so 0.5 at the threshold, rising with the
excursion and falling when it ends); the alarm rises when the evidence
exceeds 1 for ``on_count`` rows and clears when it stays below
``clear_ratio`` for ``off_count`` rows. The first ``warmup`` rows (the
``--train-rows`` of a replay) only learn: score 0, no alarm.

Every output depends on that row and earlier rows only (strict causality),
and :meth:`OnlineDetector.state_dict` / :meth:`OnlineDetector.load_state`
carry the learned state across restarts as plain JSON.

>>> det = OnlineDetector(1, warmup=200)
>>> import random
>>> rng = random.Random(0)
>>> rows = [[30 + rng.gauss(0, 1)] for _ in range(300)]
>>> rows += [[24.0]] * 40 + [[30 + rng.gauss(0, 1)] for _ in range(60)]
>>> flags = [det.update(row)[1] for row in rows]
>>> rise = flags.index(True)
>>> rise, flags.index(False, rise)  # the signal drops at row 300, is back at 340
(301, 361)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..native import adopt

KIND = "online"
#: Format of :meth:`OnlineDetector.state_dict` (bumped when it changes).
STATE_VERSION = 2

#: The one default configuration, for every data set and the daemon alike.
DEFAULTS: dict[str, Any] = {
    "alpha": 0.1,
    "forget": 0.001,
    "forget_centre": 0.0001,
    "margin": 7.0,
    "clip": 3.0,
    "rel_floor": 0.025,
    "change_lag": 30,
    "wander_limit": 3.0,
    "clear_ratio": 0.55,
    "on_count": 1,
    "off_count": 1,
    "relearn_after": 1200,
    "tail_gain": 0.5,
    "tail_gap": 60,
    "warmup": 400,
}

LEVEL = "level"
CHANGE = "change"
_TINY = 1e-12
#: The level's threshold is never below this share of the signal's noise
#: (its mean absolute step): a signal constant through its baseline (zero
#: spread, a centre of 0) gets a finite threshold once it has moved.
_STEP_FLOOR = 0.1


def _learn(
    x: float,
    cen: float,
    mad: float,
    n: int,
    learning: bool,
    forget: float,
    forget_c: float,
    clip: float,
) -> tuple[float, float]:
    """One step of a robust streaming baseline (the level's and the
    change's): its centre and spread after learning *x*, having learned *n*
    values. Weights ``1/(n+1)`` at first, then ``forget`` (the spread) and
    ``forget_c`` (the centre, once past the warm-up); the step is clipped to
    ``clip`` spreads once ten values are learned."""
    w = 1.0 / (n + 1) if (n + 1) * forget < 1.0 else forget
    wc = 1.0 / (n + 1) if learning or n < 10 else forget_c
    lim = clip * mad if n >= 10 and mad > 0 else math.inf
    d = x - cen
    cen += wc * (lim if d > lim else -lim if d < -lim else d)
    dev = x - cen
    if dev <= 0.0:
        dev = 0.0 - dev
    return cen, mad + w * ((lim if dev > lim else dev) - mad)


class OnlineDetector:
    """Streaming detector over ``n_signals`` signals (see the module docstring).

    Parameters
    ----------
    n_signals : int
        Signals per row (1 for a univariate scorer).
    names : sequence of str, optional
        Signal names (tags), used by :meth:`explain`.
    alpha : float
        EWMA weight of the newest reading.
    forget : float
        Learning weight of the spread once ``1/forget`` rows are learned
        (``1/n`` before: slow forgetting).
    forget_centre : float
        Learning weight of the centre after the warm-up (``1/n`` during it):
        slower than the spread's, so that the slow onset of an anomaly is
        not followed.
    margin : float
        Threshold in spreads (mean absolute deviations).
    clip : float
        A row moves the baseline by at most this many spreads.
    rel_floor : float
        Smallest threshold as a fraction of the centre.
    change_lag : int
        Rows over which a wandering signal's change is taken.
    wander_limit : float
        Spread of the level over the noise from which a signal is watched
        by its change.
    clear_ratio : float
        Evidence below which the alarm may clear.
    on_count, off_count : int
        Consecutive rows to raise and to clear the alarm.
    relearn_after : int
        Rows a signal may stay beyond its threshold before its level is
        taken as the new normal.
    tail_gain : float
        Share (as an exponent) of an episode's peak ratio taken into the
        signal's tail when the episode ends (0: no tail learning).
    tail_gap : int
        Rows without an alarm that end an episode.
    warmup : int
        Leading rows that only learn.
    """

    # The parameters, set from DEFAULTS and the keyword arguments.
    alpha: float
    forget: float
    forget_centre: float
    margin: float
    clip: float
    rel_floor: float
    change_lag: int
    wander_limit: float
    clear_ratio: float
    on_count: int
    off_count: int
    relearn_after: int
    warmup: int
    tail_gain: float
    tail_gap: int

    def __init__(
        self,
        n_signals: int = 1,
        names: Sequence[str] | None = None,
        **params: Any,
    ) -> None:
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        opts = {**DEFAULTS, **params}
        for name, value in opts.items():
            setattr(self, name, value)
        self._check()
        if n_signals < 1:
            raise ValueError("need at least one signal")
        self.k = int(n_signals)
        self._signal_consts = (
            self.alpha,
            self.change_lag,
            self.change_lag + int(3.0 / self.alpha),
            self.forget,
            self.forget_centre,
            self.margin,
            self.rel_floor,
            self.clip,
            self.relearn_after,
            self.wander_limit,
            1.0 - self.forget,
        )
        self._row_consts = (
            self.warmup,
            self.on_count,
            self.off_count,
            self.clear_ratio,
            self.tail_gain,
            self.tail_gap,
        )
        self.names = list(names) if names is not None else [f"s{j}" for j in range(self.k)]
        if len(self.names) != self.k:
            raise ValueError(f"{self.k} signals but {len(self.names)} names")
        self.reset()

    def _check(self) -> None:
        if not 0 < self.alpha <= 1 or not 0 < self.forget < 1:
            raise ValueError("alpha must lie in (0, 1], forget in (0, 1)")
        for name in ("change_lag", "on_count", "off_count", "relearn_after", "tail_gap"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError("warmup must be an integer >= 0")
        if self.margin <= 0 or self.clip <= 0 or self.clear_ratio <= 0 or self.rel_floor < 0:
            raise ValueError("margin, clip and clear_ratio must be > 0, rel_floor >= 0")
        if not 0 <= self.tail_gain <= 1:
            raise ValueError("tail_gain must lie in [0, 1]")

    def get_params(self) -> dict[str, Any]:
        """The configuration (to compare two detectors)."""
        return {name: getattr(self, name) for name in DEFAULTS}

    # -- state ---------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything learned."""
        k = self.k
        nan = math.nan
        self.rows_ = 0
        self.level_ = [nan] * k  # EWMA of the readings
        self.last_ = [nan] * k  # last reading (noise estimate)
        self.noise_ = [0.0] * k  # EW mean |first difference|
        self.hist_ = [[nan] * self.change_lag for _ in range(k)]  # past levels
        self.seen_ = [0] * k  # readings per signal
        self.lcen_ = [nan] * k  # level baseline: centre, spread, count
        self.lmad_ = [0.0] * k
        self.ln_ = [0] * k
        self.ccen_ = [0.0] * k  # change baseline
        self.cmad_ = [0.0] * k
        self.cn_ = [0] * k
        self.mode_ = [LEVEL] * k
        self.over_ = [0] * k  # consecutive rows beyond the threshold
        self.ratios_ = [0.0] * k
        self.tail_ = [1.0] * k  # the ratio's learned tail (threshold multiplier)
        self.peak_ = [0.0] * k  # largest ratio over the tail in the episode
        self.epi_ = -1  # rows of the current alarm episode (-1: none)
        self.quiet_ = 0  # rows since the alarm cleared
        self.active_ = False
        self.run_ = 0
        self.score_ = 0.0

    _STATE = (
        "rows_",
        "level_",
        "last_",
        "noise_",
        "hist_",
        "seen_",
        "lcen_",
        "lmad_",
        "ln_",
        "ccen_",
        "cmad_",
        "cn_",
        "mode_",
        "over_",
        "ratios_",
        "tail_",
        "peak_",
        "epi_",
        "quiet_",
        "active_",
        "run_",
        "score_",
    )

    def state_dict(self) -> dict[str, Any]:
        """The learned state as plain JSON (NaN as ``None``)."""

        def flat(values: list[Any]) -> list[Any]:
            return [None if v != v else v for v in values]  # NaN -> None

        state = {name: getattr(self, name) for name in self._STATE}
        for name in ("level_", "last_", "lcen_"):
            state[name] = flat(state[name])
        state["hist_"] = [flat(h) for h in self.hist_]
        for name in ("noise_", "seen_", "lmad_", "ln_", "ccen_", "cmad_", "cn_", "mode_", "over_"):
            state[name] = list(state[name])
        state["ratios_"] = list(self.ratios_)
        state["tail_"] = list(self.tail_)
        state["peak_"] = list(self.peak_)
        return {
            "version": STATE_VERSION,
            "kind": KIND,
            "names": list(self.names),
            "params": self.get_params(),
            "state": state,
        }

    def load_state(self, saved: Mapping[str, Any]) -> bool:
        """Restore :meth:`state_dict` output; return False (and change
        nothing) when it was saved by another format, other signals or another
        configuration."""
        if (
            not isinstance(saved, Mapping)
            or saved.get("version") != STATE_VERSION
            or list(saved.get("names") or []) != self.names
            or saved.get("params") != self.get_params()
        ):
            return False
        state = saved.get("state") or {}

        def back(v: Any) -> Any:
            if isinstance(v, list):
                return [back(x) for x in v]
            return math.nan if v is None else v

        if set(state) != set(self._STATE):
            return False
        for name in self._STATE:
            value = state[name]
            setattr(self, name, back(value) if name not in ("mode_",) else list(value))
        self.active_ = bool(self.active_)
        return True

    # -- streaming -----------------------------------------------------------

    def update(self, row: Sequence[float | None]) -> tuple[float, bool]:
        """Take one row (one value per signal, NaN/None if missing);
        return ``(score in [0, 1], alarm)``."""
        if len(row) != self.k:
            raise ValueError(f"a row holds {self.k} signals, got {len(row)}")
        self.update_many(row)
        return self.score_, self.active_

    def update_many(
        self,
        values: Sequence[float | None],
        start: int = 0,
        scores: list[float] | None = None,
    ) -> int:
        """Take several rows at once: the same arithmetic as :meth:`update`
        row by row (which is this method on one row).

        *values* holds the rows one after the other (``k`` values each);
        rows are taken from row *start* on, and each row's score is appended
        to *scores* when given. It stops after the first row whose alarm is
        on, so that :attr:`ratios_`, :attr:`score_` and :attr:`active_`
        describe that row, and returns the index of the next row to take
        (the number of rows when all were taken); every row it took but
        that one left the alarm off.

        The rows are taken in *runs* over which what a signal's arithmetic
        depends on besides the signal (warm-up or not, alarm on or off,
        inside an alarm episode or not) stays as it was: each signal's
        readings of a run go through :meth:`_signal_run` at once, and the
        rows' evidences (the largest of the signals') then decide the alarm
        row by row. A run ends where that may change: at the end of the
        warm-up, at the row that would end the episode, after one row while
        the alarm is on. When a row of the run changes it after all (the
        alarm rises; a warm-up excursion starts an episode), the run is cut
        after that row: the signals take the run's rows up to it again, from
        their state before the run, and the next run starts after it.

        >>> det = OnlineDetector(2, warmup=0)
        >>> det.update_many([1.0, 2.0, 1.0, None])
        2
        """
        k = self.k
        n_rows = len(values) // k
        warmup, on_count, off_count, clear_ratio, gain, gap = self._row_consts
        run_signals = self._run_signals
        signals = range(k)
        ratios, tail_, peak_ = self.ratios_, self.tail_, self.peak_
        rows = self.rows_
        active, run, epi, quiet = self.active_, self.run_, self.epi_, self.quiet_
        score = self.score_
        index = start
        try:
            while index < n_rows:
                learning = rows < warmup  # the run's next row is row rows + 1
                frozen = active
                if active:
                    stop = index + 1
                else:
                    stop = n_rows
                    if learning and index + warmup - rows < stop:
                        stop = index + warmup - rows
                    if epi >= 0 and index + gap - quiet < stop:
                        stop = index + gap - quiet
                decay = epi < 0
                # What each row's `on` is if nothing changes within the run.
                expected = frozen and not learning
                runs = run_signals(values, index, stop, learning, frozen, decay)
                best = runs[0][1] if k == 1 else list(map(max, *[r[1] for r in runs]))
                taken = 0
                ended = False
                for e in best:
                    taken += 1
                    rows += 1
                    if learning:
                        score = 0.0
                        on = e > 1.0
                    else:
                        # The alarm, with hysteresis.
                        if not active:
                            run = run + 1 if e > 1.0 else 0
                            if run >= on_count:
                                active, run = True, 0
                        else:
                            run = run + 1 if e < clear_ratio else 0
                            if run >= off_count:
                                active, run = False, 0
                        on = active
                        score = e / (1.0 + e)
                    # An episode: alarms less than `gap` rows apart.
                    if on:
                        epi = epi + 1 if epi >= 0 else 1
                        quiet = 0
                    elif epi >= 0:
                        epi += 1
                        quiet += 1
                        if quiet >= gap:  # the run's last row
                            ended = True
                            epi = -1
                    if scores is not None:
                        scores.append(score)
                    if on != expected:
                        break
                if taken < len(best):  # cut: take the rows up to this one again
                    runs = run_signals(values, index, index + taken, learning, frozen, decay)
                last = taken - 1
                for j in signals:
                    state, out = runs[j]
                    self._signal_save(j, state)
                    ratios[j] = 0.0 if learning else out[last]
                index += taken
                if ended:
                    # The episode is over: each signal's tail moves towards
                    # the peak it reached, so that a pattern that recurs
                    # alarms less each time and a rare excursion keeps its
                    # full score.
                    for j in signals:
                        p = peak_[j]
                        if p > 1.0:
                            tail_[j] *= p**gain
                        peak_[j] = 0.0
                if active:
                    break
        finally:
            self.rows_, self.active_, self.run_, self.score_ = rows, active, run, score
            self.epi_, self.quiet_ = epi, quiet
        return index

    def _run_signals(
        self,
        values: Sequence[float | None],
        first: int,
        stop: int,
        learning: bool,
        frozen: bool,
        decay: bool,
    ) -> list[tuple[tuple[Any, ...], list[float]]]:
        """:meth:`_signal_run` of each signal over rows *first* to *stop*
        (excluded) of *values* (``k`` values a row)."""
        k = self.k
        return [
            self._signal_run(j, values[first * k + j : stop * k : k], learning, frozen, decay)
            for j in range(k)
        ]

    def _signal_run(
        self,
        j: int,
        column: Sequence[float | None],
        learning: bool,
        frozen: bool,
        decay: bool,
    ) -> tuple[tuple[Any, ...], list[float]]:
        """Signal *j*'s arithmetic over the readings of a run of rows
        (``None`` or NaN: missing), from its saved state, the run's context
        being *learning* (the warm-up), *frozen* (the alarm is on: the
        baselines do not learn beyond the threshold) and *decay* (no alarm
        episode: the tail fades). Returns the signal's state after the run
        (for :meth:`_signal_save`; nothing is saved here) and its evidence
        at each row: its ratio to its threshold (0 where it has no reading
        or no baseline yet; during the warm-up, its excursion as learned).
        """
        (
            alpha,
            lag,
            settle,
            forget,
            forget_c,
            margin,
            rel_floor,
            clip,
            relearn,
            wander_limit,
            keep,
        ) = self._signal_consts
        step_floor = _STEP_FLOOR
        seen = self.seen_[j]
        lvl = self.level_[j]
        last = self.last_[j]
        noise = self.noise_[j]
        hist = self.hist_[j][:]
        lcen = self.lcen_[j]
        lmad = self.lmad_[j]
        ln = self.ln_[j]
        over = self.over_[j]
        ccen = self.ccen_[j]
        cmad = self.cmad_[j]
        cn = self.cn_[j]
        mode = self.mode_[j]
        q = self.tail_[j]
        peak = self.peak_[j]
        out: list[float] = []
        append = out.append
        for x in column:
            if x is None:
                append(0.0)
                continue
            if type(x) is not float:
                x = float(x)
            if x - x != 0.0:  # NaN or infinite: missing
                append(0.0)
                continue
            seen += 1
            lvl = x if lvl != lvl else lvl + alpha * (x - lvl)
            if last == last:
                w = 1.0 / seen if seen * forget < 1.0 else forget
                a = x - last
                noise += w * ((a if a > 0.0 else 0.0 - a) - noise)
            last = x
            slot = seen % lag
            past = hist[slot]
            hist[slot] = lvl
            if seen <= settle:
                append(0.0)
                continue
            # The level's baseline.
            if ln == 0:
                lcen, lmad, ln = lvl, 0.0, 1
                r_level = 0.0
                cen = lvl
            else:
                cen = lcen
                mad = lmad
                d = lvl - cen
                thr = margin * mad
                floor = rel_floor * (cen if cen > 0.0 else 0.0 - cen)
                if floor > thr:
                    thr = floor
                floor = step_floor * noise
                if floor > thr:
                    thr = floor
                if thr < _TINY:
                    thr = _TINY
                r_level = (d if d > 0.0 else 0.0 - d) / thr
                over = over + 1 if r_level > 1.0 and not learning else 0
                if over >= relearn:  # a lasting shift: the new normal
                    cen = lcen = lvl
                    over = 0
                elif learning or ln < 10 or (not frozen and r_level <= 1.0):
                    cen, lmad = _learn(lvl, cen, mad, ln, learning, forget, forget_c, clip)
                    lcen = cen
                    ln += 1
            # The change's baseline (threshold floor: a share of the level).
            change = lvl - past
            n = cn
            mad = cmad
            d = change - ccen
            if n >= 10:
                thr = margin * mad
                floor = rel_floor * (cen if cen > 0.0 else 0.0 - cen)
                if floor > thr:
                    thr = floor
                if thr < _TINY:
                    thr = _TINY
                r_change = (d if d > 0.0 else 0.0 - d) / thr
            else:
                r_change = 0.0
            if learning or n < 10 or (not frozen and r_change <= 1.0):
                ccen, cmad = _learn(change, ccen, mad, n, learning, forget, forget_c, clip)
                cn = n + 1
            # Which quantity this signal is watched by.
            wander = lmad / (0.5 * noise + _TINY)
            if mode == LEVEL:
                if wander > wander_limit:
                    mode = CHANGE
            elif wander < 0.5 * wander_limit:
                mode = LEVEL
            r = r_change if mode == CHANGE else r_level
            if ln < 10:
                r = 0.0
            # The tail: a multiplier of the threshold learned from the peaks
            # of earlier alarm episodes, fading back to 1 between them.
            if decay and q > 1.0:
                q = 1.0 + (q - 1.0) * keep
            r /= q
            # The warm-up's excursions are normal: learned as those of
            # alarms are, once the baseline holds.
            if learning and ln < 200:
                r = 0.0
            if r > peak:
                peak = r
            append(r)
        state = (seen, lvl, last, noise, hist, lcen, lmad, ln, over, ccen, cmad, cn, mode, q, peak)
        return state, out

    def _signal_save(self, j: int, state: tuple[Any, ...]) -> None:
        """Keep signal *j*'s state after a run (:meth:`_signal_run`)."""
        (
            self.seen_[j],
            self.level_[j],
            self.last_[j],
            self.noise_[j],
            self.hist_[j],
            self.lcen_[j],
            self.lmad_[j],
            self.ln_[j],
            self.over_[j],
            self.ccen_[j],
            self.cmad_[j],
            self.cn_[j],
            self.mode_[j],
            self.tail_[j],
            self.peak_[j],
        ) = state

    # -- description ---------------------------------------------------------

    def explain(self, top: int = 3, above: float = 0.0) -> list[tuple[str, float]]:
        """Signals with the largest evidence at the last row (over *above*)."""
        order = sorted(range(self.k), key=lambda j: -self.ratios_[j])[:top]
        return [
            (self.names[j], round(self.ratios_[j], 3)) for j in order if self.ratios_[j] > above
        ]

    def metrics(self) -> dict[str, Any]:
        """What was learned, as plain JSON."""
        return {
            "rows": self.rows_,
            "params": self.get_params(),
            "signals": {
                name: {
                    "mode": self.mode_[j],
                    "centre": self.lcen_[j] if math.isfinite(self.lcen_[j]) else None,
                    "spread": self.lmad_[j],
                    "noise": self.noise_[j],
                }
                for j, name in enumerate(self.names)
            },
        }


# -- the compiled twin ------------------------------------------------------------

#: The detector as this file defines it, run by the interpreter.
PyOnlineDetector = OnlineDetector
#: Whether :class:`OnlineDetector` is the compiled twin's, built from this
#: very source (see :mod:`connector.native`).
NATIVE = adopt(globals(), ("OnlineDetector",))


def bench(
    rows: int = 20_000, signals: Sequence[int] = (1, 8), seed: int = 0, per_call: int = 1
) -> list[str]:
    """Time :class:`OnlineDetector` and the daemon's engine per reading.

    Returns printable lines: microseconds per reading per signal for a
    detector of each size in *signals*, and for
    :class:`connector.detect.anomaly.AnomalyEngine` (a univariate scorer and the
    machine-level detector of 8 tags, with the row alignment) per reading,
    fed *per_call* rows (readings of a tag) at a time: 1 as a message of one
    reading comes, 20 as a gateway's message of 20 readings.
    """
    import random
    import time

    from ..detect.anomaly import AnomalyEngine

    rng = random.Random(seed)
    lines = []
    for k in signals:
        data = [10.0 + rng.gauss(0, 1) for _ in range(rows * k)]
        det = OnlineDetector(k)
        start, cpu = time.perf_counter(), time.process_time()
        for first in range(0, rows, per_call):
            chunk = data[first * k : (first + per_call) * k]
            pos = 0
            while pos < len(chunk) // k:
                pos = det.update_many(chunk, pos)
        spent, cpu = time.perf_counter() - start, time.process_time() - cpu
        lines.append(
            f"OnlineDetector, {k} signal(s), {per_call} row(s) a call: "
            f"{1e6 * cpu / rows / k:6.2f} us CPU per reading per signal "
            f"({1e6 * spent / rows / k:.2f} us wall clock)"
        )
    tags = [f"T{j}" for j in range(8)]
    engine = AnomalyEngine()
    engine.configure([{"tag": t, "interval_s": 1.0, "machine": "M"} for t in tags])
    n = rows // 8
    calls = [
        (t, [float(i) for i in range(first, first + per_call)], [10.0 + rng.gauss(0, 1)] * per_call)
        for first in range(0, n, per_call)
        for t in tags
    ]
    start, cpu = time.perf_counter(), time.process_time()
    for tag, ts, values in calls:
        engine.update_many(tag, ts, values)
    spent, cpu = time.perf_counter() - start, time.process_time() - cpu
    count = len(calls) * per_call
    lines.append(
        f"AnomalyEngine (its tag's scorer + its share of a machine of 8 tags, aligned), "
        f"{per_call} reading(s) of a tag a call: {1e6 * cpu / count:6.2f} us CPU per reading "
        f"({1e6 * spent / count:.2f} us wall clock)"
    )
    return lines


if __name__ == "__main__":
    import os
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(
        "compiled twin (python -m connector.native)"
        if NATIVE
        else "interpreted (no current compiled twin: python -m connector.native builds it)"
    )
    for per_call in (1, 20):
        for line in bench(count, per_call=per_call):
            print(line)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
