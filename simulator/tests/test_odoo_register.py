"""Instruments built from Odoo's sensor register (the configuration reply)."""

import pytest

from simulator.__main__ import main
from simulator.odoo_register import instruments_from_config

CONFIG = {
    "version": "x",
    "sensors": [
        {"tag": "PT-101", "unit": "bar", "nominal": 6.0, "signal_low": 0.0,
         "signal_high": 16.0, "interval_s": 1.0, "equipment": "[PT-101] Pump discharge"},
        {"tag": "ZZ-9", "unit": "ppm", "nominal": None, "signal_low": 10.0,
         "signal_high": 30.0, "interval_s": 5.0},
    ],
}  # fmt: skip


def test_sensors_become_instruments():
    pt, zz = instruments_from_config(CONFIG)
    assert (pt.tag, pt.kind, pt.unit, pt.nominal) == ("PT-101", "pressure", "bar", 6.0)
    assert (pt.signal_low, pt.signal_high, pt.interval_s) == (0.0, 16.0, 1.0)
    assert pt.noise_sd > 0 and pt.noise_sd < 0.01 * (pt.signal_high - pt.signal_low)
    assert (zz.kind, zz.nominal, zz.interval_s) == ("other", 20.0, 5.0)


def test_empty_register_is_an_error():
    with pytest.raises(ValueError, match="no active sensor"):
        instruments_from_config({"sensors": []})


def test_missing_credentials_exit_2(monkeypatch, capsys):
    for name in ("CMMS_ODOO_URL", "CMMS_ODOO_DB", "CMMS_ODOO_LOGIN", "CMMS_ODOO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    code = main(["dump", "--scenario", "normal", "--duration", "5", "--out", "/dev/null",
                 "--instruments-from-odoo"])  # fmt: skip
    assert code == 2
    assert "CMMS_ODOO" in capsys.readouterr().err
