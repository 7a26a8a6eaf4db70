"""The one JSON-RPC client for Odoo in development code.

Tests, benchmarks and the simulator talk to Odoo through the connector's
own client (:class:`connector.push.odoo_client.OdooClient`, standard library
only), so that there is one implementation of Odoo's ``/jsonrpc`` protocol
in the project. :func:`client` logs in with a password or an API key.
"""

from __future__ import annotations

from typing import Any

from connector.push.odoo_client import (
    OdooAuthError,
    OdooClient,
    OdooError,
    OdooUnreachableError,
)

__all__ = [
    "OdooAuthError",
    "OdooClient",
    "OdooError",
    "OdooUnreachableError",
    "call",
    "client",
]


def client(url: str, db: str, login: str, secret: str, timeout: float = 120.0) -> OdooClient:
    """An authenticated client (*secret*: a password or an API key)."""
    odoo = OdooClient(url, db, login, secret, timeout=timeout)
    odoo.authenticate()
    return odoo


def call(odoo: OdooClient, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """``odoo.execute_kw(model, method, args, kwargs)`` written like a method call."""
    return odoo.execute_kw(model, method, list(args), kwargs)
