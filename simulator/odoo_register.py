"""Instruments from Odoo's sensor register.

The connector's configuration method (``cmms.telemetry.api``
``get_connector_config``, see docs/contracts.md) lists every active sensor
with its unit, nominal value, signal range and publish interval; this
module turns that list into :class:`~simulator.instruments.Instrument`
definitions, so a simulation publishes exactly the tags a plant has
registered. Process behaviour that Odoo does not hold (noise, daily cycle,
wander) is derived from the signal span.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .instruments import Instrument

KINDS_BY_UNIT = {
    "bar": "pressure",
    "kpa": "pressure",
    "psi": "pressure",
    "degc": "temperature",
    "°c": "temperature",
    "k": "temperature",
    "m3/h": "flow",
    "l/min": "flow",
    "%": "level",
}


def instrument_from_sensor(sensor: Mapping[str, Any]) -> Instrument:
    """One sensor of ``get_connector_config`` as a simulated instrument.

    Examples
    --------
    >>> inst = instrument_from_sensor({"tag": "PT-101", "unit": "bar", "nominal": 6.0,
    ...     "signal_low": 0.0, "signal_high": 16.0, "interval_s": 1.0})
    >>> (inst.kind, inst.nominal, inst.signal_high, round(inst.noise_sd, 3))
    ('pressure', 6.0, 16.0, 0.032)
    """
    low = float(sensor["signal_low"])
    high = float(sensor["signal_high"])
    span = high - low
    nominal = sensor.get("nominal")
    nominal = float(nominal) if nominal is not None else low + span / 2
    nominal = min(max(nominal, low), high)
    unit = str(sensor.get("unit") or "")
    interval = sensor.get("interval_s") or 1.0
    return Instrument(
        tag=str(sensor["tag"]),
        kind=KINDS_BY_UNIT.get(unit.lower(), "other"),
        unit=unit,
        nominal=nominal,
        signal_low=low,
        signal_high=high,
        noise_sd=0.002 * span,
        daily_amplitude=0.005 * span,
        wander_sd=0.002 * span,
        interval_s=float(interval),
        description=str(sensor.get("equipment") or ""),
    )


def instruments_from_config(config: Mapping[str, Any]) -> tuple[Instrument, ...]:
    """Every sensor of a configuration reply, as instruments."""
    sensors = config.get("sensors") or []
    if not sensors:
        raise ValueError("Odoo's sensor register lists no active sensor")
    return tuple(instrument_from_sensor(sensor) for sensor in sensors)


def fetch_instruments(
    url: str | None = None,
    db: str | None = None,
    login: str | None = None,
    api_key: str | None = None,
    timeout: float = 30.0,
) -> tuple[Instrument, ...]:
    """Read the sensor register over JSON-RPC (the connector's credentials and client).

    Missing arguments come from ``CMMS_ODOO_URL``, ``CMMS_ODOO_DB``,
    ``CMMS_ODOO_LOGIN`` and ``CMMS_ODOO_API_KEY``, as for the connector.
    """
    url = url or os.environ.get("CMMS_ODOO_URL", "")
    db = db or os.environ.get("CMMS_ODOO_DB", "")
    login = login or os.environ.get("CMMS_ODOO_LOGIN", "")
    api_key = api_key or os.environ.get("CMMS_ODOO_API_KEY", "")
    if not (url and db and login and api_key):
        raise ValueError("give Odoo's URL, database, login and API key (CMMS_ODOO_* variables)")
    # The connector's own JSON-RPC client: one implementation of Odoo's API.
    from connector.push.odoo_client import OdooClient, OdooError

    client = OdooClient(url, db, login, api_key, timeout=timeout)
    try:
        config = client.get_connector_config()
    except OdooError as exc:
        raise ValueError(f"Odoo refused get_connector_config: {exc.message}") from exc
    return instruments_from_config(config)
