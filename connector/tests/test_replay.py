"""Offline replay: causality, output format, one and many signals, CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.__main__ import main
from connector.ml.deviation import CHANGE, LEVEL, DeviationDetector, Hysteresis
from connector.ml.io import InputError, read_table
from connector.replay import replay_array, replay_file, write_output

T0 = 1_795_334_400


def signals(n: int = 700, seed: int = 0) -> np.ndarray:
    """Three signals: a flow, a vibration, a slowly drifting temperature."""
    rng = np.random.default_rng(seed)
    flow = 32.0 + 0.4 * rng.standard_normal(n)
    vib = 0.21 + 0.002 * rng.standard_normal(n)
    temp = 70.0 + np.cumsum(0.02 * rng.standard_normal(n)) + 0.01 * np.arange(n)
    return np.column_stack([flow, vib, temp])


def write_csv(path: Path, X: np.ndarray, names=("flow", "vib", "temp"), extra=None) -> Path:
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["datetime", *names, *(extra or {})])
        for i, row in enumerate(X):
            cells = [f"{v:.6f}" if np.isfinite(v) else "" for v in row]
            w.writerow(
                [
                    f"2026-11-22 08:{i // 60 % 60:02d}:{i % 60:02d}",
                    *cells,
                    *(col[i] for col in (extra or {}).values()),
                ]
            )
    return path


# -- the detector -------------------------------------------------------------


def test_wandering_signals_are_watched_by_their_change() -> None:
    det = DeviationDetector().fit(signals()[:400], names=["flow", "vib", "temp"])
    assert det.modes_ == [LEVEL, LEVEL, CHANGE]
    assert det.persistence_[2] > det.persistence_limit > det.persistence_[0]
    m = det.metrics()
    assert m["signals"]["temp"]["mode"] == CHANGE and m["baseline_rows"] == 400


def test_raises_on_an_excursion_and_clears_after_it() -> None:
    X = signals()
    X[500:600, 0] -= 2.0  # flow drops for 100 rows
    r = replay_array(X, train_rows=400)
    assert r.flags[400:500].sum() == 0  # the drifting temperature does not alarm
    assert r.flags[505:600].all()
    assert r.flags[650:].sum() == 0  # and the alarm lets go
    assert ((r.scores >= 0) & (r.scores <= 1)).all()
    assert r.scores[550] > 0.5 > r.scores[450]


def test_small_relative_offsets_of_a_quiet_signal_do_not_alarm() -> None:
    X = signals()
    X[450:, 1] += 0.003  # 1.5 sigma but 1.4 % of the level: under the floor
    assert replay_array(X, train_rows=400).flags.sum() == 0
    X[600:, 1] += 0.2  # the vibration doubles
    assert replay_array(X, train_rows=400).flags[605:].all()


def test_missing_readings_are_skipped() -> None:
    X = signals()
    X[450:460, 0] = np.nan
    X[10:20, 1] = np.nan
    r = replay_array(X, train_rows=400)
    assert np.isfinite(r.scores).all() and r.flags.sum() == 0


def test_explain_names_the_signal() -> None:
    det = DeviationDetector().fit(signals()[:400], names=["flow", "vib", "temp"])
    for _ in range(20):
        det.update([28.0, 0.21, 70.0])
    assert det.explain(1)[0][0] == "flow"


def test_hysteresis_counts() -> None:
    h = Hysteresis(1.0, 0.5, on_count=2, off_count=3)
    seq = [2, 0, 2, 2, 0.4, 0.4, 0.7, 0.4, 0.4, 0.4, 0.4]
    assert [h.update(v) for v in seq] == [
        False,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("params", [{"alpha": 0}, {"change_lag": 0}, {"margin": -1}])
def test_bad_parameters(params: dict) -> None:
    with pytest.raises(ValueError):
        DeviationDetector(**params).fit(signals()[:400])


def test_too_few_baseline_rows() -> None:
    with pytest.raises(ValueError, match="baseline rows"):
        DeviationDetector().fit(signals()[:50])
    with pytest.raises(InputError, match="more than the 400"):
        replay_array(signals()[:300], train_rows=400)


# -- causality ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["deviation", "iforest"])
def test_changing_a_future_row_never_changes_earlier_outputs(method: str) -> None:
    X = signals(600)
    params = {"window": 20, "n_estimators": 30} if method == "iforest" else {}
    base = replay_array(X, train_rows=400, method=method, params=params)
    rng = np.random.default_rng(1)
    for t in (10, 399, 400, 450, 599):
        Y = X.copy()
        Y[t:] += rng.normal(0, 5, Y[t:].shape)
        out = replay_array(Y, train_rows=400, method=method, params=params)
        first = max(t, 400)  # baseline rows have no output, so nothing changes there
        np.testing.assert_array_equal(out.scores[:first], base.scores[:first])
        np.testing.assert_array_equal(out.flags[:first], base.flags[:first])


@settings(max_examples=25, deadline=None)
@given(t=st.integers(400, 519), delta=st.floats(-50, 50, allow_nan=False), col=st.integers(0, 2))
def test_causality_property(t: int, delta: float, col: int) -> None:
    X = signals(520, seed=7)
    base = replay_array(X, train_rows=400)
    Y = X.copy()
    Y[t, col] += delta
    out = replay_array(Y, train_rows=400)
    assert (out.scores[:t] == base.scores[:t]).all() and (out.flags[:t] == base.flags[:t]).all()


def test_replay_equals_a_live_stream() -> None:
    X = signals(600)
    r = replay_array(X, train_rows=400, method="deviation")
    live = DeviationDetector().fit(X[:400])
    for t in range(400, 600):
        score, flag = live.update(X[t])
        assert (score, int(flag)) == (r.scores[t], r.flags[t])


# -- files and the command ------------------------------------------------------


def test_output_format_and_multi_column_input(tmp_path: Path) -> None:
    X = signals(600)
    X[500:, 0] += 3.0
    labels = {"anomaly": [0] * 500 + [1] * 100, "note": ["x"] * 600}
    src = write_csv(tmp_path / "in.csv", X, extra=labels)
    summary = replay_file(src, tmp_path / "out.csv", train_rows=400, exclude=["anomaly"])
    assert summary["signals"] == ["flow", "vib", "temp"]
    assert summary["skipped_columns"] == ["anomaly", "note"]
    rows = list(csv.reader((tmp_path / "out.csv").open()))
    assert rows[0] == ["timestamp", "score", "flag"] and len(rows) == 601
    assert rows[1][0] == "2026-11-22 08:00:00"  # verbatim
    for _stamp, score, flag in rows[1:]:
        assert 0.0 <= float(score) <= 1.0 and flag in ("0", "1")
        assert len(score.split(".")[1]) == 6
    assert all(r[1:] == ["0.000000", "0"] for r in rows[1:401])
    assert summary["flagged_rows"] == sum(int(r[2]) for r in rows[1:]) > 90


def test_single_signal_semicolons_and_epoch_stamps(tmp_path: Path) -> None:
    values = signals(500)[:, 0]
    lines = ["ts;value"] + [f"{T0 + i};{v:.4f}" for i, v in enumerate(values)]
    (tmp_path / "one.csv").write_text("\n".join(lines) + "\n")
    table = read_table(tmp_path / "one.csv")
    assert table.names == ["value"] and table.times[0] == T0
    summary = replay_file(tmp_path / "one.csv", tmp_path / "o.csv", train_rows=300)
    assert summary["replayed_rows"] == 200


def test_write_output_clamps(tmp_path: Path) -> None:
    write_output(tmp_path / "x.csv", ["a", "b"], [1.5, float("nan")], [1, 0])
    assert (tmp_path / "x.csv").read_text().splitlines()[1:] == ["a,1.000000,1", "b,0.000000,0"]


def test_replay_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_csv(tmp_path / "in.csv", signals(500))
    out = tmp_path / "sub" / "out.csv"
    assert main(["replay", str(src), "--output", str(out), "--train-rows", "300", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["baseline_rows"] == 300 and out.exists()
    assert main(["replay", str(src), "-o", str(out), "--train-rows", "900"]) == 2
    assert "need more than the 900 baseline rows" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "missing.csv"), "-o", str(out)]) == 2
    (tmp_path / "text.csv").write_text("t,name\n1,a\n")
    assert main(["replay", str(tmp_path / "text.csv"), "-o", str(out)]) == 2
    assert "no numeric signal column" in capsys.readouterr().err
