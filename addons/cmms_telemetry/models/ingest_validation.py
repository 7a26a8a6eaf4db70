# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Checks of the items the telemetry connector sends to ``ingest``.

The telemetry API (``cmms.telemetry.api``) dispatches each item to the model
that owns its data (``_cmms_ingest_<type>`` methods); they check the item's
``data`` with these helpers. A helper returns the value as stored or raises
:class:`ItemRejected`, whose message is the reason the connector reads
(docs/contracts.md): these messages are part of the contract.
"""

import json
import math
import reprlib
from datetime import UTC, datetime

# Lists and objects nested inside one item.
MAX_DEPTH = 16
# A whole number stored in an integer column (PostgreSQL integer).
MAX_INT = 2**31 - 1
# Rejection reasons quote offending values cut to this many characters.
REASON_VALUE_CHARS = 40
MAX_REASON_CHARS = 300
MAX_JSON_CHARS = 16000


class ItemRejected(Exception):
    """An item that cannot be applied; its message is the reason."""


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = REASON_VALUE_CHARS
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 3, 3


def short(value):
    """``repr(value)`` cut to a few dozen characters, for a rejection reason."""
    try:
        return _SHORT.repr(value)
    except ValueError:  # an integer too long to print
        return "a very long number"


def reason(message):
    """A rejection reason of bounded length (exception texts may quote values)."""
    message = str(message)
    if len(message) <= MAX_REASON_CHARS:
        return message
    return message[: MAX_REASON_CHARS - 3] + "..."


def scan(item, budget):
    """The size of ``item`` as compact JSON and the first reason it cannot be stored.

    Walks the item without recursion and stops counting past ``budget``
    bytes. The reason (or None) covers what the database or a protocol
    cannot hold: other types than JSON's, nesting deeper than
    ``MAX_DEPTH``, whole numbers beyond 64 bits, NUL characters and
    unpaired surrogates in strings, keys that are not strings.
    """
    size, problem = 0, None
    stack = [(item, 0)]
    while stack and size <= budget:
        value, depth = stack.pop()
        size += 1  # a separator
        if isinstance(value, str):
            size += len(value) + 2
            if problem is None and "\x00" in value:
                problem = "a string holds a NUL character"
            elif problem is None and not value.isascii():
                try:
                    size += len(value.encode()) - len(value)
                except UnicodeEncodeError:
                    problem = "a string holds an unpaired surrogate"
        elif value is None or isinstance(value, bool | float):
            size += 5
        elif isinstance(value, int):
            size += value.bit_length() // 3 + 1
            if problem is None and value.bit_length() > 63:
                problem = "a whole number is out of range"
        elif isinstance(value, dict | list):
            size += 2
            if problem is None and depth >= MAX_DEPTH:
                problem = f"lists and objects are nested more than {MAX_DEPTH} deep"
            if isinstance(value, dict):
                if problem is None and not all(isinstance(name, str) for name in value):
                    problem = "an object key is not a string"
                stack.extend((name, depth + 1) for name in value)
                stack.extend((inner, depth + 1) for inner in value.values())
            else:
                stack.extend((inner, depth + 1) for inner in value)
        elif problem is None:
            problem = (
                f"a {type(value).__name__} value is not JSON (strings, numbers, true, "
                "false, null, lists and objects)"
            )
    return size, problem


def choice(value, choices, name):
    """``value`` when it is one of ``choices`` (a selection's keys)."""
    if not isinstance(value, str) or value not in choices:
        raise ItemRejected(f"unknown {name} {short(value)}")
    return value


def parse_ts(value, name="ts"):
    """ISO 8601 or epoch seconds -> naive UTC datetime."""
    if isinstance(value, bool) or value is None:
        raise ItemRejected(f"{name} is missing")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ItemRejected(f"{name} is not finite")
        try:
            return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError) as exc:
            raise ItemRejected(f"{name} {short(value)} is out of range") from exc
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except ValueError as exc:
            raise ItemRejected(f"{name} {short(value)} is not ISO 8601") from exc
        except OverflowError as exc:
            raise ItemRejected(f"{name} {short(value)} is out of range") from exc
        return parsed
    raise ItemRejected(f"{name} must be an ISO 8601 string or epoch seconds")


