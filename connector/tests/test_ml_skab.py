"""The SKAB evaluation on two files (the data is read in place, never copied).

Set ``SKAB_DATA`` to the benchmark's folder; by default the shared copy at
``../shared/data/skab`` beside the repository is used. Without it the tests are skipped. The
full run and its figures are ``python -m connector.ml.skab_eval --data DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector.ml.skab_eval import Counts, evaluate, labelled_files, main, report

SKAB = Path(
    os.environ.get(
        "SKAB_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data" / "skab"
    )
)

pytestmark = pytest.mark.skipif(
    not (SKAB / "data" / "valve1").is_dir(),
    reason=f"SKAB data not found at {SKAB} (set SKAB_DATA to the benchmark folder)",
)


def test_two_files_run_and_give_figures_in_range() -> None:
    files = labelled_files(SKAB)
    assert len(files) == 34
    pick = [f for f in files if f.parent.name == "valve1" and f.name == "3.csv"]
    pick += [f for f in files if f.parent.name == "other" and f.name == "9.csv"]
    ev = evaluate(SKAB, files=pick)
    t = ev.total
    assert t.tp + t.fp + t.fn + t.tn == ev.rows - 2 * 400
    for value in (t.f1, t.far, t.mar):
        assert 0.0 <= value <= 1.0
    assert t.tp > 0  # it finds something
    text = report(ev, per_file=True)
    assert "Conv-AE" in text and "valve1/3.csv" in text


def test_counts_formulas() -> None:
    c = Counts(tp=6, fp=2, fn=2, tn=10)
    assert c.f1 == pytest.approx(6 / (6 + 2))
    assert c.far == pytest.approx(2 / 12) and c.mar == pytest.approx(2 / 8)


def test_command_rejects_a_folder_without_data(tmp_path: Path) -> None:
    assert main(["--data", str(tmp_path)]) == 2
