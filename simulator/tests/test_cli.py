"""The command line without a broker."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.util import free_port
from simulator.__main__ import build_parser, main

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def test_dump_writes_readings_ticks_and_labels(tmp_path: Path) -> None:
    out, ticks, labels = (
        tmp_path / "r.jsonl",
        tmp_path / "t.jsonl",
        tmp_path / "l.jsonl",
    )
    printed = io.StringIO()
    status = main(
        [
            "dump",
            "--scenario",
            "catalogue",
            "--duration",
            "600",
            "--seed",
            "3",
            "--out",
            str(out),
            "--ticks",
            str(ticks),
            "--labels",
            str(labels),
        ],
        printed,
    )
    assert status == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # 4 tags x 600 s, less LT-401's 180 s data gap.
    assert len(rows) == 4 * 600 - 180
    assert {row["tag"] for row in rows} == {"PT-101", "TT-201", "FT-301", "LT-401"}
    assert len(ticks.read_text().splitlines()) == 10
    label_rows = [json.loads(line) for line in labels.read_text().splitlines()]
    # LT-401's out_of_range starts at 600 s: not part of a 600 s run.
    assert {row["fault"] for row in label_rows} == {
        "drift",
        "stuck",
        "oscillation",
        "data_gap",
        "degradation",
    }
    assert f"readings: {len(rows)}" in printed.getvalue()


def test_dump_with_instrument_file_and_interval(tmp_path: Path) -> None:
    plant = tmp_path / "plant.toml"
    plant.write_text(
        '[[instrument]]\ntag = "PT-900"\nkind = "pressure"\nunit = "bar"\n'
        "nominal = 3.0\nsignal_low = 0.0\nsignal_high = 10.0\nnoise_sd = 0.01\n"
    )
    out = tmp_path / "r.jsonl"
    status = main(
        [
            "dump",
            "--scenario",
            "normal",
            "--duration",
            "5",
            "--interval",
            "0.5",
            "--instruments",
            str(plant),
            "--no-flexo",
            "--out",
            str(out),
        ],
        io.StringIO(),
    )
    assert status == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["tag"] for row in rows] == ["PT-900"] * 10
    assert rows[1]["ts"] == "2026-11-22T08:00:00.500Z"


def test_list_names_the_scenarios() -> None:
    printed = io.StringIO()
    assert main(["list"], printed) == 0
    for name in ("normal", "pt101_out_of_range", "mixed"):
        assert name in printed.getvalue()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--scenario", "normal", "--rate", "0"])
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--scenario", "normal", "--batch", "0"])
    assert parser.parse_args(["run", "--scenario", "normal", "--rate", "max"]).rate is None
    assert main(["dump", "--scenario", "nope", "--out", str(tmp_path / "x")], io.StringIO()) == 2


def test_run_without_a_broker_fails_cleanly(run_cli: RunCli) -> None:
    done = run_cli("run", "--scenario", "normal", "--rate", "max", "--port", str(free_port()))
    assert done.returncode == 2
    assert "cannot reach broker" in done.stderr
    assert "Traceback" not in done.stderr
