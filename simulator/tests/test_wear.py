"""Consumable wear in the FLEXO tick model: it raises the metrics and resets at changes."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from simulator.clock import iso_utc
from simulator.faults import Fault
from simulator.flexo import CONSUMABLES, REASON_CODES, FlexoSimulator

DAY = 86_400.0
TICK = 600.0
PER_DAY = round(DAY / TICK)


def _run(days: float, *faults: Fault, seed: int = 2) -> tuple[list[dict[str, Any]], list[dict]]:
    """Ticks of a run and the consumable wear after each tick."""
    flexo = FlexoSimulator(seed, 0.0, tick_interval_s=TICK, degradations=faults)
    ticks, wear = [], []
    for k in range(1, round(days * PER_DAY) + 1):
        ticks.append(flexo.tick(k * TICK))
        wear.append(dict(flexo.wear_))
    return ticks, wear


@pytest.fixture(scope="module")
def long_run() -> tuple[list[dict[str, Any]], list[dict]]:
    return _run(200)


def _daily(ticks: list[dict[str, Any]], component: str, metric: str) -> list[float]:
    values = [float(t["components"][component][metric]) for t in ticks]
    return [statistics.fmean(values[i : i + PER_DAY]) for i in range(0, len(values), PER_DAY)]


def _events(ticks: list[dict[str, Any]], reason: str) -> list[dict[str, Any]]:
    return [ev for t in ticks for ev in t["events"] if ev["reason"] == reason]


def test_anilox_wear_drifts_printing_through_the_health_bands(long_run: Any) -> None:
    ticks, wear = long_run
    registration = _daily(ticks, "PRINTING", "registration_error_mm")
    rejects = _daily(ticks, "PRINTING", "reject_rate_pct")
    anilox = [
        statistics.fmean(w["anilox"] for w in wear[i : i + PER_DAY])
        for i in range(0, len(wear), PER_DAY)
    ]
    # Good (< 0.2 mm), warning (0.2-0.5) and critical (> 0.5) days all occur.
    assert min(registration) < 0.2 and max(registration) > 0.5
    assert any(0.25 < r < 0.45 for r in registration)
    assert min(rejects) < 2.0 and max(rejects) > 5.0
    # The registration error follows the anilox wear.
    assert statistics.correlation(anilox, registration) > 0.9
    pressure = _daily(ticks, "PRINTING", "anilox_pressure_bar")
    assert statistics.correlation(anilox, pressure) > 0.9
    # The anilox change renews it: the next day is in the good band again.
    changes = _events(ticks, "GANTI ANILOX")
    assert changes
    day = next(i for i, w in enumerate(wear) if w["anilox"] < 0.01) // PER_DAY
    assert registration[day - 1] > 0.45
    assert registration[day + 1] < 0.2


@pytest.mark.parametrize("consumable", CONSUMABLES, ids=lambda c: c.name)
def test_wear_rises_with_the_cuts_and_resets_at_its_change(long_run: Any, consumable: Any) -> None:
    ticks, wear = long_run
    series = [w[consumable.name] for w in wear]
    resets = [k for k in range(1, len(series)) if series[k] < series[k - 1]]
    assert resets
    for k in resets:
        assert series[k] == 0.0 or series[k] < 0.01
        assert series[k - 1] >= consumable.change_at - 0.02
    changes = _events(ticks, consumable.reason)
    assert len(changes) in (len(resets), len(resets) - 1)  # the last may still be going on
    assert all(ev["component"] == consumable.component for ev in changes)
    # Between changes, wear only grows, and only while cuts are made.
    for k in range(1, len(series)):
        if k not in resets:
            assert series[k] >= series[k - 1]
            if ticks[k]["overall"]["produced_units"] == 0:
                assert series[k] == series[k - 1]


def test_blade_wear_raises_burr_and_miscut(long_run: Any) -> None:
    ticks, _ = long_run
    slotter = [t["components"]["SLOTTER"] for t in ticks]
    fresh = [s for s in slotter if s["blade_life_used_pct"] < 30]
    worn = [s for s in slotter if s["blade_life_used_pct"] > 75]
    for metric in ("burr_mm", "miscut_pct"):
        assert statistics.fmean(s[metric] for s in worn) > 1.4 * statistics.fmean(
            s[metric] for s in fresh
        )
    # Blades are changed at 90 % and pass the 70 % warning band before.
    assert max(s["blade_life_used_pct"] for s in slotter) <= 91.0
    assert sum(s["blade_life_used_pct"] >= 70 for s in slotter) > 0.1 * len(slotter)
    doctor = [t["components"]["PRINTING"]["doctor_blade_wear_pct"] for t in ticks]
    assert max(doctor) == pytest.approx(100.0) and min(doctor) < 2.0


def test_degradation_accelerates_wear_and_ends_with_a_repair() -> None:
    fault = Fault("FLEXO_104", "degradation", DAY, 3 * DAY, {"severity": 1.0}, component="SLOTTER")
    healthy, _ = _run(4, seed=5)
    degraded, wear = _run(4, fault, seed=5)

    def blade_changes(ticks: list[dict[str, Any]]) -> int:
        return sum(
            DAY <= k * TICK < 3 * DAY
            for k, t in enumerate(ticks, 1)
            for ev in t["events"]
            if ev["reason"] == "GANTI PISAU SLOTTER"
        )

    assert blade_changes(degraded) >= 2 * max(1, blade_changes(healthy))
    late = [t["components"]["SLOTTER"] for t in degraded[round(2.8 * PER_DAY) : 3 * PER_DAY - 1]]
    assert statistics.fmean(s["miscut_pct"] for s in late) > 3.0  # critical band
    assert statistics.fmean(s["burr_mm"] for s in late) > 0.2
    # At the fault's end the blade is renewed and the slotter repaired.
    end = 3 * PER_DAY - 1
    assert wear[end]["slotter_blade"] < 0.01
    repairs = [ev for t in degraded for ev in t["events"] if ev["timestamp"] == iso_utc(3 * DAY)]
    assert [(ev["component"], ev["reason"]) for ev in repairs] == [
        ("SLOTTER", REASON_CODES["SLOTTER"][0])
    ]
    assert 30 <= repairs[0]["duration_min"] <= 90
    after = [t["components"]["SLOTTER"] for t in degraded[3 * PER_DAY + 12 :]]
    assert statistics.fmean(s["miscut_pct"] for s in after) < 1.0


def test_printing_degradation_wears_the_anilox_faster() -> None:
    fault = Fault("FLEXO_104", "degradation", DAY, 5 * DAY, {"severity": 1.0}, component="PRINTING")
    healthy_ticks, healthy = _run(5.5, seed=4)
    degraded_ticks, degraded = _run(5.5, fault, seed=4)
    start, last = PER_DAY - 1, 5 * PER_DAY - 2  # the ticks ending at the fault's start and end
    gained = degraded[last]["anilox"] - degraded[start]["anilox"]
    normal = healthy[last]["anilox"] - healthy[start]["anilox"]
    assert gained > 3 * normal > 0
    assert len(_events(degraded_ticks, "GANTI DOCTOR BLADE")) > len(
        _events(healthy_ticks, "GANTI DOCTOR BLADE")
    )
    # Renewed at the end of the fault.
    assert max(degraded[last + 1]["anilox"], degraded[last + 1]["doctor_blade"]) < 0.01
