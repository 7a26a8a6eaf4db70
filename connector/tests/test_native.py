"""The compiled twins (:mod:`connector.native`) give what the source gives.

``./scripts/test`` builds the twins first and sets ``CMMS_NATIVE_BUILT``;
then a missing or stale twin fails here instead of being skipped.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from connector import native
from connector.detect import anomaly
from connector.ml import online

BUILT = os.environ.get("CMMS_NATIVE_BUILT") == "1"


def _need_twins() -> None:
    if not (online.NATIVE and anomaly.NATIVE):
        if BUILT:
            pytest.fail(f"compiled twins built but not in use: {native.status()}")
        pytest.skip("compiled twins not built (python -m connector.native)")


def _stream(rng: random.Random, k: int, n: int) -> list[list[Any]]:
    """Rows with noise, level shifts, spikes, missing values, NaN and ints."""
    base = [rng.uniform(-50, 50) for _ in range(k)]
    sd = [rng.choice([0.0, 0.01, 1.0, 5.0]) for _ in range(k)]
    rows = []
    for _ in range(n):
        row: list[Any] = []
        for j in range(k):
            v: Any = base[j] + rng.gauss(0, sd[j]) if sd[j] else base[j]
            u = rng.random()
            if u < 0.02:
                v = None
            elif u < 0.025:
                v = math.nan
            elif u < 0.03:
                v += rng.choice([-1, 1]) * rng.uniform(5, 100)
            elif u < 0.032:
                v = int(v)
            row.append(v)
        if rng.random() < 0.003:
            base[rng.randrange(k)] += rng.uniform(-30, 30)
        if rng.random() < 0.002:
            sd[rng.randrange(k)] = rng.choice([0.0, 0.1, 3.0])
        rows.append(row)
    return rows


def test_the_streams_raise_alarms() -> None:
    """The streams the comparison below uses do alarm (and clear)."""
    det = online.PyOnlineDetector(2, warmup=100)
    flags = [det.update(row)[1] for row in _stream(random.Random(0), 2, 3000)]
    assert 0 < sum(flags) < len(flags)


def _run(cls: type, k: int, rows: list[list[Any]], params: dict[str, Any], sizes: list[int]) -> str:
    det = cls(k, **params)
    flat = [x for row in rows for x in row]
    out: list[Any] = []
    i = 0
    for size in sizes:
        chunk = flat[i * k : (i + size) * k]
        scores: list[float] = []
        pos = 0
        while pos < len(chunk) // k:
            pos = det.update_many(chunk, pos, scores)
            out.append((pos, det.active_, det.score_, list(det.ratios_), det.explain()))
        out.append(scores)
        i += size
        if i >= len(rows):
            break
    out.append(det.state_dict())
    return json.dumps(out)


@pytest.mark.parametrize("seed", range(12))
def test_the_compiled_detector_scores_as_the_source(seed: int) -> None:
    _need_twins()
    rng = random.Random(seed)
    k = rng.choice([1, 1, 2, 3, 8])
    n = rng.choice([1500, 3000])
    params: dict[str, Any] = {"warmup": rng.choice([0, 5, 100, 400])}
    if rng.random() < 0.4:
        params["on_count"] = rng.choice([1, 2, 3])
        params["off_count"] = rng.choice([1, 2, 5])
    if rng.random() < 0.4:
        params["tail_gap"] = rng.choice([1, 3, 60])
        params["relearn_after"] = rng.choice([5, 50])
    rows = _stream(rng, k, n)
    sizes = [rng.choice([1, 2, 7, 20, 100]) for _ in range(n)]
    compiled = _run(online.OnlineDetector, k, rows, params, sizes)
    source = _run(online.PyOnlineDetector, k, rows, params, sizes)
    assert online.OnlineDetector is not online.PyOnlineDetector
    assert compiled == source


def _engine_run(engine_cls: type, seed: int) -> str:
    rng = random.Random(seed)
    sensors = [{"tag": f"T{i}", "interval_s": 1.0, "machine": f"M{i // 4}"} for i in range(8)]
    sensors.append({"tag": "LONE", "interval_s": 1.0})
    scores: list[Any] = []
    engine = engine_cls(on_score=lambda *a: scores.append(a))
    engine.configure(sensors)
    verdicts = []
    t0 = 1795334400.0
    level = {s["tag"]: rng.uniform(5, 50) for s in sensors}
    for start in range(0, 3000, 20):
        for s in sensors:
            tag = s["tag"]
            if rng.random() < 0.02:
                continue  # a message lost: missing values in the machine's rows
            if rng.random() < 0.01:
                level[tag] += rng.uniform(-20, 20)
            size = rng.choice([1, 5, 20])
            ts = [t0 + start + j for j in range(size)]
            if rng.random() < 0.05:
                ts = ts[::-1]  # out of order: the older ones are not scored
            values = [level[tag] + rng.gauss(0, 1) for _ in ts]
            for v in engine.update_many(tag, ts, values):
                verdicts.append((tag, v.active, v.severity, v.message))
    return json.dumps([verdicts, scores, engine.state_dict()])


@pytest.mark.parametrize("seed", range(3))
def test_the_compiled_engine_runs_as_the_source(seed: int) -> None:
    _need_twins()
    compiled = _engine_run(anomaly.AnomalyEngine, seed)
    assert anomaly.AnomalyEngine is not anomaly.PyAnomalyEngine
    # The source's engine, with the source's classes throughout.
    saved = {name: getattr(anomaly, name) for name in ("RowAligner", "MachineWatch", "TagScorer")}
    saved_det = anomaly.OnlineDetector
    try:
        anomaly.RowAligner = anomaly.PyRowAligner  # type: ignore[misc]
        anomaly.MachineWatch = anomaly.PyMachineWatch  # type: ignore[misc]
        anomaly.TagScorer = anomaly.PyTagScorer  # type: ignore[misc]
        anomaly.OnlineDetector = online.PyOnlineDetector  # type: ignore[misc]
        source = _engine_run(anomaly.PyAnomalyEngine, seed)
    finally:
        for name, value in saved.items():
            setattr(anomaly, name, value)
        anomaly.OnlineDetector = saved_det  # type: ignore[misc]
    assert compiled == source
    assert "true" in compiled  # some alarm was raised


def _fake_package(tmp_path: Path, digest: str) -> Path:
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("X = 1\n")
    (pkg / "_mod_native.py").write_text(f"X = 2\nBUILT_FROM = {digest!r}\n")
    return pkg


def test_a_twin_is_taken_only_when_built_from_the_current_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CMMS_NATIVE", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = _fake_package(tmp_path, "0" * 64)
    source = pkg / "mod.py"
    with caplog.at_level(logging.WARNING, logger="connector.native"):
        assert native.compiled_twin("fakepkg.mod", source) is None
    assert "another version of the source" in caplog.text
    sys.modules.pop("fakepkg._mod_native", None)
    (pkg / "_mod_native.py").write_text(f"X = 2\nBUILT_FROM = {native.source_digest(source)!r}\n")
    importlib.invalidate_caches()
    twin = native.compiled_twin("fakepkg.mod", source)
    assert twin is not None and twin.X == 2
    namespace = {"__name__": "fakepkg.mod", "__file__": str(source), "X": 1}
    assert native.adopt(namespace, ("X",)) and namespace["X"] == 2
    monkeypatch.setenv("CMMS_NATIVE", "0")  # switched off: the source runs
    assert native.compiled_twin("fakepkg.mod", source) is None
    assert native.compiled_twin("fakepkg._mod_native", source) is None  # a twin has none
    assert native.twin_name("fakepkg.mod") == "fakepkg._mod_native"


def test_a_module_without_a_twin_runs_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = tmp_path / "otherpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("X = 1\n")
    assert native.compiled_twin("otherpkg.mod", pkg / "mod.py") is None


def test_the_build_is_current_when_the_test_command_built_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not BUILT:
        pytest.skip("the twins were not built by ./scripts/test")
    assert native.status() == [(m, "compiled") for m in native.MODULES]
    assert native.describe() == "compiled (connector.ml.online, connector.detect.anomaly)"
    monkeypatch.setenv("CMMS_NATIVE", "0")
    assert native.describe() == "interpreted (CMMS_NATIVE=0)"


def test_the_log_line_names_what_is_not_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CMMS_NATIVE", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "thirdpkg").mkdir()
    (tmp_path / "thirdpkg" / "__init__.py").write_text("")
    line = native.describe(("thirdpkg.mod",))
    assert line.startswith("interpreted") and "thirdpkg.mod: not built" in line
