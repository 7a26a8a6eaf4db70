"""FLEXO 104 health and OEE engine: rule-based component scores from ticks.

The component-health specification of the FLEXO 104 (five components,
a tick payload per interval, see :mod:`connector.ingest.schema`) scores
each component by band tables and weights, or estimates it from stops,
rejects and speed when its metrics are missing: those rules are
:mod:`connector.flexo.scoring`. This engine applies them to each
machine's ticks, sums the OEE inputs per shift and makes the items Odoo
receives; Odoo stores the results, computes the band of each snapshot
and owns the OEE formula.

OEE and status
--------------
The engine sums the OEE *inputs* of a shift (run and downtime minutes,
produced, good and rejected units, run-time weighted design and actual
speed) and sends them as an ``oee_record``: a provisional one of the
running shift (``"running": true``) at its first tick and then every
``snapshot_interval_s`` (tick time, the health snapshots' cadence), and the
closing one when the shift letter changes. Odoo keeps one record per
machine and period start: each provisional record replaces the previous
one, the closing one replaces the last provisional one and marks the shift
closed. The A x P x Q formula lives in Odoo. The provisional OEE of the running
shift (:func:`~connector.flexo.scoring.oee_percent`, Odoo's formula and
availability basis, checked against Odoo's own function by the contract
test) gives the system status
the specification describes (FAULT below 60 %, WARNING up to 75 %, NORMAL
above: Odoo's settings), for logs and metrics only.

Items
-----
* ``health_snapshot`` per component when its band changes or every
  ``snapshot_interval_s`` (tick time), key
  ``health:<machine_id>:<component>:<tick ts>``;
* ``oee_record`` per closed shift, key ``oee:<machine_id>:<shift>:<start>``,
  and of the running shift every ``snapshot_interval_s`` (and at its first
  tick), with ``"running": true``, key
  ``oee:<machine_id>:<shift>:<start>:running:<n>`` (n = 1, 2, ... within
  the shift);
* ``meter_reading`` per machine meter every ``meter_interval_s`` (tick
  time): the run hours (``run_hours``) and produced units
  (``produced_units``) of the machine since the previous one, as an
  ``increment`` Odoo adds to the meter, key
  ``meter:<machine_id>:<meter>:<tick ts>`` (nothing when the machine did
  not run);
* ``downtime_event`` per stop, key
  ``downtime:<machine_id>:<start>:<component or reason>``;
* ``prediction`` when a component's band drops to warning or critical and
  a repair-duration predictor is given (the service wires the model of
  :mod:`connector.ml.duration` when one is trained): the hours a repair of
  that component would take, from the running shift's output, key
  ``prediction:<machine_id>:<component>:<tick ts>``.

The engine is a plain class with no I/O: :meth:`FlexoEngine.step` takes a
machine's state (a JSON-able dict, ``None`` at first) and a decoded tick
and returns the new state, the items and an assessment. The pipeline keeps
the state in the store in the same transaction as the tick and the items.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..ingest.schema import Tick, TickEvent
from ..push.items import (
    DOWNTIME_EVENT,
    HEALTH_SNAPSHOT,
    METER_READING,
    OEE_RECORD,
    PREDICTION,
    OutboxItem,
    make_key,
)
from ..util import LogOnce, iso_utc
from .scoring import (
    COMPONENT_SUFFIX,
    COMPONENTS,
    DEFAULT_RULES,
    DEFAULT_THRESHOLDS,
    FALLBACK_WINDOW_S,
    ComponentHealth,
    OdooRules,
    WindowSummary,
    component_metrics,
    fallback_component,
    finite_number,
    oee_percent,
    reason_component,
    resolve_thresholds,
    score_component,
    system_status,
)

log = logging.getLogger(__name__)

#: ``(component, shift produced, shift rejected) -> (hours, model version)``,
#: or ``None`` when no prediction can be made.
Predictor = Callable[[str, float, float], "tuple[float, str] | None"]

DEFAULT_SNAPSHOT_INTERVAL_S = 900.0
DEFAULT_METER_INTERVAL_S = 900.0
UPTIME_WINDOW_S = 3600.0
#: A shift with the same letter longer than this is closed anyway (a
#: machine that stopped reporting for a day comes back in the same shift).
MAX_SHIFT_S = 12 * 3600.0


@dataclass(slots=True)
class Assessment:
    """What the engine concluded from one tick (for logs, metrics and tests)."""

    machine_id: str
    ts: float
    components: dict[str, ComponentHealth]
    oee_pct: float | None
    status: str | None


@dataclass(slots=True)
class StepResult:
    """Return value of :meth:`FlexoEngine.step`."""

    state: dict[str, Any]
    items: list[OutboxItem]
    assessment: Assessment | None
    status_changed: bool = False


def parse_tag_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"A=X, B=Y"`` (or a mapping) -> ``{"A": "X", "B": "Y"}``.

    Examples
    --------
    >>> parse_tag_map("FLEXO_104=FLX-104, FLEXO_104:PRINTING = FLX-104-PR")
    {'FLEXO_104': 'FLX-104', 'FLEXO_104:PRINTING': 'FLX-104-PR'}
    """
    if not text:
        return {}
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"not NAME=TAG: {part.strip()!r}")
        out[key.strip()] = value.strip()
    return out


