"""The examples in the docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "connector.util",
    "connector.push.items",
    "connector.ingest.schema",
    "connector.energy",
    "connector.detect.detectors",
    "connector.detect.alerts",
    "connector.ingest.pipeline",
    "connector.push.pusher",
    "connector.store.postgres",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
