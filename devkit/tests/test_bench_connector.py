"""The benchmark command runs end to end (a small scenario, real Mosquitto).

Its figures are not checked here (speed targets live in the benchmark's
output, not in tests); what is checked is that both subscribers drain the
scenario and that the table reports each scenario.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from devkit import ROOT
from devkit.broker import find_mosquitto


def test_bench_runs_a_small_scenario() -> None:
    if find_mosquitto() is None:
        if os.environ.get("CMMS_REQUIRE_MOSQUITTO") == "1":
            pytest.fail("mosquitto binary not found and CMMS_REQUIRE_MOSQUITTO=1")
        pytest.skip("mosquitto binary not found")
    command = [sys.executable, "-m", "devkit.bench_connector", "--tags", "5", "--batch", "1", "4"]
    done = subprocess.run(
        [*command, "--readings", "400"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, CMMS_BENCH_DEBUG="1"),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert len(runs) == 2
    for run in runs:
        for kind in ("bare", "connector"):
            # every reading, from the first message on
            assert run[kind]["readings"] == 400 and run[kind]["seconds"] > 0, run
            assert run[kind]["peak_mb"] > 0
    rows = [line.split() for line in done.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [tuple(r[:3]) for r in rows] == [("5", "1", "400"), ("5", "4", "400")]
    assert all(float(r[6]) > 0 for r in rows)  # the ratio column
