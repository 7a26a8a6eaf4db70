"""Data gaps follow the readings' clock: no false gap at any replay rate, a
real stop of one sensor is still a gap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.detect.base import DATA_GAP
from connector.detect.event_clock import EventClock
from connector.ingest.pipeline import Pipeline
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
WALL0 = 5000.0
TAGS = ("PT-101", "TT-201")


def reading(tag: str, ts: float) -> tuple[str, bytes]:
    body = {"ts": ts, "value": 6.0, "unit": "bar"}
    return f"cmms/plant1/{tag}/reading", json.dumps(body).encode()


@pytest.fixture
def pipe(tmp_path: Path) -> Pipeline:
    p = Pipeline(open_store(tmp_path / "s.sqlite3"), "cmms", clear_delay_s=0, clock=lambda: WALL0)
    sensors = [dict(SENSOR_PT101, tag=tag, cusum_h=None, interval_s=1.0) for tag in TAGS]
    p.apply_config(make_config("v1", *sensors))
    return p


def gaps(pipe: Pipeline) -> list[str]:
    rows = pipe.store.execute("SELECT type, data FROM outbox ORDER BY id")
    return [
        json.loads(d)["tag"]
        for t, d in rows
        if t == "alert_raised" and json.loads(d)["alert_type"] == DATA_GAP
    ]


def replay(pipe: Pipeline, rate: float, seconds: int, stopped=lambda tag, t: False) -> None:
    """Readings every simulated second, received at *rate*, gaps checked
    every wall second as the service does."""
    next_check = WALL0 + 1.0
    for t in range(seconds):
        wall = WALL0 + t / rate
        while next_check <= wall:
            pipe.check_gaps(next_check)
            next_check += 1.0
        batch = [reading(tag, T0 + t) for tag in TAGS if not stopped(tag, t)]
        if batch:
            pipe.process(batch, received_at=wall)


@pytest.mark.parametrize("rate", [0.5, 1.0, 20.0, 200.0])
def test_no_false_gap_at_any_rate(pipe: Pipeline, rate: float) -> None:
    replay(pipe, rate, 600)
    assert gaps(pipe) == []


def test_received_late_after_a_backlog_is_no_gap(pipe: Pipeline) -> None:
    replay(pipe, 20.0, 100)
    # The connector stalls 3 wall seconds, then receives what waited.
    pipe.check_gaps(WALL0 + 100 / 20.0 + 0.5)
    pipe.process([reading(tag, T0 + 100) for tag in TAGS], received_at=WALL0 + 100 / 20.0 + 3.0)
    assert gaps(pipe) == []


@pytest.mark.parametrize("rate", [1.0, 20.0])
def test_one_sensor_that_stops_is_a_gap(pipe: Pipeline, rate: float) -> None:
    replay(pipe, rate, 400, stopped=lambda tag, t: tag == "TT-201" and 200 <= t < 300)
    assert gaps(pipe) == ["TT-201"]


def test_a_silent_site_is_a_gap_of_every_tag(pipe: Pipeline) -> None:
    replay(pipe, 20.0, 100)
    last = WALL0 + 99 / 20.0
    assert pipe.check_gaps(last + 0.05) == 0
    pipe.check_gaps(last + 3.0)  # nothing more: the site went silent
    assert sorted(gaps(pipe)) == sorted(TAGS)


def test_event_clock_runs_on_at_the_pace_of_the_readings() -> None:
    clock = EventClock()
    assert clock.now(0.0) is None
    for i in range(5):
        clock.observe(100.0 + 0.5 * i, wall=float(i))  # half speed
    assert clock.now(4.0) == 102.0
    assert clock.now(6.0) == pytest.approx(103.0)
    clock.observe(90.0, wall=7.0)  # an old reading does not move it back
    assert clock.now(6.0) == pytest.approx(103.0)


def test_a_publisher_that_starts_after_the_connector_is_no_gap(pipe: Pipeline) -> None:
    for k in range(10):  # the connector checks every second, nothing arrives yet
        pipe.check_gaps(WALL0 - 10.0 + k)
    replay(pipe, 20.0, 100)
    assert gaps(pipe) == []


def test_a_sensor_that_never_reports_is_a_gap(pipe: Pipeline) -> None:
    # Only PT-101 publishes: TT-201 is judged on the site's clock.
    for t in range(10):
        pipe.check_gaps(WALL0 + t - 0.5)
        pipe.process([reading("PT-101", T0 + t)], received_at=WALL0 + t)
    assert gaps(pipe) == ["TT-201"]


def test_a_plant_silent_from_the_start_is_a_gap_after_a_grace(pipe: Pipeline) -> None:
    for k in range(40):
        pipe.check_gaps(WALL0 + k)
    assert sorted(gaps(pipe)) == sorted(TAGS)
