"""The one broker launcher runs the shipped configuration, made local."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.broker import SHIPPED_CONF, Mosquitto, find_mosquitto, local_config
from devkit.util import port_open, wait_until


def test_local_config_keeps_the_shipped_settings(tmp_path: Path) -> None:
    text = local_config(18830, tmp_path / "data", tmp_path / "m.log")
    lines = {line for line in text.splitlines() if line and not line.startswith("#")}
    assert "listener 18830 127.0.0.1" in lines
    assert f"persistence_location {tmp_path / 'data'}/" in lines
    assert f"log_dest file {tmp_path / 'm.log'}" in lines
    assert "log_dest stdout" not in lines
    shipped = SHIPPED_CONF.read_text(encoding="utf-8").splitlines()
    for setting in ("persistence true", "max_queued_messages 0", "max_inflight_messages 100"):
        assert setting in shipped and setting in lines


def test_overrides_replace_a_setting(tmp_path: Path) -> None:
    text = local_config(1, tmp_path, tmp_path / "m.log", {"max_inflight_messages": "7"})
    assert "max_inflight_messages 7" in text.splitlines()
    assert "max_inflight_messages 100" not in text.splitlines()


def test_mosquitto_starts_restarts_and_cleans_up() -> None:
    if find_mosquitto() is None:
        if os.environ.get("CMMS_REQUIRE_MOSQUITTO") == "1":
            pytest.fail("mosquitto binary not found and CMMS_REQUIRE_MOSQUITTO=1")
        pytest.skip("mosquitto binary not found")
    with Mosquitto() as broker:
        base = broker.base
        assert port_open(broker.port)
        assert "max_queued_messages 0" in broker.conf.read_text(encoding="utf-8")
        broker.restart()
        assert port_open(broker.port)
    wait_until(lambda: not port_open(broker.port), 10, "the broker to stop listening")
    assert not base.exists()