def number(
    data,
    name,
    *,
    required=True,
    default=None,
    minimum=None,
    maximum=None,
    above=None,
    integer=False,
):
    """``data[name]`` as a finite number within its bounds (``above`` is exclusive)."""
    value = data.get(name)
    if value is None:
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ItemRejected(f"data.{name} must be a number")
    if not math.isfinite(value):
        raise ItemRejected(f"data.{name} must be finite")
    if integer and isinstance(value, float) and not value.is_integer():
        raise ItemRejected(f"data.{name} must be a whole number")
    if integer and abs(value) > MAX_INT:
        raise ItemRejected(f"data.{name} must be at most {MAX_INT} in magnitude")
    if minimum is not None and value < minimum:
        raise ItemRejected(f"data.{name} must be at least {minimum}")
    if above is not None and value <= above:
        raise ItemRejected(f"data.{name} must be above {above}")
    if maximum is not None and value > maximum:
        raise ItemRejected(f"data.{name} must be at most {maximum}")
    return int(value) if integer else float(value)


def text(data, name, *, required=True, max_length=255):
    """``data[name]`` as a non-empty string of at most ``max_length`` characters."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return None
    if not isinstance(value, str):
        raise ItemRejected(f"data.{name} must be a string")
    value = value.strip()
    if not value:
        raise ItemRejected(f"data.{name} is blank")
    if len(value) > max_length:
        raise ItemRejected(f"data.{name} is longer than {max_length} characters")
    return value


def time(data, name, *, required=True, default=None):
    """``data[name]`` as a naive UTC datetime."""
    if data.get(name) is None:
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return default
    return parse_ts(data[name], f"data.{name}")


def json_object(data, name, *, required=False):
    """``data[name]`` as a JSON object of bounded size."""
    value = data.get(name)
    if value is None:
        if required:
            raise ItemRejected(f"data.{name} is missing")
        return None
    if not isinstance(value, dict):
        raise ItemRejected(f"data.{name} must be an object")
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ItemRejected(f"data.{name} must hold plain, finite JSON values") from exc
    if size > MAX_JSON_CHARS:
        raise ItemRejected(f"data.{name} is larger than {MAX_JSON_CHARS} characters")
    return value


def within(value, low, high, name):
    """``value`` clamped into [low, high] when it is off by rounding only."""
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    if not low - tolerance <= value <= high + tolerance:
        raise ItemRejected(f"data.{name} lies outside [data.min, data.max]")
    return min(max(value, low), high)


class IngestBatch:
    """What the items of one ``ingest`` call share: lookups by tag (each tag
    searched once per call)."""

    def __init__(self, env):
        self.env = env
        self._cache = {}

    def sensor(self, tag, name="tag"):
        """The sensor (archived too) of ``tag``, the value of ``data.<name>``."""
        if ("sensor", tag) not in self._cache:
            Sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
            self._cache["sensor", tag] = Sensor.search([("tag", "=", tag)], limit=1)
        sensor = self._cache["sensor", tag]
        if not sensor:
            raise ItemRejected(f"no sensor with data.{name} {short(tag)}")
        return sensor

    def equipment(self, tag, name="tag"):
        """The equipment of that tag, or the equipment of the sensor of that tag."""
        if ("equipment", tag) not in self._cache:
            equipment = (
                self.env["maintenance.equipment"].sudo().search([("cmms_tag", "=", tag)], limit=1)
            )
            if not equipment:
                Sensor = self.env["cmms.sensor"].sudo().with_context(active_test=False)
                equipment = Sensor.search([("tag", "=", tag)], limit=1).equipment_id
            self._cache["equipment", tag] = equipment
        equipment = self._cache["equipment", tag]
        if not equipment:
            raise ItemRejected(f"no equipment or sensor with data.{name} {short(tag)}")
        return equipment
