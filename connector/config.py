"""Connector settings: one dataclass, loaded from TOML, overridden by env.

Settings are read in three layers, later ones winning:

1. the defaults of :class:`Settings`;
2. a TOML file (``python -m connector run --config FILE``). A key at the top
   level names a field directly (``store_path = "x.sqlite3"``); a key inside
   a table is prefixed with the table's name, so ``[mqtt] host = "broker"``
   sets ``mqtt_host`` and ``[odoo] api_key = "..."`` sets ``odoo_api_key``.
   Unknown keys are an error, so a typo does not pass silently;
3. environment variables ``CMMS_<FIELD NAME IN CAPITALS>``.

Environment variables (every field has one; types as in the TOML file,
booleans accept ``1/0/true/false/yes/no/on/off``, an empty string sets an
optional field to ``None``):

=================================  ============================================
``CMMS_CONNECTOR_ID``              id in the status topic and heartbeats ("c1")
``CMMS_MQTT_HOST``                 broker host ("localhost")
``CMMS_MQTT_PORT``                 broker port (1883)
``CMMS_MQTT_USERNAME``             broker user name (none)
``CMMS_MQTT_PASSWORD``             broker password (none)
``CMMS_MQTT_TLS``                  use TLS (false)
``CMMS_MQTT_CA_CERTS``             CA bundle file for TLS (system default)
``CMMS_MQTT_CERTFILE``             client certificate for TLS (none)
``CMMS_MQTT_KEYFILE``              client key for TLS (none)
``CMMS_MQTT_TLS_INSECURE``         skip the broker host name check (false)
``CMMS_MQTT_CLIENT_ID``            fixed MQTT client id
                                   (default ``cmms-connector-<connector_id>``)
``CMMS_MQTT_PROTOCOL``             ``5`` (default) or ``3.1.1``
``CMMS_MQTT_KEEPALIVE_S``          keepalive in seconds (60)
``CMMS_MQTT_SESSION_EXPIRY_S``     MQTT 5 session expiry (604800 = 7 days)
``CMMS_MQTT_RECEIVE_MAXIMUM``      MQTT 5 receive maximum: unacknowledged
                                   messages in flight towards us (100)
``CMMS_MQTT_TOPIC_PREFIX``         topic prefix ("cmms")
``CMMS_MQTT_SITE``                 site level of the subscriptions ("+")
``CMMS_MQTT_STATUS_SITE``          site level of the status topic (default:
                                   the site, or ``all`` when it is a wildcard)
``CMMS_MQTT_RECONNECT_MIN_S``      first reconnect delay (1)
``CMMS_MQTT_RECONNECT_MAX_S``      longest reconnect delay (60)
``CMMS_MQTT_RECEIVER``             ``process`` (default): the MQTT client runs
                                   in a child process, beside the ingest
                                   worker; ``thread``: in the daemon's process
``CMMS_ODOO_URL``                  Odoo base URL ("http://localhost:8069")
``CMMS_ODOO_DB``                   Odoo database ("")
``CMMS_ODOO_LOGIN``                Odoo login of the connector user ("")
``CMMS_ODOO_API_KEY``              that user's API key ("")
``CMMS_ODOO_TIMEOUT_S``            HTTP timeout per RPC call (30)
``CMMS_STORE``,
``CMMS_STORE_PATH`` or
``CMMS_STORE_URL``                 the local store: a SQLite file
                                   ("connector.sqlite3"), or a PostgreSQL URL
                                   ``postgresql://user:password@host:5432/db``
                                   (needs psycopg2; the password is never
                                   shown)
``CMMS_MODELS`` or
``CMMS_MODELS_PATH``               anomaly model registry folder (default
                                   ``$CMMS_MODELS_DIR``, else ``./models``)
``CMMS_ANOMALY_EVERY``             an anomaly model scores its window every
                                   this many readings of its tag (1)
``CMMS_INGEST_BATCH_MAX``          MQTT messages per store transaction (256)
``CMMS_PUSH_BATCH_SIZE``           outbox items per ingest call (500)
``CMMS_PUSH_BATCH_AGE_S``          oldest pending item's age that closes a
                                   batch (2)
``CMMS_PUSH_RETRY_BASE_S``         first retry delay when Odoo fails (1)
``CMMS_PUSH_RETRY_MAX_S``          longest retry delay (60)
``CMMS_PUSH_MAX_ITEM_ATTEMPTS``    server errors one item may cause before it
                                   is set aside as rejected (5)
``CMMS_CONFIG_POLL_S``             how often Odoo's config version is polled
                                   (30)
``CMMS_HEARTBEAT_S``               heartbeat item interval (60)
``CMMS_JOBS_POLL_S``               how often Odoo is asked for jobs
                                   (predictions, trainings; 10; 0 = never)
``CMMS_ALERT_ACTIVE_INTERVAL_S``   at most one ``alert_active`` per alert in
                                   this many seconds (60)
``CMMS_ALERT_CLEAR_DELAY_S``       a condition must be gone this long before
                                   ``alert_cleared`` (5)
``CMMS_CUSUM_WINDOW_S``            CUSUM drift detection runs on means over
                                   this many seconds of readings (60)
``CMMS_CUSUM_BASELINE_N``          window means that form the CUSUM baseline
                                   (30)
``CMMS_FLEXO_SNAPSHOT_INTERVAL_S`` a component's health snapshot is sent on
                                   every band change and at least this often,
                                   the running shift's provisional OEE record
                                   this often (900)
``CMMS_FLEXO_MACHINE_TAGS``        machine id (of FLEXO ticks and energy
                                   meters) -> Odoo equipment tag,
                                   ``FLEXO_104=FLX-104,...`` (default: the id)
``CMMS_FLEXO_COMPONENT_TAGS``      ``FLEXO_104:PRINTING=FLX-104-PR,...``
                                   (default: machine tag + ``-PF/-FD/-PR/-SL/-DS``)
``CMMS_ENERGY_PERIOD_S``           period of an ``energy`` item, a divisor
                                   of a day (3600: hourly)
``CMMS_ENERGY_CLOSE_DELAY_S``      a period is reported when a meter reading
                                   this long after its end arrives (300)
``CMMS_HISTORY_COMPACT_S``         how often the local history is compacted
                                   and closed minutes are pushed (60; 0 = off)
``CMMS_HISTORY_CLOSE_DELAY_S``     a minute is closed this long after its end (5)
``CMMS_HISTORY_RAW_DAYS``          raw readings kept (7)
``CMMS_HISTORY_MINUTE_DAYS``       1-minute aggregates kept (90)
``CMMS_HISTORY_HOUR_DAYS``         hourly aggregates kept (730); daily: forever
``CMMS_HISTORY_PUSH_MINUTES``      push closed minutes as ``reading_agg`` (true)
``CMMS_OUTBOX_KEEP_SENT_DAYS``     delivered outbox items kept (7)
``CMMS_HEALTH_HOST``               health endpoint address ("127.0.0.1")
``CMMS_HEALTH_PORT``               health endpoint port (0 = disabled;
                                   serves ``/health`` and ``/metrics``)
``CMMS_SHUTDOWN_FLUSH_S``          time given to push the outbox at exit (10)
``CMMS_LOG_LEVEL``                 logging level ("INFO")
=================================  ============================================

Examples
--------
A minimal file::

    connector_id = "plant1-a"
    store_path = "/var/lib/cmms-connector/store.sqlite3"

    [mqtt]
    host = "mosquitto"
    site = "plant1"

    [odoo]
    url = "http://odoo:8069"
    db = "cmms"
    login = "connector"
    # api_key from CMMS_ODOO_API_KEY, not from the file

The store in PostgreSQL rather than a SQLite file (same tables, created on
first start; keep the password in the environment, e.g.
``CMMS_STORE_URL=postgresql://cmms:secret@db:5432/cmms_connector``)::

    store_path = "postgresql://cmms@db:5432/cmms_connector"
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .flexo.engine import parse_tag_map
from .util import POSTGRES_SCHEMES, redact_url, store_url_scheme

ENV_PREFIX = "CMMS_"
#: Short environment names accepted besides ``CMMS_<FIELD>``.
ENV_ALIASES = {
    "CMMS_STORE": "store_path",
    "CMMS_STORE_URL": "store_path",
    "CMMS_MODELS": "models_path",
}
#: The model commands' environment variable, used when ``models_path`` is not set.
MODELS_DIR_ENV = "CMMS_MODELS_DIR"
MQTT_PROTOCOLS = ("5", "3.1.1")
MQTT_RECEIVERS = ("process", "thread")


class ConfigError(ValueError):
    """A settings file or environment variable is invalid."""


@dataclass
class Settings:
    """Everything the connector can be told, with working defaults.

    See the module docstring for the TOML layout and environment variables.
    """

    connector_id: str = "c1"

    mqtt_host: str = "localhost"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: str | None = field(default=None, repr=False)
    mqtt_tls: bool = False
    mqtt_ca_certs: str | None = None
    mqtt_certfile: str | None = None
    mqtt_keyfile: str | None = None
    mqtt_tls_insecure: bool = False
    mqtt_client_id: str | None = None
    mqtt_protocol: str = "5"
    mqtt_keepalive_s: int = 60
    mqtt_session_expiry_s: int = 7 * 24 * 3600
    mqtt_receive_maximum: int = 100
    mqtt_topic_prefix: str = "cmms"
    mqtt_site: str = "+"
    mqtt_status_site: str | None = None
    mqtt_reconnect_min_s: int = 1
    mqtt_reconnect_max_s: int = 60
    mqtt_receiver: str = "process"

    odoo_url: str = "http://localhost:8069"
    odoo_db: str = ""
    odoo_login: str = ""
    odoo_api_key: str = field(default="", repr=False)
    odoo_timeout_s: float = 30.0

    store_path: str = "connector.sqlite3"
    ingest_batch_max: int = 256
    models_path: str | None = None
    anomaly_every: int = 1

    push_batch_size: int = 500
    push_batch_age_s: float = 2.0
    push_retry_base_s: float = 1.0
    push_retry_max_s: float = 60.0
    push_max_item_attempts: int = 5

    config_poll_s: float = 30.0
    heartbeat_s: float = 60.0
    jobs_poll_s: float = 10.0
    alert_active_interval_s: float = 60.0
    alert_clear_delay_s: float = 5.0
    cusum_window_s: float = 60.0
    cusum_baseline_n: int = 30
    flexo_snapshot_interval_s: float = 900.0
    flexo_meter_interval_s: float = 900.0
    flexo_machine_tags: str = ""
    flexo_component_tags: str = ""
    energy_period_s: float = 3600.0
    energy_close_delay_s: float = 300.0
    history_compact_s: float = 60.0
    history_close_delay_s: float = 5.0
    history_raw_days: float = 7.0
    history_minute_days: float = 90.0
    history_hour_days: float = 730.0
    history_push_minutes: bool = True
    outbox_keep_sent_days: float = 7.0
    health_host: str = "127.0.0.1"
    health_port: int = 0
    shutdown_flush_s: float = 10.0
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        """Normalise and check values that have a closed set or a range."""
        proto = str(self.mqtt_protocol).strip().lower().lstrip("v")
        proto = {"311": "3.1.1", "4": "3.1.1", "5.0": "5"}.get(proto, proto)
        if proto not in MQTT_PROTOCOLS:
            raise ConfigError(
                f"mqtt_protocol must be one of {MQTT_PROTOCOLS}, not {self.mqtt_protocol!r}"
            )
        self.mqtt_protocol = proto
        receiver = str(self.mqtt_receiver).strip().lower()
        if receiver not in MQTT_RECEIVERS:
            raise ConfigError(
                f"mqtt_receiver must be one of {MQTT_RECEIVERS}, not {self.mqtt_receiver!r}"
            )
        self.mqtt_receiver = receiver
        for name in (
            "mqtt_port",
            "push_batch_size",
            "ingest_batch_max",
            "mqtt_receive_maximum",
            "push_max_item_attempts",
            "cusum_baseline_n",
            "anomaly_every",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.push_batch_size > 5000:
            raise ConfigError("push_batch_size must be at most 5000 (Odoo's limit)")
        for name in (
            "push_batch_age_s",
            "push_retry_base_s",
            "push_retry_max_s",
            "config_poll_s",
            "heartbeat_s",
            "jobs_poll_s",
            "alert_active_interval_s",
            "alert_clear_delay_s",
            "shutdown_flush_s",
            "odoo_timeout_s",
            "cusum_window_s",
            "flexo_snapshot_interval_s",
            "energy_close_delay_s",
            "flexo_meter_interval_s",
            "history_compact_s",
            "history_close_delay_s",
            "history_raw_days",
            "history_minute_days",
            "history_hour_days",
            "outbox_keep_sent_days",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if not 0 < self.energy_period_s <= 86400 or 86400 % self.energy_period_s:
            raise ConfigError("energy_period_s must divide a day (e.g. 900, 3600, 86400)")
        for name in ("flexo_machine_tags", "flexo_component_tags"):
            try:
                parse_tag_map(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
        scheme = store_url_scheme(self.store_path)
        if scheme is not None and scheme not in POSTGRES_SCHEMES:
            raise ConfigError(
                f"store_path {redact_url(self.store_path)}: a file path or a "
                "postgresql:// URL is expected"
            )
        if not 0 <= self.health_port <= 65535:
            raise ConfigError("health_port must be within 0..65535")
        for name in ("mqtt_topic_prefix", "connector_id"):
            value = getattr(self, name)
            if not value or any(c in value for c in "+#"):
                raise ConfigError(f"{name} must be non-empty, without + or #")

    def __repr__(self) -> str:
        """The dataclass's repr, without secrets (the store URL's password too)."""
        shown = []
        for f in dataclasses.fields(self):
            if f.repr:
                value = getattr(self, f.name)
                if f.name == "store_path":
                    value = redact_url(value)
                shown.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def client_id(self) -> str:
        """The fixed MQTT client id that keeps the persistent session."""
        return self.mqtt_client_id or f"cmms-connector-{self.connector_id}"

    @property
    def models_folder(self) -> str:
        """The model registry: ``models_path``, else ``$CMMS_MODELS_DIR``, else ``models``."""
        return self.models_path or os.environ.get(MODELS_DIR_ENV) or "models"

    @property
    def reading_topic(self) -> str:
        """Subscription filter for readings: ``<prefix>/<site>/+/reading``."""
        return f"{self.mqtt_topic_prefix}/{self.mqtt_site}/+/reading"

    @property
    def tick_topic(self) -> str:
        """Subscription filter for FLEXO ticks: ``<prefix>/<site>/machine/+/tick``."""
        return f"{self.mqtt_topic_prefix}/{self.mqtt_site}/machine/+/tick"

    @property
    def energy_topic(self) -> str:
        """Subscription filter for energy meters: ``<prefix>/<site>/machine/+/energy``."""
        return f"{self.mqtt_topic_prefix}/{self.mqtt_site}/machine/+/energy"

    @property
    def status_topic(self) -> str:
        """Retained status topic ``<prefix>/<site>/connector/<id>/status``."""
        site = self.mqtt_status_site
        if not site:
            wildcard = any(c in self.mqtt_site for c in "+#")
            site = "all" if wildcard else self.mqtt_site
        return f"{self.mqtt_topic_prefix}/{site}/connector/{self.connector_id}/status"

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Build settings from defaults, an optional TOML file and the environment.

        Parameters
        ----------
        path : path-like, optional
            TOML file; ``None`` reads no file.
        environ : mapping, optional
            Environment to read ``CMMS_*`` variables from (default
            ``os.environ``).

        Raises
        ------
        ConfigError
            On a missing or malformed file, an unknown key or a bad value.
        """
        values: dict[str, Any] = {}
        if path is not None:
            try:
                with Path(path).open("rb") as fh:
                    doc = tomllib.load(fh)
            except OSError as exc:
                raise ConfigError(f"cannot read config file {path}: {exc}") from exc
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {path} is not TOML: {exc}") from exc
            values.update(_flatten(doc))
        env = os.environ if environ is None else environ
        values.update(_from_env(env))
        hints = _field_types()
        unknown = sorted(set(values) - set(hints))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        kwargs = {name: _coerce(name, hints[name], v) for name, v in values.items()}
        return cls(**kwargs)


def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _flatten(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            for sub, subvalue in value.items():
                if isinstance(subvalue, Mapping):
                    raise ConfigError(f"nested table [{key}.{sub}] is not supported")
                out[f"{key}_{sub}"] = subvalue
        else:
            out[key] = value
    return out


def _from_env(environ: Mapping[str, str]) -> dict[str, str]:
    names = set(_field_types())
    out: dict[str, str] = {}
    for var, value in environ.items():
        if not var.startswith(ENV_PREFIX):
            continue
        if var in ENV_ALIASES:
            out[ENV_ALIASES[var]] = value
            continue
        name = var[len(ENV_PREFIX) :].lower()
        if name in names:
            out[name] = value
    return out


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """Convert a TOML value or an environment string to the field's type."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0]
    if optional and (value is None or value == ""):
        return None
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if hint is int:
            if isinstance(value, bool | float):
                raise ValueError(f"not an integer: {value!r}")
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError(f"not a number: {value!r}")
            return float(value)
        if hint is str:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError(f"not a string: {value!r}")
            return str(value)
    except ValueError as exc:
        raise ConfigError(f"setting {name}: {exc}") from exc
    raise ConfigError(f"setting {name}: unsupported type {hint!r}")
