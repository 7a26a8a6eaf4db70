"""Odoo external API over JSON-RPC (``/jsonrpc``), standard library only.

The connector authenticates with ``common.authenticate(db, login, api_key,
{})`` and calls ``object.execute_kw(db, uid, api_key,
"cmms.telemetry.api", method, args, kwargs)``: ``get_connector_config``,
``ingest`` and ``claim_jobs`` (see ``docs/contracts.md``).

Two kinds of failure are kept apart, because the pusher reacts differently:

* :class:`OdooUnreachableError`: no usable answer (connection refused, timeout,
  DNS, TLS, an HTTP 5xx from a proxy while Odoo restarts, a reply that is
  not JSON-RPC). Retry later; nothing is known about what Odoo did.
* :class:`OdooError`: Odoo answered with a JSON-RPC error (``UserError``,
  ``AccessError``, a server-side exception). :class:`OdooAuthError` is the
  special case of refused credentials.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

API_MODEL = "cmms.telemetry.api"


class OdooUnreachableError(ConnectionError):
    """Odoo could not be reached or gave no usable answer (retry later)."""


class OdooError(RuntimeError):
    """Odoo answered the call with an error.

    Attributes
    ----------
    name : str
        Exception class on the server, e.g. ``odoo.exceptions.UserError``.
    message : str
        The server's message.
    code : int or None
        JSON-RPC error code.
    """

    def __init__(
        self, message: str, name: str = "", code: int | None = None, debug: str = ""
    ) -> None:
        super().__init__(f"{name}: {message}" if name else message)
        self.name = name
        self.message = message
        self.code = code
        self.debug = debug

    @property
    def is_access_problem(self) -> bool:
        """Whether retrying the same call cannot help until an admin acts."""
        return any(word in self.name for word in ("AccessDenied", "AccessError"))


class OdooAuthError(OdooError):
    """The login or API key was refused."""


class OdooClient:
    """Minimal JSON-RPC client for the connector's two Odoo calls.

    Parameters
    ----------
    url : str
        Odoo base URL, e.g. ``http://odoo:8069``.
    db, login, api_key : str
        Database, connector user login and that user's API key.
    timeout : float
        Seconds per HTTP request.
    """

    def __init__(self, url: str, db: str, login: str, api_key: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.db = db
        self.login = login
        self.api_key = api_key
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.uid_: int | None = None

    def _rpc(self, service: str, method: str, args: Sequence[Any]) -> Any:
        with self._lock:
            request_id = next(self._ids)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": request_id,
                "params": {"service": service, "method": method, "args": list(args)},
            },
            allow_nan=False,
        ).encode("utf-8")
        req = urllib.request.Request(
            f"{self.url}/jsonrpc",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise OdooUnreachableError(f"HTTP {exc.code} from {self.url}/jsonrpc") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise OdooUnreachableError(f"cannot reach {self.url}: {reason}") from exc
        try:
            reply = json.loads(raw)
        except ValueError as exc:
            raise OdooUnreachableError(f"reply from {self.url} is not JSON") from exc
        if not isinstance(reply, dict):
            raise OdooUnreachableError(f"reply from {self.url} is not JSON-RPC")
        if reply.get("error"):
            err = reply["error"]
            if not isinstance(err, dict):
                err = {"message": str(err)}
            data = err.get("data")
            if not isinstance(data, dict):
                data = {}
            name = str(data.get("name", ""))
            message = data.get("message") or err.get("message") or "error"
            debug = str(data.get("debug", ""))
            code = err.get("code")
            cls = OdooAuthError if "AccessDenied" in name else OdooError
            raise cls(str(message), name=name, code=code, debug=debug)
        if "result" not in reply:
            raise OdooUnreachableError(f"reply from {self.url} has no result")
        return reply["result"]

    def authenticate(self) -> int:
        """Log in with the API key; return and remember the user id.

        Raises
        ------
        OdooAuthError
            When Odoo refuses the login or key.
        """
        uid = self._rpc("common", "authenticate", [self.db, self.login, self.api_key, {}])
        if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
            raise OdooAuthError(
                f"login {self.login!r} refused by database {self.db!r}", name="AccessDenied"
            )
        self.uid_ = uid
        return uid

    def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """Call ``object.execute_kw`` (authenticating first if needed).

        After an access error the login is retried once, in case the key
        was rotated and the remembered uid is stale.
        """
        for attempt in (1, 2):
            if self.uid_ is None:
                self.authenticate()
            try:
                return self._rpc(
                    "object",
                    "execute_kw",
                    [self.db, self.uid_, self.api_key, model, method, list(args), kwargs or {}],
                )
            except OdooAuthError:
                self.uid_ = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def get_connector_config(self) -> dict[str, Any]:
        """Return ``cmms.telemetry.api.get_connector_config()``."""
        result = self.execute_kw(API_MODEL, "get_connector_config")
        if not isinstance(result, dict):
            raise OdooError(f"get_connector_config returned {type(result).__name__}, not a dict")
        return result

    def claim_jobs(
        self, connector_id: str, running: Sequence[int] = (), limit: int = 1
    ) -> list[dict[str, Any]]:
        """Return ``cmms.telemetry.api.claim_jobs(...)``: the jobs Odoo hands over."""
        result = self.execute_kw(
            API_MODEL, "claim_jobs", [connector_id], {"running": list(running), "limit": limit}
        )
        if not isinstance(result, list):
            raise OdooError(f"claim_jobs returned {type(result).__name__}, not a list")
        return [spec for spec in result if isinstance(spec, dict)]

    def ingest(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send items to ``cmms.telemetry.api.ingest``; return the per-item results.

        Raises
        ------
        OdooError
            When the reply does not hold one result per item, in order.
        """
        result = self.execute_kw(API_MODEL, "ingest", [list(items)])
        results = result.get("results") if isinstance(result, dict) else None
        if not isinstance(results, list) or len(results) != len(items):
            raise OdooError("ingest reply does not hold one result per item")
        for item, res in zip(items, results, strict=True):
            if not isinstance(res, dict) or res.get("key") != item["key"]:
                raise OdooError("ingest results are not in the order of the items")
        return results
