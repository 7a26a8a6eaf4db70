"""The examples in the docstrings of the model modules run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "connector.ml.features",
    "connector.ml.io",
    "connector.ml.isolation",
    "connector.ml.deviation",
    "connector.ml.registry",
    "connector.ml.duration",
    "connector.replay",
    "connector.ml.nab_eval",
    "connector.ml.smd_eval",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
