"""A calibration recorded in Odoo resets the tag's CUSUM (baseline learned again)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.detect.base import DRIFT
from connector.ingest.pipeline import Pipeline, calibration_changed
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
BASELINE_N = 10


def msg(i: int, value: float) -> tuple[str, bytes]:
    body = {"ts": T0 + i, "value": value, "unit": "bar"}
    return "cmms/plant1/PT-101/reading", json.dumps(body).encode()


def sensor(calibrated: str | None, **extra: Any) -> dict[str, Any]:
    # One reading per CUSUM point (no interval), limits far away.
    return dict(SENSOR_PT101, interval_s=None, last_calibration_at=calibrated, **extra)


@pytest.fixture
def pipe(tmp_path: Path) -> Pipeline:
    p = Pipeline(
        open_store(tmp_path / "s.sqlite3"),
        clear_delay_s=2,
        cusum_baseline_n=BASELINE_N,
        clock=lambda: T0,
    )
    p.apply_config(make_config("v1", sensor(None)))
    return p


def drift(pipe: Pipeline) -> list[str]:
    rows = pipe.store.execute("SELECT type, data FROM outbox ORDER BY id")
    return [t for t, d in rows if json.loads(d)["alert_type"] == DRIFT]


def feed(pipe: Pipeline, start: int, values: list[float]) -> int:
    for i, value in enumerate(values, start=start):
        pipe.process([msg(i, value)])
    return start + len(values)


def test_calibration_changed() -> None:
    assert calibration_changed({}, {"last_calibration_at": "2026-11-22T08:00:00Z"})
    assert not calibration_changed({"last_calibration_at": "x"}, {"last_calibration_at": "x"})
    assert not calibration_changed({"last_calibration_at": "x"}, {"last_calibration_at": None})


def test_a_new_calibration_time_resets_the_cusum(pipe: Pipeline) -> None:
    baseline = [6.0 + (0.1 if i % 2 else -0.1) for i in range(BASELINE_N)]
    i = feed(pipe, 0, baseline)
    cusum = pipe.monitors_["PT-101"].cusum
    assert cusum.baseline_ready and cusum.mu_ == pytest.approx(6.0)
    i = feed(pipe, i, [6.5] * 10)  # the instrument drifts (inside its limits)
    assert drift(pipe) == ["alert_raised"] and cusum.drift_detected

    # Same calibration time, other version: nothing learned is forgotten.
    pipe.apply_config(make_config("v2", sensor(None, deadband=0.3)))
    assert pipe.monitors_["PT-101"].cusum is cusum and cusum.drift_detected

    # A technician records the calibration in Odoo: the CUSUM starts again.
    pipe.apply_config(make_config("v3", sensor("2026-11-22T09:00:00Z", deadband=0.3)))
    assert pipe.monitors_["PT-101"].cusum is cusum
    assert not cusum.baseline_ready and not cusum.drift_detected
    # The calibrated instrument reads 6.5 from now on: that is the new baseline.
    calibrated = [6.5 + (0.1 if k % 2 else -0.1) for k in range(BASELINE_N + 5)]
    i = feed(pipe, i, calibrated)
    assert cusum.baseline_ready and cusum.mu_ == pytest.approx(6.5, abs=0.05)
    assert drift(pipe) == ["alert_raised", "alert_cleared"]
    assert pipe.open_alerts() == []

    # The same time again (another setting changed): no second reset.
    pipe.apply_config(make_config("v4", sensor("2026-11-22T09:00:00Z", deadband=0.2)))
    assert pipe.monitors_["PT-101"].cusum.baseline_ready


def test_calibration_of_a_new_sensor_or_at_start_is_no_reset(pipe: Pipeline) -> None:
    feed(pipe, 0, [6.0 + (0.1 if i % 2 else -0.1) for i in range(BASELINE_N)])
    other = dict(sensor("2026-11-22T09:00:00Z"), tag="PT-102")
    pipe.apply_config(make_config("v2", sensor(None), other))
    assert pipe.monitors_["PT-101"].cusum.baseline_ready
    assert "PT-102" in pipe.monitors_
