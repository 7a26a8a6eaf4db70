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

import json
import os
import urllib.request
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


def _rpc(url: str, service: str, method: str, args: list[Any], timeout: float) -> Any:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": args},
    }
    request = urllib.request.Request(
        url.rstrip("/") + "/jsonrpc",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        error = reply["error"].get("data", {}).get("message") or reply["error"].get("message")
        raise ValueError(f"Odoo refused {method}: {error}")
    return reply["result"]


def fetch_instruments(
    url: str | None = None,
    db: str | None = None,
    login: str | None = None,
    api_key: str | None = None,
    timeout: float = 30.0,
) -> tuple[Instrument, ...]:
    """Read the sensor register over JSON-RPC (the connector's credentials).

    Missing arguments come from ``CMMS_ODOO_URL``, ``CMMS_ODOO_DB``,
    ``CMMS_ODOO_LOGIN`` and ``CMMS_ODOO_API_KEY``, as for the connector.
    """
    url = url or os.environ.get("CMMS_ODOO_URL", "")
    db = db or os.environ.get("CMMS_ODOO_DB", "")
    login = login or os.environ.get("CMMS_ODOO_LOGIN", "")
    api_key = api_key or os.environ.get("CMMS_ODOO_API_KEY", "")
    if not (url and db and login and api_key):
        raise ValueError("give Odoo's URL, database, login and API key (CMMS_ODOO_* variables)")
    uid = _rpc(url, "common", "authenticate", [db, login, api_key, {}], timeout)
    if not uid:
        raise ValueError(f"Odoo refused the login {login!r}")
    config = _rpc(
        url,
        "object",
        "execute_kw",
        [db, uid, api_key, "cmms.telemetry.api", "get_connector_config", []],
        timeout,
    )
    return instruments_from_config(config)