def _overall(tick: Tick, name: str) -> float | None:
    return finite_number(tick.overall.get(name))


class FlexoEngine:
    """Health, OEE inputs and downtime items of FLEXO machines.

    Parameters
    ----------
    snapshot_interval_s : float
        A component's snapshot is sent at least this often (tick time),
        besides every band change. 0 sends one per tick.
    machine_tags : mapping
        ``machine_id -> equipment tag`` in Odoo (default: the machine id).
    component_tags : mapping
        ``"<machine_id>:<COMPONENT>" -> equipment tag`` (default: the
        machine's tag, a dash and the component's suffix from
        :data:`COMPONENT_SUFFIX`, e.g. ``FLX-104-PR``).
    predictor : callable, optional
        Repair-duration predictor (:data:`Predictor`); without it no
        ``prediction`` item is made.
    meter_interval_s : float
        The machine's run hours and produced units are sent to its Odoo
        meters this often (tick time); 0 sends none.
    """

    def __init__(
        self,
        snapshot_interval_s: float = DEFAULT_SNAPSHOT_INTERVAL_S,
        machine_tags: Mapping[str, str] | None = None,
        component_tags: Mapping[str, str] | None = None,
        predictor: Predictor | None = None,
        meter_interval_s: float = DEFAULT_METER_INTERVAL_S,
    ) -> None:
        self.snapshot_interval_s = snapshot_interval_s
        self.meter_interval_s = meter_interval_s
        self.machine_tags = dict(machine_tags or {})
        self.component_tags = dict(component_tags or {})
        self.predictor = predictor
        self.log_once = LogOnce(log)
        self.thresholds_: dict[str, dict[str, tuple[float, float, float]]] = {
            c: dict(m) for c, m in DEFAULT_THRESHOLDS.items()
        }
        self.rules_ = DEFAULT_RULES

    def set_thresholds(self, configured: Mapping[str, Any] | None) -> list[str]:
        """Use Odoo's ``health_thresholds``; return the problems found."""
        self.thresholds_, problems = resolve_thresholds(configured)
        return problems

    def set_rules(self, configured: Any) -> list[str]:
        """Use Odoo's ``flexo_rules``; return the problems found (defaults kept)."""
        self.rules_, problems = OdooRules.from_config(configured)
        return problems

    def machine_tag(self, machine_id: str) -> str:
        """Odoo equipment tag of a machine."""
        return self.machine_tags.get(machine_id, machine_id)

    def component_tag(self, machine_id: str, component: str) -> str:
        """Odoo equipment tag of a machine's component."""
        explicit = self.component_tags.get(f"{machine_id}:{component}")
        if explicit:
            return explicit
        suffix = COMPONENT_SUFFIX.get(component, component)
        return f"{self.machine_tag(machine_id)}-{suffix}"

    # -- one tick --------------------------------------------------------------

    def step(self, state: Mapping[str, Any] | None, tick: Tick) -> StepResult:
        """Process one decoded tick of one machine.

        Parameters
        ----------
        state : dict or None
            The machine's state returned by the previous step (not changed).
        tick : Tick
            The new tick.

        Returns
        -------
        StepResult
            The new state, the items to queue and the assessment. A tick not
            newer than the last one changes nothing (no items, no
            assessment).
        """
        st: dict[str, Any] = copy.deepcopy(dict(state)) if state else _new_state()
        ts = tick.timestamp
        if st["last_ts"] is not None and ts <= st["last_ts"]:
            return StepResult(st, [], None)
        machine = tick.machine_id
        items: list[OutboxItem] = []
        run = _overall(tick, "runtime_minutes")
        down = _overall(tick, "downtime_minutes")
        interval = (run or 0.0) + (down or 0.0)
        if interval <= 0 and st["last_ts"] is not None and ts - st["last_ts"] < UPTIME_WINDOW_S:
            interval = (ts - st["last_ts"]) / 60.0

        # A new shift letter (or an over-long shift) closes the running one.
        shift = st["shift"]
        letter = tick.shift or ""
        if shift is not None and (shift["letter"] != letter or ts - shift["start"] > MAX_SHIFT_S):
            item = self._oee_item(machine, shift)
            if item is not None:
                items.append(item)
            shift = None
        if shift is None:
            shift = _new_shift(letter, float(round(ts - interval * 60.0)))
        self._accumulate(shift, tick, run, down, ts)
        st["shift"] = shift
        if self.meter_interval_s > 0:
            items.extend(self._meter_items(st, machine, tick, run, ts - interval * 60.0, ts))

        # Stops: one downtime_event each, and into the trailing window.
        stops: list[list[Any]] = []
        for event in tick.events:
            if event.type.lower() != "downtime":
                continue
            component = event.component or reason_component(event.reason)
            minutes = finite_number(event.duration_min)
            item = self._downtime_item(machine, event, component, minutes)
            if item is not None:
                items.append(item)
            if minutes and minutes > 0:
                stops.append([component, minutes, event.reason or ""])
        speed = _overall(tick, "actual_speed_cpm")
        design = _overall(tick, "design_speed_cpm")
        produced = _overall(tick, "produced_units")
        reject = _overall(tick, "reject_units")
        st["window"].append(
            [ts, run or 0.0, produced or 0.0, reject or 0.0, speed or 0.0, design or 0.0, stops]
        )
        st["window"] = [w for w in st["window"] if w[0] > ts - FALLBACK_WINDOW_S]
        st["last_ts"] = ts

        # Health of each component.
        hour = [w for w in st["window"] if w[0] > ts - UPTIME_WINDOW_S]
        hour_run = sum(w[1] for w in hour)
        summary = WindowSummary(
            run_min=sum(w[1] for w in st["window"]),
            produced=sum(w[2] for w in st["window"]),
            reject=sum(w[3] for w in st["window"]),
            speed_run=sum(w[1] * w[4] for w in st["window"]),
            design_run=sum(w[1] * w[5] for w in st["window"]),
            stops=tuple((s[0], float(s[1]), str(s[2])) for w in st["window"] for s in w[6] if s[0]),
        )
        performance = None
        if run and speed and design:
            performance = speed / design * 100.0
        reject_good = self.thresholds_.get("PRINTING", {}).get("reject_rate_pct", (2.0, 0, 0))[0]
        healths: dict[str, ComponentHealth] = {}
        for component in COMPONENTS:
            metrics = component_metrics(component, tick.components.get(component) or {})
            comp_down = sum(s[1] for w in hour for s in w[6] if s[0] == component)
            uptime = 100.0 * hour_run / (hour_run + comp_down) if hour_run + comp_down > 0 else None
            health = score_component(
                component,
                metrics,
                self.thresholds_.get(component, {}),
                uptime,
                performance,
                self.rules_,
            )
            if health is None:
                health = fallback_component(component, summary, reject_good, self.rules_)
            healths[component] = health
            last = st["emitted"].get(component)
            if last is None or last[0] != health.band or ts - last[1] >= self.snapshot_interval_s:
                items.append(self._snapshot_item(machine, component, ts, health))
                st["emitted"][component] = [health.band, ts]
                dropped = last is not None and _BAND_RANK[health.band] > _BAND_RANK[last[0]]
                if dropped and health.band in ("warning", "critical"):
                    prediction = self._prediction_item(machine, component, ts, health, shift)
                    if prediction is not None:
                        items.append(prediction)

        # The running shift's provisional OEE record, at the snapshots' cadence.
        sent = shift.get("running_sent_at")
        if sent is None or ts - sent >= self.snapshot_interval_s:
            item = self._oee_item(machine, shift, running=True)
            if item is not None:
                items.append(item)
                shift["running_sent_at"] = ts

        oee = _provisional_oee(shift, self.rules_)
        status = system_status(oee, self.rules_)
        changed = status != st.get("status")
        st["status"] = status
        assessment = Assessment(machine, ts, healths, oee, status)
        return StepResult(st, items, assessment, changed)

    def _accumulate(
        self, shift: dict[str, Any], tick: Tick, run: float | None, down: float | None, ts: float
    ) -> None:
        produced = _overall(tick, "produced_units") or 0.0
        reject = _overall(tick, "reject_units")
        good = _overall(tick, "good_units")
        if good is None:
            good = max(0.0, produced - (reject or 0.0))
        if reject is None:
            reject = max(0.0, produced - good)
        run = run or 0.0
        speed = _overall(tick, "actual_speed_cpm")
        if speed is None and run > 0:
            speed = produced / run
        design = _overall(tick, "design_speed_cpm")
        shift["end"] = ts
        shift["run_min"] += run
        shift["downtime_min"] += down or 0.0
        shift["produced"] += produced
        shift["good"] += good
        shift["reject"] += reject
        shift["ticks"] += 1
        if speed is not None:
            shift["speed_run"] += speed * run
        if design is not None and design > 0:
            shift["design_run"] += design * run
            shift["design_last"] = design

    # -- items -----------------------------------------------------------------

    def _snapshot_item(
        self, machine: str, component: str, ts: float, health: ComponentHealth
    ) -> OutboxItem:
        iso = iso_utc(ts)
        data: dict[str, Any] = {
            "tag": self.component_tag(machine, component),
            "score": health.score,
            "metrics": dict(health.metric_scores) or None,
            "recommendations": health.recommendations,
        }
        return OutboxItem(make_key("health", machine, component, iso), HEALTH_SNAPSHOT, iso, data)

    def _prediction_item(
        self,
        machine: str,
        component: str,
        ts: float,
        health: ComponentHealth,
        shift: Mapping[str, Any],
    ) -> OutboxItem | None:
        if self.predictor is None:
            return None
        produced, reject = float(shift["produced"]), float(shift["reject"])
        try:
            answer = self.predictor(component, produced, reject)
        except Exception as exc:  # a model problem must not stop ingestion
            self.log_once(f"predictor:{type(exc).__name__}", "repair prediction failed: %s", exc)
            return None
        if answer is None:
            return None
        hours, version = answer
        if not math.isfinite(hours) or not 0 <= hours <= self.rules_.max_predicted_hours:
            return None
        iso = iso_utc(ts)
        data = {
            "tag": self.component_tag(machine, component),
            "component": component,
            "inputs": {
                "component": component,
                "shift_produced": produced,
                "shift_reject": reject,
            },
            "predicted_hours": round(hours, 3),
            "model_version": str(version)[:64],
            "recommendation": (
                f"{component} health {health.score:g} ({health.band}): a repair would take "
                f"about {hours:.1f} h; plan it before it stops the line."
            ),
        }
        return OutboxItem(make_key("prediction", machine, component, iso), PREDICTION, iso, data)

    def _oee_item(
        self, machine: str, shift: dict[str, Any], running: bool = False
    ) -> OutboxItem | None:
        """The shift's ``oee_record``: the closing one, or a provisional one
        of the running shift (its sequence number counted in *shift*)."""
        start, end = float(shift["start"]), float(shift["end"])
        if end <= start or not shift["ticks"]:
            return None
        period_min = (end - start) / 60.0
        # Odoo refuses more run time than the period: round down, not to nearest.
        run = math.floor(min(shift["run_min"], period_min) * 1000.0 + 1e-6) / 1000.0
        design = (
            shift["design_run"] / shift["run_min"]
            if shift["design_run"] > 0 and shift["run_min"] > 0
            else shift["design_last"]
        )
        if not design or design <= 0:
            return None  # Odoo needs a design speed; nothing to compare with
        actual = shift["speed_run"] / shift["run_min"] if shift["run_min"] > 0 else 0.0
        produced = int(round(shift["produced"]))
        good = min(produced, int(round(shift["good"])))
        rejected = min(produced - good, int(round(shift["reject"])))
        start_iso = iso_utc(start)
        data = {
            "machine": self.machine_tag(machine),
            "shift": shift["letter"] or None,
            "period_start": start_iso,
            "period_end": iso_utc(end),
            "run_min": run,
            "downtime_min": round(shift["downtime_min"], 3),
            "produced": produced,
            "good": good,
            "rejected": rejected,
            "design_speed": round(design, 3),
            "actual_speed": round(max(0.0, actual), 3),
        }
        parts = ["oee", machine, shift["letter"] or "-", start_iso]
        if running:
            data["running"] = True
            shift["running_seq"] = int(shift.get("running_seq") or 0) + 1
            parts += ["running", str(shift["running_seq"])]
        return OutboxItem(make_key(*parts), OEE_RECORD, iso_utc(end), data)

    def _meter_items(
        self,
        st: dict[str, Any],
        machine: str,
        tick: Tick,
        run: float | None,
        start: float,
        ts: float,
    ) -> list[OutboxItem]:
        """Count the tick into the machine's meters; their items when due."""
        meters = st.get("meters") or {"since": float(round(start)), "run_min": 0.0, "units": 0.0}
        st["meters"] = meters
        meters["run_min"] += run or 0.0
        meters["units"] += _overall(tick, "produced_units") or 0.0
        if ts - meters["since"] < self.meter_interval_s:
            return []
        iso = iso_utc(ts)
        tag = self.machine_tag(machine)
        items = [
            OutboxItem(
                make_key("meter", machine, meter, iso),
                METER_READING,
                iso,
                {"machine": tag, "meter": meter, "increment": round(amount, 6)},
            )
            for meter, amount in (
                ("run_hours", meters["run_min"] / 60.0),
                ("produced_units", meters["units"]),
            )
            if amount > 0
        ]
        st["meters"] = {"since": ts, "run_min": 0.0, "units": 0.0}
        return items

    def _downtime_item(
        self, machine: str, event: TickEvent, component: str | None, minutes: float | None
    ) -> OutboxItem | None:
        if minutes is None or not 0.0005 <= minutes <= self.rules_.max_downtime_min:
            return None
        reason = " ".join((event.reason or "").split()) or "UNSPECIFIED"
        start = iso_utc(event.timestamp)
        data: dict[str, Any] = {
            "machine": self.machine_tag(machine),
            "reason": reason,
            "start": start,
            "duration_min": round(minutes, 3),
        }
        if component:
            data["component"] = component
        key = make_key("downtime", machine, start, component or reason)
        return OutboxItem(key, DOWNTIME_EVENT, start, data)


