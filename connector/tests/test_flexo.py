"""FLEXO engine against the component-health specification's tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.flexo.engine import FlexoEngine, parse_tag_map
from connector.flexo.scoring import (
    COMPONENTS,
    DEFAULT_THRESHOLDS,
    RULES,
    WindowSummary,
    component_metrics,
    fallback_component,
    health_band,
    reason_component,
    resolve_thresholds,
    score_component,
    stop_severity,
    system_status,
)
from connector.ingest.schema import Tick, TickEvent, parse_ts

T0 = parse_ts("2026-11-22T06:00:00Z")  # shift A starts

# The specification's band tables: (component, metric, value, score), each
# table at both sides of every limit.
SPEC_TABLES = [
    # PRE FEEDER, Tension Deviation: < 5 -> 100, 5-10 -> 70, 10-15 -> 50, > 15 -> 30
    ("PRE_FEEDER", "tension_dev_pct", 0.0, 100),
    ("PRE_FEEDER", "tension_dev_pct", 4.99, 100),
    ("PRE_FEEDER", "tension_dev_pct", 5.0, 70),
    ("PRE_FEEDER", "tension_dev_pct", 9.99, 70),
    ("PRE_FEEDER", "tension_dev_pct", 10.0, 50),
    ("PRE_FEEDER", "tension_dev_pct", 15.0, 50),
    ("PRE_FEEDER", "tension_dev_pct", 15.01, 30),
    # Feed Stops per Hour: 0-1 -> 100, 1-3 -> 60, > 3 -> 20
    ("PRE_FEEDER", "feed_stops_hour", 0, 100),
    ("PRE_FEEDER", "feed_stops_hour", 1, 100),
    ("PRE_FEEDER", "feed_stops_hour", 2, 60),
    ("PRE_FEEDER", "feed_stops_hour", 3, 60),
    ("PRE_FEEDER", "feed_stops_hour", 4, 20),
    # FEEDER, Double-Sheet Error: < 2 -> 100, 2-5 -> 55, > 5 -> 25
    ("FEEDER", "double_sheet_hour", 1, 100),
    ("FEEDER", "double_sheet_hour", 1.99, 100),
    ("FEEDER", "double_sheet_hour", 2, 55),
    ("FEEDER", "double_sheet_hour", 5, 55),
    ("FEEDER", "double_sheet_hour", 6, 25),
    # Vacuum Deviation: < 10 -> 100, 10-20 -> 60, > 20 -> 30
    ("FEEDER", "vacuum_dev_pct", 9.99, 100),
    ("FEEDER", "vacuum_dev_pct", 10.0, 60),
    ("FEEDER", "vacuum_dev_pct", 20.0, 60),
    ("FEEDER", "vacuum_dev_pct", 20.01, 30),
    # PRINTING, Registration Error: < 0.2 -> 100, 0.2-0.5 -> 60, > 0.5 -> 25
    ("PRINTING", "registration_error_mm", 0.199, 100),
    ("PRINTING", "registration_error_mm", 0.2, 60),
    ("PRINTING", "registration_error_mm", 0.5, 60),
    ("PRINTING", "registration_error_mm", 0.501, 25),
    # Print Reject Rate: < 2 -> 100, 2-5 -> 55, > 5 -> 20
    ("PRINTING", "reject_rate_pct", 1.99, 100),
    ("PRINTING", "reject_rate_pct", 2.0, 55),
    ("PRINTING", "reject_rate_pct", 5.0, 55),
    ("PRINTING", "reject_rate_pct", 5.01, 20),
    # Ink Viscosity Deviation: < 10 -> 100, 10-20 -> 65, > 20 -> 35
    ("PRINTING", "ink_viscosity_dev_pct", 9.99, 100),
    ("PRINTING", "ink_viscosity_dev_pct", 10.0, 65),
    ("PRINTING", "ink_viscosity_dev_pct", 20.0, 65),
    ("PRINTING", "ink_viscosity_dev_pct", 20.01, 35),
    # SLOTTER, Mis-Cut Rate: < 1 -> 100, 1-3 -> 55, > 3 -> 20
    ("SLOTTER", "miscut_pct", 0.99, 100),
    ("SLOTTER", "miscut_pct", 1.0, 55),
    ("SLOTTER", "miscut_pct", 3.0, 55),
    ("SLOTTER", "miscut_pct", 3.01, 20),
    # Burr Height: < 0.1 -> 100, 0.1-0.2 -> 60, > 0.2 -> 25
    ("SLOTTER", "burr_mm", 0.099, 100),
    ("SLOTTER", "burr_mm", 0.1, 60),
    ("SLOTTER", "burr_mm", 0.2, 60),
    ("SLOTTER", "burr_mm", 0.201, 25),
    # Blade Life Used: < 70 -> 100, 70-90 -> 50, > 90 -> 20
    ("SLOTTER", "blade_life_used_pct", 69.9, 100),
    ("SLOTTER", "blade_life_used_pct", 70.0, 50),
    ("SLOTTER", "blade_life_used_pct", 90.0, 50),
    ("SLOTTER", "blade_life_used_pct", 90.1, 20),
    # DOWN STACKER, Jam Count: 0-1 -> 100, 1-3 -> 50, > 3 -> 15
    ("DOWN_STACKER", "jam_hour", 0, 100),
    ("DOWN_STACKER", "jam_hour", 1, 100),
    ("DOWN_STACKER", "jam_hour", 2, 50),
    ("DOWN_STACKER", "jam_hour", 3, 50),
    ("DOWN_STACKER", "jam_hour", 4, 15),
    # Mis-Stack Rate: < 1 -> 100, 1-3 -> 60, > 3 -> 25
    ("DOWN_STACKER", "misstack_pct", 0.99, 100),
    ("DOWN_STACKER", "misstack_pct", 1.0, 60),
    ("DOWN_STACKER", "misstack_pct", 3.0, 60),
    ("DOWN_STACKER", "misstack_pct", 3.01, 25),
    # Speed Sync Deviation: < 5 -> 100, 5-10 -> 70, > 10 -> 40
    ("DOWN_STACKER", "sync_dev_pct", 4.99, 100),
    ("DOWN_STACKER", "sync_dev_pct", 5.0, 70),
    ("DOWN_STACKER", "sync_dev_pct", 10.0, 70),
    ("DOWN_STACKER", "sync_dev_pct", 10.01, 40),
]


@pytest.mark.parametrize(("component", "metric", "value", "expected"), SPEC_TABLES)
def test_band_tables_of_the_specification(
    component: str, metric: str, value: float, expected: float
) -> None:
    health = score_component(component, {metric: value}, DEFAULT_THRESHOLDS[component])
    assert health is not None
    assert health.metric_scores[metric] == expected
    # alone, the metric is the whole score
    assert health.score == expected


def test_every_banded_metric_of_the_rules_is_in_the_tables() -> None:
    tested = {(c, m) for c, m, _, _ in SPEC_TABLES}
    banded = {(c, f.name) for c, factors in RULES.items() for f in factors if f.table}
    assert banded == tested


@pytest.mark.parametrize(
    ("component", "metrics", "uptime", "performance", "expected"),
    [
        # 0.5 tension + 0.3 feed + 0.2 uptime: 0.5 x 70 + 0.3 x 60 + 0.2 x 50
        ("PRE_FEEDER", {"tension_dev_pct": 7, "feed_stops_hour": 2}, 50.0, None, 63.0),
        # 0.4 accuracy + 0.3 vacuum + 0.3 uptime: 0.4 x 55 + 0.3 x 30 + 0.3 x 90
        ("FEEDER", {"double_sheet_hour": 3, "vacuum_dev_pct": 25}, 90.0, None, 58.0),
        # 0.35 registration + 0.35 quality + 0.15 ink + 0.15 performance
        (
            "PRINTING",
            {"registration_error_mm": 0.3, "reject_rate_pct": 6, "ink_viscosity_dev_pct": 25},
            None,
            80.0,
            0.35 * 60 + 0.35 * 20 + 0.15 * 35 + 0.15 * 80,
        ),
        # 0.4 cutting + 0.3 blade + 0.2 burr + 0.1 uptime
        (
            "SLOTTER",
            {"miscut_pct": 2, "blade_life_used_pct": 95, "burr_mm": 0.15},
            100.0,
            None,
            0.4 * 55 + 0.3 * 20 + 0.2 * 60 + 0.1 * 100,
        ),
        # 0.4 jam + 0.3 stack + 0.2 sync + 0.1 uptime
        (
            "DOWN_STACKER",
            {"jam_hour": 5, "misstack_pct": 2, "sync_dev_pct": 7},
            0.0,
            None,
            0.4 * 15 + 0.3 * 60 + 0.2 * 70 + 0.1 * 0,
        ),
    ],
)
def test_aggregate_weights_of_the_specification(
    component: str,
    metrics: dict[str, float],
    uptime: float | None,
    performance: float | None,
    expected: float,
) -> None:
    health = score_component(
        component, metrics, DEFAULT_THRESHOLDS[component], uptime=uptime, performance=performance
    )
    assert health is not None and health.method == "rules"
    assert health.score == pytest.approx(expected, abs=0.05)
    assert health.band == health_band(health.score)


def test_missing_factor_leaves_the_others_weighted() -> None:
    # PRINTING without ink and speed: (0.35 x 100 + 0.35 x 55) / 0.7
    health = score_component(
        "PRINTING",
        {"registration_error_mm": 0.1, "reject_rate_pct": 3},
        DEFAULT_THRESHOLDS["PRINTING"],
    )
    assert health is not None and health.score == 77.5
    assert set(health.metric_scores) == {"registration_error_mm", "reject_rate_pct"}


def test_no_banded_metric_means_no_rule_score() -> None:
    assert score_component("FEEDER", {}, DEFAULT_THRESHOLDS["FEEDER"], uptime=100.0) is None


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100, "excellent"),
        (80, "excellent"),
        (79.9, "good"),
        (60, "good"),
        (59.9, "warning"),
        (40, "warning"),
        (39.9, "critical"),
        (0, "critical"),
    ],
)
def test_health_bands(score: float, band: str) -> None:
    assert health_band(score) == band


@pytest.mark.parametrize(
    ("oee", "status"),
    [(0, "FAULT"), (59.99, "FAULT"), (60, "WARNING"), (75, "WARNING"), (75.01, "NORMAL")],
)
def test_system_status_by_oee(oee: float, status: str) -> None:
    assert system_status(oee) == status


def test_thresholds_from_odoo_override_the_defaults() -> None:
    thresholds, problems = resolve_thresholds(
        {
            "PRINTING": {
                "registration_error_mm": {"good": 0.1, "warning": 0.3, "critical": 0.6},
                "reject_rate_pct": {"good": 5, "warning": 2, "critical": 10},  # not monotonic
            },
            "FEEDER": "nope",
            "SLOTTER": {"burr_height_mm": {"good": 0.05, "warning": 0.1, "critical": 0.2}},
        }
    )
    assert thresholds["PRINTING"]["registration_error_mm"] == (0.1, 0.3, 0.6)
    assert (
        thresholds["PRINTING"]["reject_rate_pct"]
        == DEFAULT_THRESHOLDS["PRINTING"]["reject_rate_pct"]
    )
    assert thresholds["SLOTTER"]["burr_mm"] == (0.05, 0.1, 0.2)  # the spec's alias
    assert len(problems) == 2
    health = score_component("PRINTING", {"registration_error_mm": 0.15}, thresholds["PRINTING"])
    assert health is not None and health.score == 60.0


def test_reversed_limits_mean_lower_is_worse() -> None:
    limits = {"vacuum_dev_pct": (90.0, 80.0, 70.0)}
    scores = [
        score_component("FEEDER", {"vacuum_dev_pct": v}, limits).metric_scores["vacuum_dev_pct"]  # type: ignore[union-attr]
        for v in (95, 90, 80, 79)
    ]
    assert scores == [100, 60, 60, 30]


def test_engine_uses_thresholds_from_the_config() -> None:
    engine = FlexoEngine()
    problems = engine.set_thresholds(
        {"SLOTTER": {"blade_life_used_pct": {"good": 50, "warning": 60, "critical": 70}}}
    )
    assert problems == []
    step = engine.step(None, tick(0, components={"SLOTTER": {"blade_life_used_pct": 65}}))
    assert step.assessment is not None
    assert step.assessment.components["SLOTTER"].metric_scores["blade_life_used_pct"] == 20


def test_aliases_and_derived_deviations() -> None:
    metrics = component_metrics(
        "PRE_FEEDER", {"tension_setpoint_N": 200.0, "tension_actual_N": 190.0, "health_score": None}
    )
    assert metrics == pytest.approx(
        {"tension_setpoint_N": 200.0, "tension_actual_N": 190.0, "tension_dev_pct": 5.0}
    )
    assert component_metrics("SLOTTER", {"burr_height_mm": 0.3}) == {"burr_mm": 0.3}
    stacker = component_metrics("DOWN_STACKER", {"line_speed": 200.0, "discharge_speed": 190.0})
    assert stacker["sync_dev_pct"] == pytest.approx(5.0)


def test_recommendations_name_the_problem_worst_first() -> None:
    health = score_component(
        "SLOTTER",
        {"miscut_pct": 0.5, "blade_life_used_pct": 92.0, "burr_mm": 0.15},
        DEFAULT_THRESHOLDS["SLOTTER"],
    )
    assert health is not None
    assert health.recommendations[0].startswith("Urgent: Slotter blade 92 % used")
    assert "Burr height 0.15 mm" in health.recommendations[1]
    assert len(health.recommendations) == 2
    healthy = score_component("SLOTTER", {"miscut_pct": 0.5}, DEFAULT_THRESHOLDS["SLOTTER"])
    assert healthy is not None and healthy.recommendations == []


# -- fallback ------------------------------------------------------------------


def test_fallback_starts_at_85() -> None:
    for component in COMPONENTS:
        health = fallback_component(component, WindowSummary())
        assert (health.score, health.band, health.method) == (85.0, "excellent", "fallback")


def test_fallback_penalties() -> None:
    stops = (
        ("FEEDER", 15.0, "FEEDER UNIT TROUBLE MEKANIK"),  # 1.0 x 2
        ("FEEDER", 45.0, "FEEDER UNIT TROUBLE ELEKTRIK"),  # 1.0 x 3
        ("PRINTING", 5.0, "GANTI PLATE / TINTA"),  # 0.25 x 1
    )
    window = WindowSummary(
        run_min=400,
        produced=1000,
        reject=50,
        speed_run=400 * 200,
        design_run=400 * 250,
        stops=stops,
    )
    feeder = fallback_component("FEEDER", window)
    # 85 - 3 x (2 + 3) - 5 x (5 - 2) x 0.5 (medium quality) - (85 - 80) x 0.5 (medium perf)
    assert feeder.score == 85 - 15 - 7.5 - 2.5
    printing = fallback_component("PRINTING", window)
    # 85 - 3 x 0.25 - 5 x 3 x 1.0 - 5 x 1.0 = 64.25, rounded half up
    assert printing.score == 64.3
    assert any("FEEDER UNIT TROUBLE ELEKTRIK" in line for line in feeder.recommendations)
    many = WindowSummary(stops=(("SLOTTER", 60.0, "SLOTTER UNIT TROUBLE MEKANIK"),) * 20)
    assert fallback_component("SLOTTER", many).score == 0.0


@pytest.mark.parametrize(
    ("reason", "minutes", "severity"),
    [
        ("PRINTING UNIT TROUBLE MEKANIK", 9.9, 1.0),
        ("PRINTING UNIT TROUBLE MEKANIK", 10, 2.0),
        ("PRINTING UNIT TROUBLE MEKANIK", 30, 2.0),
        ("PRINTING UNIT TROUBLE MEKANIK", 31, 3.0),
        ("DOWN STACKER MACET", 5, 0.75),
        ("GANTI PISAU SLOTTER", 15, 0.5),
        ("TUNGGU MATERIAL", 40, 1.5),
    ],
)
def test_stop_severity(reason: str, minutes: float, severity: float) -> None:
    assert stop_severity(reason, minutes) == severity


@pytest.mark.parametrize(
    ("reason", "component"),
    [
        ("PRE FEEDER TROUBLE MEKANIK", "PRE_FEEDER"),
        ("GANTI ROLL", "PRE_FEEDER"),
        ("FEEDER UNIT TROUBLE ELEKTRIK", "FEEDER"),
        ("PRINTING UNIT TROUBLE MEKANIK", "PRINTING"),
        ("GANTI PLATE / TINTA", "PRINTING"),
        ("GANTI DOCTOR BLADE", "PRINTING"),
        ("GANTI ANILOX", "PRINTING"),
        ("SLOTTER UNIT TROUBLE MEKANIK", "SLOTTER"),
        ("GANTI PISAU SLOTTER", "SLOTTER"),
        ("DOWN STACKER MACET", "DOWN_STACKER"),
        ("  down   stacker trouble mekanik ", "DOWN_STACKER"),
        ("TUNGGU MATERIAL", None),
        (None, None),
    ],
)
def test_reason_codes_map_to_components(reason: str | None, component: str | None) -> None:
    assert reason_component(reason) == component


def test_tag_maps() -> None:
    assert parse_tag_map("") == {}
    with pytest.raises(ValueError):
        parse_tag_map("FLEXO_104")
    engine = FlexoEngine(
        machine_tags={"FLEXO_104": "FLX-104"}, component_tags={"FLEXO_104:FEEDER": "FEED-9"}
    )
    assert engine.component_tag("FLEXO_104", "PRINTING") == "FLX-104-PR"
    assert engine.component_tag("FLEXO_104", "FEEDER") == "FEED-9"
    assert engine.component_tag("FLEXO_7", "SLOTTER") == "FLEXO_7-SL"


# -- the engine over ticks -----------------------------------------------------

HEALTHY: dict[str, dict[str, float | None]] = {
    "PRE_FEEDER": {"tension_dev_pct": 2.0, "feed_stops_hour": 0, "health_score": None},
    "FEEDER": {"double_sheet_hour": 0, "vacuum_dev_pct": 4.0},
    "PRINTING": {"registration_error_mm": 0.1, "ink_viscosity_dev_pct": 5.0, "reject_rate_pct": 1},
    "SLOTTER": {"miscut_pct": 0.5, "burr_mm": 0.03, "blade_life_used_pct": 40},
    "DOWN_STACKER": {"jam_hour": 0, "misstack_pct": 0.4, "sync_dev_pct": 2.0},
}


def tick(
    minute: int,
    *,
    shift: str = "A",
    components: dict[str, dict[str, float | None]] | None = None,
    events: list[TickEvent] | None = None,
    run: float = 1.0,
    produced: float = 220,
    reject: float = 4,
    speed: float = 220.0,
    **overall: Any,
) -> Tick:
    """A one-minute tick ending ``minute`` minutes after 06:00."""
    values: dict[str, float | None] = {
        "produced_units": produced,
        "good_units": produced - reject,
        "reject_units": reject,
        "runtime_minutes": run,
        "downtime_minutes": 1.0 - run,
        "design_speed_cpm": 250.0,
        "actual_speed_cpm": speed,
        "oee": None,
    }
    values.update(overall)
    return Tick(
        timestamp=T0 + 60.0 * minute,
        machine_id="FLEXO_104",
        shift=shift,
        overall=values,
        components={k: dict(v) for k, v in (HEALTHY if components is None else components).items()},
        events=events or [],
    )


def run(engine: FlexoEngine, ticks: list[Tick]) -> tuple[dict[str, Any], list[Any]]:
    state: dict[str, Any] | None = None
    items: list[Any] = []
    for t in ticks:
        step = engine.step(state, t)
        state = step.state
        items.extend(step.items)
    assert state is not None
    return state, items


def closed(items: list[Any]) -> list[Any]:
    """The closing ``oee_record`` items (not the running shift's provisional ones)."""
    return [i for i in items if i.type == "oee_record" and not i.data.get("running")]


def test_the_specification_example_tick() -> None:
    example = Tick(
        timestamp=parse_ts("2025-10-17T08:15:00Z"),
        machine_id="FLEXO_104",
        shift="A",
        overall={
            "produced_units": 1200,
            "good_units": 1150,
            "reject_units": 50,
            "runtime_minutes": 420,
            "downtime_minutes": 30,
            "design_speed_cpm": 250,
            "actual_speed_cpm": 210,
            "oee": None,
        },
        components={
            "PRE_FEEDER": {"tension_dev_pct": 4.0, "feed_stops_hour": 0, "health_score": None},
            "FEEDER": {"double_sheet_hour": 1, "vacuum_dev_pct": 8.0, "health_score": None},
            "PRINTING": {
                "registration_error_mm": 0.18,
                "registration_error_max_mm": 0.35,
                "ink_viscosity_dev_pct": 6.0,
                "reject_rate_pct": 2.5,
                "health_score": None,
            },
            "SLOTTER": {"miscut_pct": 0.7, "burr_mm": 0.06, "blade_life_used_pct": 60},
            "DOWN_STACKER": {"jam_hour": 0, "misstack_pct": 0.5, "sync_dev_pct": 3.0},
        },
        events=[
            TickEvent(
                parse_ts("2025-10-17T08:10:00Z"),
                "downtime",
                "FEEDER",
                "FEEDER UNIT TROUBLE MEKANIK",
                15,
            )
        ],
    )
    step = FlexoEngine().step(None, example)
    assert step.assessment is not None
    scores = {c: h.score for c, h in step.assessment.components.items()}
    # FEEDER: 0.4 x 100 + 0.3 x 100 + 0.3 x (420 / 435 x 100); PRINTING as in the doc
    assert scores == {
        "PRE_FEEDER": 100.0,
        "FEEDER": 99.0,
        "PRINTING": 81.9,
        "SLOTTER": 100.0,
        "DOWN_STACKER": 100.0,
    }
    # A = 420 / 450, P = 210 / 250, Q = 1150 / 1200: 75.13 %, NORMAL
    assert step.assessment.oee_pct == pytest.approx(75.1333, abs=1e-3)
    assert step.assessment.status == "NORMAL"
    by_type: dict[str, list[Any]] = {}
    for item in step.items:
        by_type.setdefault(item.type, []).append(item)
    assert len(by_type["health_snapshot"]) == 5
    [stop] = by_type["downtime_event"]
    assert stop.key == "downtime:FLEXO_104:2025-10-17T08:10:00Z:FEEDER"
    assert stop.data == {
        "machine": "FLEXO_104",
        "reason": "FEEDER UNIT TROUBLE MEKANIK",
        "start": "2025-10-17T08:10:00Z",
        "duration_min": 15,
        "component": "FEEDER",
    }
    printing = next(i for i in by_type["health_snapshot"] if ":PRINTING:" in i.key)
    assert printing.key == "health:FLEXO_104:PRINTING:2025-10-17T08:15:00Z"
    assert printing.ts == "2025-10-17T08:15:00Z"
    assert printing.data["tag"] == "FLEXO_104-PR"
    assert printing.data["score"] == 81.9
    assert printing.data["metrics"] == {
        "registration_error_mm": 100.0,
        "reject_rate_pct": 55.0,
        "ink_viscosity_dev_pct": 100.0,
        "performance_ratio": 84.0,
    }
    assert printing.data["recommendations"] == [
        "Print reject rate 2.5 %: inspect the anilox roll and the doctor blade."
    ]
    # the shift is still running: its provisional record, from its first tick
    [oee] = by_type["oee_record"]
    assert oee.key == "oee:FLEXO_104:A:2025-10-17T00:45:00Z:running:1"
    assert oee.data["running"] is True
    assert (oee.data["period_start"], oee.data["period_end"]) == (
        "2025-10-17T00:45:00Z",
        "2025-10-17T08:15:00Z",
    )


def test_snapshots_on_band_change_or_interval() -> None:
    engine = FlexoEngine(snapshot_interval_s=600)
    bad = {**HEALTHY, "PRINTING": {**HEALTHY["PRINTING"], "registration_error_mm": 0.8}}
    ticks = [tick(m) for m in range(1, 6)]  # 1..5: healthy
    ticks += [tick(6, components=bad)]  # PRINTING drops a band
    ticks += [tick(m) for m in range(7, 12)]  # back, then the 10-minute refresh
    _, items = run(engine, ticks)
    snaps = [(i.key.split(":")[2], i.key.split(":", 3)[3]) for i in items]
    assert len([s for s in snaps if s[1] == "2026-11-22T06:01:00Z"]) == 5  # first tick: all
    changed = [s for s in snaps if s[1] in ("2026-11-22T06:06:00Z", "2026-11-22T06:07:00Z")]
    assert changed == [
        ("PRINTING", "2026-11-22T06:06:00Z"),
        ("PRINTING", "2026-11-22T06:07:00Z"),
    ]
    # ten minutes after the first snapshot, every component again (PRINTING
    # is 4 minutes after its last one, so not yet)
    refresh = [s for s in snaps if s[1] == "2026-11-22T06:11:00Z"]
    assert sorted(c for c, _ in refresh) == ["DOWN_STACKER", "FEEDER", "PRE_FEEDER", "SLOTTER"]


def test_oee_record_when_the_shift_letter_changes() -> None:
    engine = FlexoEngine(machine_tags={"FLEXO_104": "FLX-104"})
    stop = TickEvent(T0 + 60, "downtime", None, "GANTI ROLL", 1.5)
    ticks = [tick(1, run=0.5), tick(2, run=0.0, produced=0, reject=0, events=[stop])]
    ticks += [tick(m) for m in range(3, 480 + 1)]  # to 14:00
    ticks += [tick(481, shift="B")]
    state, items = run(engine, ticks)
    [oee] = closed(items)
    assert oee.key == "oee:FLEXO_104:A:2026-11-22T06:00:00Z"
    assert oee.ts == "2026-11-22T14:00:00Z"
    run_min = 0.5 + 0.0 + 478
    assert oee.data == {
        "machine": "FLX-104",
        "shift": "A",
        "period_start": "2026-11-22T06:00:00Z",
        "period_end": "2026-11-22T14:00:00Z",
        "run_min": run_min,
        "downtime_min": 480 - run_min,
        "produced": 220 * 479,
        "good": 216 * 479,
        "rejected": 4 * 479,
        "design_speed": 250.0,
        "actual_speed": 220.0,
    }
    [down] = [i for i in items if i.type == "downtime_event"]
    assert down.data["component"] == "PRE_FEEDER"  # from the reason code
    assert state["shift"]["letter"] == "B" and state["shift"]["ticks"] == 1


def test_the_running_shift_sends_provisional_records_the_close_replaces() -> None:
    engine = FlexoEngine(snapshot_interval_s=600, machine_tags={"FLEXO_104": "FLX-104"})
    ticks = [tick(m) for m in range(1, 26)] + [tick(26, shift="B")]
    state, items = run(engine, ticks)
    oee = [i for i in items if i.type == "oee_record"]
    # the first tick of each shift, then every 10 minutes of tick time; the close
    assert [(i.key, i.ts) for i in oee] == [
        ("oee:FLEXO_104:A:2026-11-22T06:00:00Z:running:1", "2026-11-22T06:01:00Z"),
        ("oee:FLEXO_104:A:2026-11-22T06:00:00Z:running:2", "2026-11-22T06:11:00Z"),
        ("oee:FLEXO_104:A:2026-11-22T06:00:00Z:running:3", "2026-11-22T06:21:00Z"),
        ("oee:FLEXO_104:A:2026-11-22T06:00:00Z", "2026-11-22T06:25:00Z"),
        ("oee:FLEXO_104:B:2026-11-22T06:25:00Z:running:1", "2026-11-22T06:26:00Z"),
    ]
    shift_a = oee[:4]
    # one machine and period start: Odoo keeps one record and replaces it
    assert {(i.data["machine"], i.data["period_start"]) for i in shift_a} == {
        ("FLX-104", "2026-11-22T06:00:00Z")
    }
    assert [i.data.get("running") for i in shift_a] == [True, True, True, None]
    assert [i.data["period_end"] for i in shift_a] == [i.ts for i in shift_a]
    assert [i.data["produced"] for i in shift_a] == [220, 11 * 220, 21 * 220, 25 * 220]
    # the closing record carries the same figures as a provisional one would
    last = {k: v for k, v in shift_a[2].data.items() if k != "running"}
    assert set(last) == set(shift_a[3].data)
    assert state["shift"]["running_seq"] == 1  # shift B's first


def test_provisional_records_every_tick_with_a_zero_interval() -> None:
    _, items = run(FlexoEngine(snapshot_interval_s=0), [tick(m) for m in range(1, 4)])
    keys = [i.key for i in items if i.type == "oee_record"]
    assert keys == [f"oee:FLEXO_104:A:2026-11-22T06:00:00Z:running:{n}" for n in (1, 2, 3)]


def test_provisional_sequence_survives_a_restart() -> None:
    engine = FlexoEngine(snapshot_interval_s=300)
    state, first = run(engine, [tick(m) for m in range(1, 8)])
    restored = json.loads(json.dumps(state))  # as the store keeps it
    step = engine.step(restored, tick(11))
    keys = [i.key for i in (*first, *step.items) if i.type == "oee_record"]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["1", "2", "3"]


def test_a_long_gap_in_the_same_shift_letter_closes_the_shift() -> None:
    _, items = run(FlexoEngine(), [tick(1), tick(2), tick(24 * 60 + 1)])
    [oee] = closed(items)
    assert oee.data["period_end"] == "2026-11-22T06:02:00Z"


def test_metrics_missing_fall_back_to_stops_and_counters() -> None:
    stops = [TickEvent(T0, "downtime", None, "SLOTTER UNIT TROUBLE MEKANIK", 20.0)]
    state, items = run(
        FlexoEngine(), [tick(1, components={}), tick(2, components={}, events=stops)]
    )
    snaps = {i.key.split(":")[2]: i.data for i in items if i.key.endswith("06:02:00Z")}
    # only the SLOTTER changed band? 85 - 3 x 2 = 79 -> good, from excellent
    assert snaps["SLOTTER"]["score"] == 79.0
    assert snaps["SLOTTER"]["metrics"] is None
    assert snaps["SLOTTER"]["recommendations"][0].startswith("Estimated from stops")
    assert set(snaps) == {"SLOTTER"}


def test_an_old_tick_changes_nothing() -> None:
    engine = FlexoEngine()
    first = engine.step(None, tick(5))
    again = engine.step(first.state, tick(4))
    assert again.items == [] and again.assessment is None
    assert again.state == first.state


def test_the_same_ticks_give_the_same_keys() -> None:
    ticks = [tick(m, shift="A" if m < 10 else "B") for m in range(1, 15)]
    keys = [[i.key for i in run(FlexoEngine(), ticks)[1]] for _ in range(2)]
    assert keys[0] == keys[1] and len(set(keys[0])) == len(keys[0])


def test_state_is_not_changed_in_place() -> None:
    engine = FlexoEngine()
    first = engine.step(None, tick(1))
    frozen = repr(first.state)
    engine.step(first.state, tick(2, shift="B"))
    assert repr(first.state) == frozen


def test_a_band_drop_asks_the_repair_predictor() -> None:
    asked: list[tuple[str, float, float]] = []

    def predictor(component: str, produced: float, reject: float) -> tuple[float, str]:
        asked.append((component, produced, reject))
        return 1.25, "repair_duration/3"

    engine = FlexoEngine(machine_tags={"FLEXO_104": "FLX-104"}, predictor=predictor)
    worn: dict[str, dict[str, float | None]]
    worn = {**HEALTHY, "SLOTTER": {"miscut_pct": 2.0, "burr_mm": 0.15, "blade_life_used_pct": 92}}
    _, items = run(engine, [tick(1), tick(2), tick(3, components=worn), tick(4, components=worn)])
    [prediction] = [i for i in items if i.type == "prediction"]
    assert asked == [("SLOTTER", 660.0, 12.0)]  # the shift so far, once
    assert prediction.key == "prediction:FLEXO_104:SLOTTER:2026-11-22T06:03:00Z"
    assert prediction.data["tag"] == "FLX-104-SL"
    assert prediction.data["inputs"] == {
        "component": "SLOTTER",
        "shift_produced": 660.0,
        "shift_reject": 12.0,
    }
    assert (prediction.data["predicted_hours"], prediction.data["model_version"]) == (
        1.25,
        "repair_duration/3",
    )
    assert "1.2 h" in prediction.data["recommendation"]


def test_a_failing_predictor_does_not_stop_the_engine() -> None:
    def broken(component: str, produced: float, reject: float) -> tuple[float, str]:
        raise RuntimeError("model file unreadable")

    worn: dict[str, dict[str, float | None]]
    worn = {**HEALTHY, "PRINTING": {"registration_error_mm": 0.9, "reject_rate_pct": 9}}
    _, items = run(FlexoEngine(predictor=broken), [tick(1), tick(2, components=worn)])
    assert "prediction" not in {i.type for i in items}
    assert len([i for i in items if i.type == "health_snapshot"]) == 6


def test_settings_refuse_a_bad_tag_map() -> None:
    from connector.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="flexo_machine_tags"):
        Settings(flexo_machine_tags="FLEXO_104")
    assert Settings(flexo_component_tags="FLEXO_104:PRINTING=X-PR").flexo_component_tags


