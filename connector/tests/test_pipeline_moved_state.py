"""A detector state saved under the connector's former module paths.

The pipeline saves each tag's detectors pickled; the pickle names their
classes' modules. A state saved before the modules moved into subpackages
names ``connector.detectors``, which no longer exists: it does not load,
and the pipeline starts afresh and says so, as for any unreadable state.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from connector.ingest.pipeline import DETECTOR_STATE_KEY, Pipeline
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
#: A pickle (protocol 0) of what the former layout saved: a class of
#: ``connector.detectors``.
OLD_LAYOUT_STATE = b"cconnector.detectors\nTagDetectors\n."


def readings(start: int, n: int) -> list[tuple[str, bytes]]:
    return [
        (
            "cmms/plant1/PT-101/reading",
            json.dumps({"ts": T0 + i, "value": 6.0 + 0.01 * (i % 3), "unit": "bar"}).encode(),
        )
        for i in range(start, start + n)
    ]


def pipeline(path: Path) -> Pipeline:
    pipe = Pipeline(
        open_store(path), clear_delay_s=2, cusum_baseline_n=5, cusum_window_s=0, clock=lambda: T0
    )
    pipe.apply_config(make_config("v1", SENSOR_PT101))
    return pipe


@pytest.mark.parametrize("old_layout", [False, True])
def test_a_state_of_the_old_module_paths_starts_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, old_layout: bool
) -> None:
    path = tmp_path / "s.sqlite3"
    first = pipeline(path)
    first.process(readings(0, 20))
    first.save_state(T0)
    assert first.monitors_["PT-101"].cusum.baseline_ready
    if old_layout:
        saved = first.store.get_json(DETECTOR_STATE_KEY)
        saved["state"] = base64.b64encode(OLD_LAYOUT_STATE).decode("ascii")
        first.store.set_json(DETECTOR_STATE_KEY, saved)
    first.store.close()

    with caplog.at_level(logging.INFO, logger="connector.ingest.pipeline"):
        second = pipeline(path)
    restored = second.monitors_["PT-101"].cusum.baseline_ready
    assert restored is not old_layout, "the saved baseline is used unless it is unreadable"
    if old_layout:
        assert "unreadable" in caplog.text and "connector.detectors" in caplog.text
    result = second.process(readings(20, 5))
    assert (result.readings, result.dead_letters) == (5, 0)
    second.store.close()
