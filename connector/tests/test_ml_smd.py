"""The SMD evaluation on tiny hand-made machines (no data set needed)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from connector.ml import smd_eval
from connector.ml.io import InputError
from connector.ml.nab_eval import score_file


def write_txt(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(rows, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    path.write_text("\n".join(",".join(f"{v:g}" for v in row) for row in arr) + "\n")


def machine(seed: int = 0, n_train: int = 600, n_test: int = 600) -> tuple[np.ndarray, ...]:
    """Three metrics around 0.5; metric 1 jumps at test rows 300-339."""
    rng = np.random.default_rng(seed)
    train = 0.5 + 0.01 * rng.standard_normal((n_train, 3))
    test = 0.5 + 0.01 * rng.standard_normal((n_test, 3))
    labels = np.zeros(n_test)
    test[300:340, 1] += 0.3
    labels[300:340] = 1
    return train, test, labels


def test_segments_windows_and_point_adjustment() -> None:
    labels = [0, 0, 1, 1, 1, 0, 0, 0, 1, 0]
    assert smd_eval.segments(labels) == [(2, 4), (8, 8)]
    assert smd_eval.segments([1, 1]) == [(0, 1)]
    assert smd_eval.segments([0, 0]) == []
    # 10 % of 100 rows over 2 segments: 5 rows, 2 on each side.
    assert smd_eval.windows([(20, 22), (60, 60)], 100) == [(18, 24), (58, 62)]
    assert smd_eval.windows([(0, 1)], 100) == [(0, 6)]  # clipped at the start
    assert smd_eval.windows([(95, 99)], 100) == [(90, 99)]  # and at the end
    assert smd_eval.windows([], 100) == []
    flags = [0, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    assert smd_eval.point_adjust(flags, labels).tolist() == [0, 0, 1, 1, 1, 0, 1, 0, 0, 0]
    c = smd_eval.Counts()
    c.add(smd_eval.point_adjust(flags, labels), np.asarray(labels))
    assert (c.tp, c.fp, c.fn) == (3, 1, 1)
    assert c.precision == pytest.approx(0.75)
    assert c.recall == pytest.approx(0.75)
    assert c.f1 == pytest.approx(0.75)
    assert smd_eval.onsets([1, 1, 0, 1]) == [0, 3]


def test_window_score_rewards_early_detection_and_charges_false_ones() -> None:
    windows = [(40, 59)]
    early = score_file([41], 100, windows, probation=0).raw["standard"]
    late = score_file([57], 100, windows, probation=0).raw["standard"]
    missed = score_file([], 100, windows, probation=0).raw["standard"]
    false = score_file([41, 80], 100, windows, probation=0).raw["standard"]
    assert early > late > missed == -1.0
    assert false < early
    # The default probation (NAB's 15 %) leaves early rows out; none here.
    assert score_file([5], 100, [(2, 8)]).tp == 0
    assert score_file([5], 100, [(2, 8)], probation=0).tp == 1


def test_reads_both_layouts(tmp_path: Path) -> None:
    train, test, labels = machine()
    raw = tmp_path / "ServerMachineDataset"
    write_txt(raw / "train" / "machine-1-1.txt", train)
    write_txt(raw / "test" / "machine-1-1.txt", test)
    write_txt(raw / "test_label" / "machine-1-1.txt", labels)
    write_txt(raw / "test" / "machine-1-10.txt", test)  # no train part: left out
    found = smd_eval.find_machines(tmp_path)
    assert [m.name for m in found] == ["machine-1-1"]
    got = smd_eval.read_matrix(found[0].test)
    assert got.shape == (600, 3)
    assert np.allclose(got, test, atol=1e-5)

    proc = tmp_path / "processed"
    proc.mkdir()
    for name in ("machine-1-2", "machine-1-10"):
        for part, arr in (("train", train), ("test", test), ("test_label", labels)):
            with (proc / f"{name}_{part}.pkl").open("wb") as handle:
                pickle.dump(arr.astype(np.float32), handle)
    found = smd_eval.find_machines(proc)
    assert [m.name for m in found] == ["machine-1-2", "machine-1-10"]
    assert smd_eval.read_matrix(found[0].label).shape == (600, 1)


def test_refuses_a_pickle_that_is_not_an_array(tmp_path: Path) -> None:
    path = tmp_path / "machine-1-1_test.pkl"
    with path.open("wb") as handle:
        pickle.dump({"a": 1}, handle)
    with pytest.raises(InputError):
        smd_eval.read_matrix(path)
    with pytest.raises(InputError):
        smd_eval.find_machines(tmp_path / "nothing")


def test_engine_finds_the_jump_and_zscore_runs(tmp_path: Path) -> None:
    train, test, labels = machine()
    root = tmp_path / "smd"
    write_txt(root / "train" / "machine-1-1.txt", train)
    write_txt(root / "test" / "machine-1-1.txt", test)
    write_txt(root / "test_label" / "machine-1-1.txt", labels)
    ev = smd_eval.evaluate(root)
    (m,) = ev.machines
    assert m.nab.windows == 1 and m.nab.tp >= 1
    assert m.adjusted.recall == 1.0
    assert ev.nab("standard") > 0
    scores, flags = smd_eval.online_engine(train, test)
    assert flags[300:345].any() and not flags[:290].any()
    # Causality: changing the last test rows changes nothing before them.
    test2 = test.copy()
    test2[500:] += 5.0
    scores2, flags2 = smd_eval.online_engine(train, test2)
    assert np.array_equal(scores[:500], scores2[:500])
    assert np.array_equal(flags[:500], flags2[:500])
    text = smd_eval.report(ev, "online", per_machine=True)
    assert "machine-1-1" in text and "point-adjusted" in text
    zs = smd_eval.evaluate(root, "zscore")
    assert zs.machines[0].adjusted.recall == 1.0
    assert smd_eval.main(["--data", str(root), "--machines", "machine-9-9"]) == 2