def test_service_predictor_without_a_model(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.service import repair_predictor

    monkeypatch.setenv("CMMS_MODELS_DIR", str(tmp_path))
    assert repair_predictor()("PRINTING", 1000.0, 20.0) is None


def test_meter_readings_every_interval_as_increments() -> None:
    engine = FlexoEngine(machine_tags={"FLEXO_104": "FLX-104"}, meter_interval_s=900)
    ticks = [tick(m) for m in range(1, 15)]  # 06:01..06:14: not yet
    ticks += [tick(15, run=0.5, produced=100)]  # 06:15: the first quarter hour
    ticks += [tick(m, run=0.0, produced=0, reject=0) for m in range(16, 31)]  # stopped
    ticks += [tick(m) for m in range(31, 46)]  # 06:31..06:45
    state, items = run(engine, ticks)
    meters = [i for i in items if i.type == "meter_reading"]
    assert [i.key for i in meters] == [
        "meter:FLEXO_104:run_hours:2026-11-22T06:15:00Z",
        "meter:FLEXO_104:produced_units:2026-11-22T06:15:00Z",
        # 06:30: the machine stood still, nothing to add
        "meter:FLEXO_104:run_hours:2026-11-22T06:45:00Z",
        "meter:FLEXO_104:produced_units:2026-11-22T06:45:00Z",
    ]
    assert meters[0].data == {"machine": "FLX-104", "meter": "run_hours", "increment": 0.241667}
    assert meters[1].data["increment"] == 14 * 220 + 100
    assert meters[2].data["increment"] == 0.25
    assert meters[0].ts == "2026-11-22T06:15:00Z"
    # Nothing counted twice, nothing lost: the increments add up to the ticks.
    total_run = sum(i.data["increment"] for i in meters if i.data["meter"] == "run_hours")
    assert total_run * 60 == pytest.approx(14 + 0.5 + 15, abs=1e-3)
    assert state["meters"]["run_min"] == 0.0


def test_meter_counts_survive_a_restart_and_replay_the_same_keys() -> None:
    ticks = [tick(m) for m in range(1, 31)]
    _, straight = run(FlexoEngine(), ticks)
    # Stopped after ten minutes; the state kept in the store goes on.
    engine = FlexoEngine()
    state, first = run(engine, ticks[:10])
    rest: list[Any] = []
    for t in ticks[10:]:
        step = engine.step(state, t)
        state = step.state
        rest.extend(step.items)
    assert [i for i in first + rest if i.type == "meter_reading"] == [
        i for i in straight if i.type == "meter_reading"
    ]
    # A state saved before meters existed starts counting from its next tick.
    old = {k: v for k, v in state.items() if k != "meters"}
    step = FlexoEngine().step(old, tick(31))
    assert step.state["meters"]["run_min"] == 1.0


def test_meter_readings_off() -> None:
    _, items = run(FlexoEngine(meter_interval_s=0), [tick(m) for m in range(1, 61)])
    assert "meter_reading" not in {i.type for i in items}
