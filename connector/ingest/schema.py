"""Typed decoding of the MQTT payloads (readings and FLEXO ticks).

Everything that arrives from the broker is untrusted. The functions here turn
bytes into frozen dataclasses or raise :class:`DecodeError` with a reason
that is short enough to be a log key and precise enough to fix the
publisher. Nothing else may escape them: the fuzz tests feed them arbitrary
bytes.

Reading payload (topic ``<prefix>/<site>/<tag>/reading``)::

    {"ts": "2026-11-22T08:00:00Z" | 1795334400.0, "value": 4.2, "unit": "bar",
     "quality": "good", "seq": 17}

or a JSON array of such objects for the same tag. ``quality`` and ``seq``
are optional; a ``tag`` key, when present, must equal the topic's tag.
Timestamps must carry a time zone (``Z`` or an offset): a naive time would
be silently off by the plant's UTC offset. Epoch seconds must look like
seconds, not milliseconds.

FLEXO tick payload (topic ``<prefix>/<site>/machine/<machine_id>/tick``),
after the FLEXO 104 component-health specification::

    {"timestamp": "2025-10-17T08:15:00Z", "shift": "A", "machine_id": "FLEXO_104",
     "overall": {"produced_units": 1200, "good_units": 1150, ...,
                 "oee": null},
     "components": {"PRINTING": {"registration_error_mm": 0.18,
                                 "health_score": null}, ...},
     "events": [{"timestamp": "...", "type": "downtime", "component": "FEEDER",
                 "reason": "FEEDER UNIT TROUBLE MEKANIK", "duration_min": 15}]}

Energy meter payload (topic ``<prefix>/<site>/machine/<machine_id>/energy``),
the meter's cumulative counter in kWh::

    {"ts": "2026-11-22T08:00:00Z", "kwh": 15230.75}

or a JSON array of such objects for the same meter.

Only types are checked for ticks for now: counters and metrics are finite
numbers or ``null``; the health engine that reads them comes later.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, overload

from ..util import MAX_EPOCH_S, parse_time

#: A message may not carry more readings than this.
MAX_READINGS_PER_MESSAGE = 10_000
MAX_TEXT = 255
_PLAIN_NUMBERS = (int, float)


class DecodeError(ValueError):
    """A payload that cannot be accepted.

    Parameters
    ----------
    reason : str
        Human-readable reason, stored with the dead letter.
    kind : str, optional
        Stable short category for counting and log-once (defaults to the
        reason up to its first colon).
    """

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind or reason.split(":", 1)[0]


class Reading(NamedTuple):
    """One decoded reading; ``ts`` is epoch seconds (UTC).

    A named tuple rather than a dataclass: one is made per reading, and a
    tuple is built several times faster.
    """

    tag: str
    ts: float
    value: float
    unit: str
    quality: str | None = None
    seq: int | None = None


#: Builds a Reading from a tuple already in its field order (several times
#: faster than the named constructor; one is made per reading).
_as_reading = tuple.__new__


class ReadingBatch(Sequence[Reading]):
    """Readings of one tag held as columns: what an array payload of
    ``{"ts", "value", "unit"}`` objects (each with ``quality`` and ``seq``,
    or none with them) decodes to.

    The store and the detectors take the columns as they are: ``ts`` and
    ``value`` are lists of floats, ``units`` a list of strings and ``unit``
    their one value when they all agree; ``quality`` and ``seq`` are lists,
    or ``None`` when the payload had none. A :class:`Reading` is only made
    when an element is asked for. Compares equal to the list of its readings.
    """

    __slots__ = ("tag", "ts", "value", "units", "unit", "quality", "seq")

    def __init__(
        self,
        tag: str,
        ts: list[float],
        value: list[float],
        units: list[str],
        quality: list[str | None] | None = None,
        seq: list[int | None] | None = None,
    ) -> None:
        self.tag = tag
        self.ts = ts
        self.value = value
        self.units = units
        first = units[0]
        self.unit: str | None = first if units.count(first) == len(units) else None
        self.quality = quality
        self.seq = seq

    def __len__(self) -> int:
        return len(self.ts)

    @overload
    def __getitem__(self, i: int) -> Reading: ...

    @overload
    def __getitem__(self, i: slice) -> ReadingBatch: ...

    def __getitem__(self, i: int | slice) -> Reading | ReadingBatch:
        quality, seq = self.quality, self.seq
        if isinstance(i, slice):
            return ReadingBatch(
                self.tag,
                self.ts[i],
                self.value[i],
                self.units[i],
                None if quality is None else quality[i],
                None if seq is None else seq[i],
            )
        row = (
            self.tag,
            self.ts[i],
            self.value[i],
            self.units[i],
            None if quality is None else quality[i],
            None if seq is None else seq[i],
        )
        return _as_reading(Reading, row)

    def __iter__(self) -> Iterator[Reading]:
        n = len(self.ts)
        quality = repeat(None, n) if self.quality is None else self.quality
        seq = repeat(None, n) if self.seq is None else self.seq
        rows = zip(repeat(self.tag, n), self.ts, self.value, self.units, quality, seq, strict=True)
        for row in rows:
            yield _as_reading(Reading, row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReadingBatch | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # The columns as they are, one unit for all when they share it (the
        # MQTT receiver process sends batches decoded).
        units = self.units if self.unit is None else self.unit
        return _batch, (self.tag, self.ts, self.value, units, self.quality, self.seq)


def _batch(
    tag: str,
    ts: list[float],
    value: list[float],
    units: list[str] | str,
    quality: list[str | None] | None,
    seq: list[int | None] | None,
) -> ReadingBatch:
    """A pickled :class:`ReadingBatch` (*units* one string when they all agree)."""
    if isinstance(units, str):
        units = [units] * len(ts)
    return ReadingBatch(tag, ts, value, units, quality, seq)


@dataclass(frozen=True, slots=True)
class TickEvent:
    """One event of a FLEXO tick (e.g. a downtime with its reason)."""

    timestamp: float
    type: str
    component: str | None = None
    reason: str | None = None
    duration_min: float | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """A decoded FLEXO tick; ``timestamp`` is epoch seconds (UTC)."""

    timestamp: float
    machine_id: str
    shift: str | None
    overall: dict[str, float | None]
    components: dict[str, dict[str, float | None]]
    events: list[TickEvent] = field(default_factory=list)


def parse_json(payload: bytes | str) -> Any:
    """Parse UTF-8 JSON, refusing ``NaN``/``Infinity`` literals.

    orjson, when installed, parses first (four times faster than the
    standard library on a gateway's array of readings); what it refuses
    (``NaN``, a number beyond a double or a 64-bit integer, a lone
    surrogate, anything not JSON) goes to the standard library's parser,
    which decides and gives the reason. Both give the same values for what
    both accept, so the result never depends on which one parsed it.

    Raises
    ------
    DecodeError
        ``not utf-8`` or ``not json``.
    """
    if _fast_loads is not None:
        try:
            return _fast_loads(payload)
        except _FastError:
            pass  # the reference parser decides, with its reason
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not utf-8: {exc}", "not utf-8") from None
    else:
        text = payload
    try:
        return _DECODER.decode(text)
    except DecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not json: {exc}", "not json") from None


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"non-finite number: {name}", "non-finite number")


_fast_loads: Callable[[bytes | bytearray | memoryview | str], Any] | None
_FastError: type[Exception]
try:  # orjson: optional speed (connector/requirements.txt installs it)
    import orjson

    _fast_loads, _FastError = orjson.loads, orjson.JSONDecodeError
except ImportError:  # pragma: no cover - the standard library parses alone
    _fast_loads, _FastError = None, ValueError

#: One decoder for every payload (``json.loads`` with options builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_ts(value: Any, name: str = "ts") -> float:
    """Turn an ISO 8601 string with a zone, or epoch seconds, into epoch seconds.

    The connector's one rule (:func:`connector.util.parse_time`): a payload's
    time without a zone is refused.

    Examples
    --------
    >>> parse_ts("2026-11-22T08:00:00Z")
    1795334400.0
    >>> parse_ts("2026-11-22T15:00:00+07:00")
    1795334400.0
    >>> parse_ts(1795334400)
    1795334400.0
    """
    if value is None:
        raise DecodeError(f"missing {name}", f"missing {name}")
    try:
        return parse_time(value)
    except ValueError as exc:
        raise DecodeError(f"bad {name}: {exc}", f"bad {name}") from None


def _number(value: Any, name: str, *, nullable: bool = False) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        got = "null" if value is None else type(value).__name__
        raise DecodeError(f"bad {name}: {got} is not a number", f"bad {name}")
    number = float(value)
    if not math.isfinite(number):
        raise DecodeError(f"bad {name}: not finite", f"bad {name}")
    return number


def _text(value: Any, name: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        got = "null" if value is None else type(value).__name__
        raise DecodeError(f"bad {name}: {got} is not a string", f"bad {name}")
    if len(value) > MAX_TEXT:
        raise DecodeError(f"bad {name}: longer than {MAX_TEXT}", f"bad {name}")
    return value


_STR, _FLOAT = frozenset((str,)), frozenset((float,))
_TS_VALUE_UNIT = itemgetter("ts", "value", "unit")
_FULL = itemgetter("ts", "value", "unit", "quality", "seq")
_TEXT_OR_NONE = frozenset((str, type(None)))
_INT_OR_NONE = frozenset((int, type(None)))
_NUMBER_TYPES = frozenset(_PLAIN_NUMBERS)


def _plain_array(tag: str, doc: list[Any]) -> ReadingBatch | None:
    """The readings of an array of ``{"ts": <epoch>, "value": <number>,
    "unit": "..."}`` objects (with ``quality`` and ``seq`` in every one or in
    none), checked a column at a time (the checks of :func:`_reading`), as a
    :class:`ReadingBatch`; ``None`` for any other array, which the
    element-wise path then accepts or refuses with its reason."""
    first = doc[0]
    if type(first) is not dict:
        return None
    size = len(first)
    full = size == 5
    if not (size == 3 or full):
        return None
    try:  # only a dict has these keys (a list or a string raises TypeError)
        columns = tuple(zip(*map(_FULL if full else _TS_VALUE_UNIT, doc), strict=True))
    except (KeyError, TypeError):
        return None
    if set(map(len, doc)) != {size}:  # other keys beside these
        return None
    stamps, values, units = columns[:3]
    stamp_types, value_types = set(map(type, stamps)), set(map(type, values))
    if (
        not stamp_types <= _NUMBER_TYPES
        or not value_types <= _NUMBER_TYPES
        or set(map(type, units)) != _STR
        or max(map(len, units)) > MAX_TEXT
        or min(stamps) <= 0
        or max(stamps) >= MAX_EPOCH_S
    ):
        return None
    quality: list[str | None] | None = None
    seq: list[int | None] | None = None
    if full:
        quality, seq = list(columns[3]), list(columns[4])
        if not set(map(type, quality)) <= _TEXT_OR_NONE or not set(map(type, seq)) <= _INT_OR_NONE:
            return None
        if max((len(q) for q in quality if q is not None), default=0) > MAX_TEXT:
            return None
        numbers = [n for n in seq if n is not None]
        if numbers and not (min(numbers) >= 0 and max(numbers) < 2**63):
            return None
    try:
        floats = list(values) if value_types == _FLOAT else list(map(float, values))
    except OverflowError:
        return None
    if not all(map(math.isfinite, floats)):
        return None
    epochs = list(stamps) if stamp_types == _FLOAT else list(map(float, stamps))
    return ReadingBatch(tag, epochs, floats, list(units), quality, seq)


def _reading(tag: str, obj: Any) -> Reading:
    if type(obj) is dict and len(obj) == 3:
        # Fast path for the common {"ts": <epoch>, "value": <number>, "unit": "..."}:
        # the same checks as below, without the generic helpers (which narrow
        # the types: here the checks on type() do, which mypy cannot follow).
        ts: Any
        value: Any
        ts, value, unit = obj.get("ts"), obj.get("value"), obj.get("unit")
        if (
            type(ts) in _PLAIN_NUMBERS
            and type(value) in _PLAIN_NUMBERS
            and type(unit) is str
            and len(unit) <= MAX_TEXT
            and 0 < ts < MAX_EPOCH_S
        ):
            number = float(value)
            if math.isfinite(number):
                return _as_reading(Reading, (tag, float(ts), number, unit, None, None))
    if not isinstance(obj, dict):
        raise DecodeError(f"not an object: {type(obj).__name__}", "not an object")
    if "tag" in obj and obj["tag"] != tag:
        raise DecodeError(f"tag mismatch: payload {obj['tag']!r}, topic {tag!r}", "tag mismatch")
    if "value" not in obj:
        raise DecodeError("missing value")
    if "unit" not in obj:
        raise DecodeError("missing unit")
    ts = parse_ts(obj.get("ts"))
    value = _number(obj["value"], "value")
    unit = _text(obj["unit"], "unit")
    quality = _text(obj.get("quality"), "quality", nullable=True)
    seq = obj.get("seq")
    if seq is not None and (
        isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63
    ):
        raise DecodeError(f"bad seq: {seq!r} is not a non-negative integer", "bad seq")
    assert value is not None and unit is not None
    return Reading(tag=tag, ts=ts, value=value, unit=unit, quality=quality, seq=seq)


def decode_readings(tag: str, payload: bytes | str) -> Sequence[Reading]:
    """Decode a reading payload (one object or an array) for *tag*.

    Parameters
    ----------
    tag : str
        The tag taken from the topic.
    payload : bytes or str
        The MQTT payload.

    Returns
    -------
    sequence of Reading
        At least one reading. The message is accepted or refused whole. An
        array of plain ``{"ts", "value", "unit"}`` objects comes as a
        :class:`ReadingBatch` (columns), anything else as a list.

    Raises
    ------
    DecodeError
        With the reason; for an array the index of the bad element is named.

    Examples
    --------
    >>> decode_readings("PT-101", b'{"ts": 1795334400, "value": 4.2, "unit": "bar"}')
    [Reading(tag='PT-101', ts=1795334400.0, value=4.2, unit='bar', quality=None, \
seq=None)]
    """
    if not tag or len(tag) > MAX_TEXT:
        raise DecodeError("bad tag in topic")
    doc = parse_json(payload)
    if isinstance(doc, list):
        if not doc:
            raise DecodeError("empty array")
        if len(doc) > MAX_READINGS_PER_MESSAGE:
            raise DecodeError(
                f"too many readings: {len(doc)} > {MAX_READINGS_PER_MESSAGE}",
                "too many readings",
            )
        plain = _plain_array(tag, doc)
        if plain is not None:
            return plain
        out = []
        for i, obj in enumerate(doc):
            try:
                out.append(_reading(tag, obj))
            except DecodeError as exc:
                raise DecodeError(f"{exc.reason} (element {i})", exc.kind) from None
        return out
    return [_reading(tag, doc)]


class MeterReading(NamedTuple):
    """One reading of a cumulative energy meter: ``ts`` epoch seconds (UTC),
    ``kwh`` the meter's total counter."""

    ts: float
    kwh: float


def _meter_reading(obj: Any) -> MeterReading:
    if not isinstance(obj, dict):
        raise DecodeError(f"not an object: {type(obj).__name__}", "not an object")
    if "kwh" not in obj:
        raise DecodeError("missing kwh")
    kwh = _number(obj["kwh"], "kwh")
    assert kwh is not None
    if kwh < 0:
        raise DecodeError(f"bad kwh: {kwh!r} is negative", "bad kwh")
    return MeterReading(parse_ts(obj.get("ts")), kwh)


def decode_energy(payload: bytes | str) -> list[MeterReading]:
    """Decode an energy meter payload: one ``{"ts", "kwh"}`` object or an array.

    ``kwh`` is the meter's cumulative counter (what a real meter gives), a
    finite number >= 0; the time needs a zone, as for readings.

    Raises
    ------
    DecodeError
        With the reason; for an array the index of the bad element is named.

    Examples
    --------
    >>> decode_energy(b'{"ts": "2026-11-22T08:00:00Z", "kwh": 1520.25}')
    [MeterReading(ts=1795334400.0, kwh=1520.25)]
    """
    doc = parse_json(payload)
    if not isinstance(doc, list):
        return [_meter_reading(doc)]
    if not doc:
        raise DecodeError("empty array")
    if len(doc) > MAX_READINGS_PER_MESSAGE:
        raise DecodeError(
            f"too many readings: {len(doc)} > {MAX_READINGS_PER_MESSAGE}", "too many readings"
        )
    out = []
    for i, obj in enumerate(doc):
        try:
            out.append(_meter_reading(obj))
        except DecodeError as exc:
            raise DecodeError(f"{exc.reason} (element {i})", exc.kind) from None
    return out


def _number_map(obj: Any, name: str) -> dict[str, float | None]:
    if not isinstance(obj, dict):
        raise DecodeError(f"bad {name}: not an object", f"bad {name}")
    out: dict[str, float | None] = {}
    for key, value in obj.items():
        out[key] = _number(value, f"{name}.{key}", nullable=True)
    return out


def _event(obj: Any, i: int) -> TickEvent:
    if not isinstance(obj, dict):
        raise DecodeError(f"bad events[{i}]: not an object", "bad events")
    etype = _text(obj.get("type"), f"events[{i}].type")
    assert etype is not None
    return TickEvent(
        timestamp=parse_ts(obj.get("timestamp"), f"events[{i}].timestamp"),
        type=etype,
        component=_text(obj.get("component"), f"events[{i}].component", nullable=True),
        reason=_text(obj.get("reason"), f"events[{i}].reason", nullable=True),
        duration_min=_number(obj.get("duration_min"), f"events[{i}].duration_min", nullable=True),
    )


def decode_tick(payload: bytes | str, machine_id: str | None = None) -> Tick:
    """Decode a FLEXO tick payload.

    Parameters
    ----------
    payload : bytes or str
        The MQTT payload.
    machine_id : str, optional
        The machine id taken from the topic; the payload's must match it.

    Raises
    ------
    DecodeError
        On a wrong type anywhere in the payload.
    """
    doc = parse_json(payload)
    if not isinstance(doc, dict):
        raise DecodeError(f"not an object: {type(doc).__name__}", "not an object")
    mid = doc.get("machine_id", machine_id)
    mid = _text(mid, "machine_id")
    assert mid is not None
    if machine_id is not None and mid != machine_id:
        raise DecodeError(
            f"machine_id mismatch: payload {mid!r}, topic {machine_id!r}", "machine_id mismatch"
        )
    components_raw = doc.get("components", {})
    if not isinstance(components_raw, Mapping):
        raise DecodeError("bad components: not an object", "bad components")
    components = {
        name: _number_map(metrics, f"components.{name}") for name, metrics in components_raw.items()
    }
    events_raw = doc.get("events", [])
    if not isinstance(events_raw, list):
        raise DecodeError("bad events: not an array", "bad events")
    return Tick(
        timestamp=parse_ts(doc.get("timestamp"), "timestamp"),
        machine_id=mid,
        shift=_text(doc.get("shift"), "shift", nullable=True),
        overall=_number_map(doc.get("overall", {}), "overall"),
        components=components,
        events=[_event(e, i) for i, e in enumerate(events_raw)],
    )
