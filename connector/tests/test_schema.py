"""Decoding of reading and FLEXO tick payloads."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from connector.ingest.schema import (
    DecodeError,
    Reading,
    ReadingBatch,
    Tick,
    decode_readings,
    decode_tick,
    parse_ts,
)

T0 = 1795334400.0  # 2026-11-22T08:00:00Z


def enc(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def test_single_reading_with_iso_ts() -> None:
    [r] = decode_readings(
        "PT-101",
        enc(
            {
                "ts": "2026-11-22T08:00:00Z",
                "value": 4.2,
                "unit": "bar",
                "quality": "good",
                "seq": 17,
            }
        ),
    )
    assert r == Reading("PT-101", T0, 4.2, "bar", "good", 17)


def test_array_with_epoch_and_offset_ts() -> None:
    out = decode_readings(
        "PT-101",
        enc(
            [
                {"ts": T0, "value": 1, "unit": "bar"},
                {"ts": "2026-11-22T15:00:01+07:00", "value": 2.5, "unit": "bar", "tag": "PT-101"},
            ]
        ),
    )
    assert [(r.ts, r.value) for r in out] == [(T0, 1.0), (T0 + 1, 2.5)]
    assert all(isinstance(r.value, float) for r in out)


def test_fractional_seconds_are_kept() -> None:
    assert parse_ts("2026-11-22T08:00:00.250Z") == T0 + 0.25


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"\xff\xfe", "not utf-8"),
        (b"{not json", "not json"),
        (b'{"ts": 1795334400, "value": NaN, "unit": "bar"}', "non-finite number"),
        (b'{"ts": 1795334400, "value": Infinity, "unit": "bar"}', "non-finite number"),
        (enc({"ts": T0, "value": "4.2", "unit": "bar"}), "bad value"),
        (enc({"ts": T0, "value": True, "unit": "bar"}), "bad value"),
        (enc({"ts": T0, "value": None, "unit": "bar"}), "bad value"),
        (enc({"ts": T0, "unit": "bar"}), "missing value"),
        (enc({"ts": T0, "value": 1.0}), "missing unit"),
        (enc({"ts": T0, "value": 1.0, "unit": 5}), "bad unit"),
        (enc({"value": 1.0, "unit": "bar"}), "missing ts"),
        (enc({"ts": "2026-11-22T08:00:00", "value": 1.0, "unit": "bar"}), "bad ts"),
        (enc({"ts": "yesterday", "value": 1.0, "unit": "bar"}), "bad ts"),
        (enc({"ts": T0 * 1000, "value": 1.0, "unit": "bar"}), "bad ts"),
        (enc({"ts": -5, "value": 1.0, "unit": "bar"}), "bad ts"),
        (enc({"ts": True, "value": 1.0, "unit": "bar"}), "bad ts"),
        (enc({"ts": T0, "value": 1.0, "unit": "bar", "seq": -1}), "bad seq"),
        (enc({"ts": T0, "value": 1.0, "unit": "bar", "seq": 1.5}), "bad seq"),
        (enc({"ts": T0, "value": 1.0, "unit": "bar", "quality": 3}), "bad quality"),
        (enc({"ts": T0, "value": 1.0, "unit": "bar", "tag": "TT-201"}), "tag mismatch"),
        (enc([]), "empty array"),
        (enc(42), "not an object"),
        (enc([{"ts": T0, "value": 1.0, "unit": "bar"}, "x"]), "not an object"),
    ],
)
def test_bad_readings_are_refused_with_a_reason(payload: bytes, kind: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_readings("PT-101", payload)
    assert info.value.kind == kind
    assert info.value.reason


def test_array_error_names_the_element() -> None:
    with pytest.raises(DecodeError, match=r"element 1"):
        decode_readings(
            "PT-101",
            enc([{"ts": T0, "value": 1.0, "unit": "bar"}, {"ts": T0, "value": "x", "unit": "bar"}]),
        )


def test_too_many_readings() -> None:
    one = {"ts": T0, "value": 1.0, "unit": "bar"}
    with pytest.raises(DecodeError, match="too many"):
        decode_readings("PT-101", enc([one] * 10_001))


# -- FLEXO tick ---------------------------------------------------------------

TICK = {
    "timestamp": "2025-10-17T08:15:00Z",
    "shift": "A",
    "machine_id": "FLEXO_104",
    "overall": {
        "produced_units": 1200,
        "good_units": 1150,
        "reject_units": 50,
        "runtime_minutes": 420,
        "downtime_minutes": 30,
        "design_speed_cpm": 250,
        "actual_speed_cpm": 210,
        "oee": None,
        "availability": None,
        "performance": None,
        "quality": None,
    },
    "components": {
        "PRE_FEEDER": {"tension_dev_pct": 4.0, "feed_stops_hour": 0, "health_score": None},
        "PRINTING": {
            "registration_error_mm": 0.18,
            "registration_error_max_mm": 0.35,
            "ink_viscosity_dev_pct": 6.0,
            "reject_rate_pct": 2.5,
            "health_score": None,
        },
    },
    "events": [
        {
            "timestamp": "2025-10-17T08:10:00Z",
            "type": "downtime",
            "component": "FEEDER",
            "reason": "FEEDER UNIT TROUBLE MEKANIK",
            "duration_min": 15,
        }
    ],
}


def test_tick_from_the_specification() -> None:
    tick = decode_tick(enc(TICK), "FLEXO_104")
    assert isinstance(tick, Tick)
    assert tick.machine_id == "FLEXO_104" and tick.shift == "A"
    assert tick.overall["produced_units"] == 1200.0 and tick.overall["oee"] is None
    assert tick.components["PRINTING"]["registration_error_mm"] == 0.18
    assert tick.events[0].reason == "FEEDER UNIT TROUBLE MEKANIK"
    assert tick.events[0].duration_min == 15.0
    assert tick.timestamp - tick.events[0].timestamp == 300.0


def test_tick_machine_id_may_come_from_the_topic() -> None:
    doc = {k: v for k, v in TICK.items() if k != "machine_id"}
    assert decode_tick(enc(doc), "FLEXO_104").machine_id == "FLEXO_104"


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(machine_id="FLEXO_105"), "machine_id mismatch"),
        (lambda d: d["overall"].update(produced_units="1200"), "overall.produced_units"),
        (
            lambda d: d["components"]["PRINTING"].update(reject_rate_pct=[1]),
            "components.PRINTING.reject_rate_pct",
        ),
        (lambda d: d.update(components=[]), "bad components"),
        (lambda d: d.update(events={}), "bad events"),
        (lambda d: d["events"][0].update(type=None), r"events\[0\].type"),
        (lambda d: d["events"][0].update(timestamp="10:00"), r"events\[0\].timestamp"),
        (lambda d: d.pop("timestamp"), "missing timestamp"),
        (lambda d: d.update(shift=1), "bad shift"),
    ],
)
def test_bad_ticks_are_refused(mutate: Any, match: str) -> None:
    doc = json.loads(json.dumps(TICK))
    mutate(doc)
    with pytest.raises(DecodeError, match=match):
        decode_tick(enc(doc), "FLEXO_104")


# -- fuzzing: nothing but DecodeError may escape ------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "ts",
                    "value",
                    "unit",
                    "quality",
                    "seq",
                    "tag",
                    "timestamp",
                    "overall",
                    "events",
                    "components",
                    "machine_id",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_bytes(payload: bytes) -> None:
    for decode in (lambda p: decode_readings("PT-101", p), lambda p: decode_tick(p, "M1")):
        try:
            decode(payload)
        except DecodeError:
            pass


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fuzz_json(doc: Any) -> None:
    payload = json.dumps(doc).encode()
    try:
        out = decode_readings("PT-101", payload)
    except DecodeError:
        pass
    else:
        assert out and all(math.isfinite(r.value) and r.ts > 0 for r in out)
    try:
        decode_tick(payload, "M1")
    except DecodeError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=1.0, max_value=9.9e10),
    st.floats(allow_nan=False, allow_infinity=False),
    st.one_of(st.none(), st.integers(min_value=0, max_value=2**62)),
)
def test_valid_readings_round_trip(ts: float, value: float, seq: int | None) -> None:
    obj: dict[str, Any] = {"ts": ts, "value": value, "unit": "bar"}
    if seq is not None:
        obj["seq"] = seq
    [r] = decode_readings("PT-101", enc(obj))
    assert (r.ts, r.value, r.seq) == (ts, value, seq)


# -- the column path for arrays of plain readings --------------------------------

plain_elements = st.fixed_dictionaries(
    {
        "ts": st.one_of(
            st.integers(min_value=-5, max_value=10**12),
            st.floats(min_value=-1.0, max_value=2e11),
            st.booleans(),
            st.text(max_size=3),
            st.none(),
        ),
        "value": st.one_of(
            st.integers(min_value=-(10**400), max_value=10**400),
            st.floats(),
            st.booleans(),
            st.none(),
            st.text(max_size=2),
        ),
        "unit": st.one_of(st.text(max_size=300), st.integers(), st.none()),
    },
    optional={
        "seq": st.one_of(
            st.integers(min_value=-2, max_value=2**64), st.none(), st.booleans(), st.floats()
        ),
        "quality": st.one_of(st.just("good"), st.none(), st.text(max_size=300), st.integers()),
    },
)
# Mostly valid elements, so that whole arrays often pass.
valid_elements = st.fixed_dictionaries(
    {
        "ts": st.one_of(
            st.integers(min_value=1, max_value=10**10), st.floats(min_value=1.0, max_value=9e10)
        ),
        "value": st.one_of(
            st.integers(min_value=-(10**6), max_value=10**6),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        "unit": st.sampled_from(["bar", "°C", "m3/h"]),
    }
)
# ... and as the simulator sends them, with quality and seq.
full_elements = st.builds(
    lambda obj, quality, seq: {**obj, "quality": quality, "seq": seq},
    valid_elements,
    st.one_of(st.sampled_from(["good", "uncertain"]), st.none()),
    st.one_of(st.integers(min_value=0, max_value=2**63 - 1), st.none()),
)


def element_wise(tag: str, doc: list[Any]) -> list[Reading] | str:
    """What the element-wise path makes of an array: readings, or the reason."""
    from connector.ingest.schema import _reading

    try:
        return [_reading(tag, obj) for obj in doc]
    except (DecodeError, OverflowError) as exc:
        return type(exc).__name__


@settings(max_examples=1500, deadline=None)
@given(
    st.one_of(
        st.lists(
            st.one_of(valid_elements, valid_elements, plain_elements, st.integers(), st.just([])),
            min_size=1,
            max_size=8,
        ),
        st.lists(
            st.one_of(full_elements, full_elements, full_elements, plain_elements),
            min_size=1,
            max_size=8,
        ),
    )
)
def test_column_path_agrees_with_the_element_path(doc: list[Any]) -> None:
    """An array decoded as columns gives exactly the readings the element-wise
    path gives (same floats, same types); anything it declines goes through
    the element-wise path, so refusals keep their reasons."""
    from connector.ingest.schema import _plain_array

    columns = _plain_array("PT-101", doc)
    expected = element_wise("PT-101", doc)
    if columns is None:
        return
    assert isinstance(expected, list), f"column path accepted what the element path refuses: {doc}"
    assert columns == expected
    assert [type(r.ts) for r in columns] == [float] * len(doc)
    assert [type(r.value) for r in columns] == [float] * len(doc)
    assert columns.unit == (expected[0].unit if len({r.unit for r in expected}) == 1 else None)
    assert [type(r.seq) for r in columns] == [type(r.seq) for r in expected]
    event("column path" if columns.seq is None else "column path, with quality and seq")


def test_plain_array_decodes_to_columns() -> None:
    payload = enc([{"ts": T0 + i, "value": i, "unit": "bar"} for i in range(3)])
    batch = decode_readings("PT-101", payload)
    assert isinstance(batch, ReadingBatch)
    assert (batch.tag, batch.ts, batch.value, batch.unit) == (
        "PT-101",
        [T0, T0 + 1, T0 + 2],
        [0.0, 1.0, 2.0],
        "bar",
    )
    assert batch == [Reading("PT-101", T0 + i, float(i), "bar") for i in range(3)]
    assert batch[1] == Reading("PT-101", T0 + 1, 1.0, "bar") and batch[-1].ts == T0 + 2
    assert batch[:2] == [batch[0], batch[1]] and len(batch) == 3
    # quality and seq in every element: columns too
    full = [{"ts": T0 + i, "value": i, "unit": "bar", "quality": "good", "seq": i} for i in (1, 2)]
    batch = decode_readings("PT-101", enc(full))
    assert isinstance(batch, ReadingBatch) and (batch.quality, batch.seq) == (["good"] * 2, [1, 2])
    assert batch[1:] == [Reading("PT-101", T0 + 2, 2.0, "bar", "good", 2)]
    # seq in some elements only, or an ISO time: the element path
    mixed = decode_readings("PT-101", enc([{"ts": T0, "value": 1, "unit": "bar", "seq": 3}]))
    assert isinstance(mixed, list) and mixed[0].seq == 3


@pytest.mark.parametrize("units", [["bar", "bar", "bar"], ["bar", "mbar", "bar"]])
def test_a_batch_pickles_as_its_columns(units: list[str]) -> None:
    import pickle

    rows = [
        {"ts": T0 + i, "value": i / 3, "unit": u, "quality": None if i else "good", "seq": i}
        for i, u in enumerate(units)
    ]
    batch = decode_readings("PT-101", enc(rows))
    assert isinstance(batch, ReadingBatch)
    back = pickle.loads(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
    assert isinstance(back, ReadingBatch) and back == batch
    assert (back.tag, back.ts, back.value, back.units, back.unit, back.quality, back.seq) == (
        batch.tag,
        batch.ts,
        batch.value,
        batch.units,
        batch.unit,
        batch.quality,
        batch.seq,
    )