_BAND_RANK = {"excellent": 0, "good": 1, "warning": 2, "critical": 3}


def _new_state() -> dict[str, Any]:
    return {
        "last_ts": None,
        "shift": None,
        "window": [],
        "emitted": {},
        "status": None,
        "meters": None,
    }


def _new_shift(letter: str, start: float) -> dict[str, Any]:
    return {
        "letter": letter,
        "start": start,
        "end": start,
        "run_min": 0.0,
        "downtime_min": 0.0,
        "produced": 0.0,
        "good": 0.0,
        "reject": 0.0,
        "speed_run": 0.0,
        "design_run": 0.0,
        "design_last": None,
        "ticks": 0,
        "running_seq": 0,
        "running_sent_at": None,
    }


def _provisional_oee(shift: Mapping[str, Any], rules: OdooRules = DEFAULT_RULES) -> float | None:
    """OEE of the running shift in percent (Odoo's formula), for the status only."""
    run, down = shift["run_min"], shift["downtime_min"]
    if run <= 0 or shift["produced"] <= 0 or shift["design_run"] <= 0:
        return None
    return oee_percent(
        run,
        down,
        (shift["end"] - shift["start"]) / 60.0,
        shift["speed_run"] / run,
        shift["design_run"] / run,
        shift["produced"],
        shift["good"],
        rules.oee_availability_basis,
    )
