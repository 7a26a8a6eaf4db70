"""Alert aggregation: raised / active / cleared and deterministic keys."""

from __future__ import annotations

from connector.detect.alerts import AlertAggregator
from connector.detect.base import CRITICAL, WARNING, Verdict
from connector.detect.limit_rule import LimitRule
from connector.push.items import OutboxItem
from connector.store import AlertStateRow

T0 = 1795334400.0
HOT = Verdict(True, WARNING, "9.5 bar above high warning limit 9 bar")
HOTTER = Verdict(True, CRITICAL, "10.5 bar above high critical limit 10 bar")
COLD = Verdict(False)


def feed(
    agg: AlertAggregator, verdicts: list[Verdict], t0: float = T0, dt: float = 1.0
) -> list[OutboxItem]:
    out: list[OutboxItem] = []
    for i, v in enumerate(verdicts):
        out.extend(agg.update(t0 + i * dt, v, 9.5))
    return out


def test_raise_once_then_active_every_interval_then_clear() -> None:
    agg = AlertAggregator("PT-101", "rule_violation", active_interval_s=60, clear_delay_s=5)
    items = feed(agg, [HOT] * 150 + [COLD] * 10)
    assert [i.type for i in items] == [
        "alert_raised",
        "alert_active",
        "alert_active",
        "alert_cleared",
    ]
    raised, a1, a2, cleared = items
    assert raised.ts == "2026-11-22T08:00:00Z"
    assert (a1.ts, a2.ts) == ("2026-11-22T08:01:00Z", "2026-11-22T08:02:00Z")
    assert cleared.ts == "2026-11-22T08:02:30Z"  # when the condition ended
    assert raised.key == "PT-101:rule_violation:2026-11-22T08:00:00Z:raised"
    assert a2.key == "PT-101:rule_violation:2026-11-22T08:00:00Z:active:2"
    assert cleared.key == "PT-101:rule_violation:2026-11-22T08:00:00Z:cleared"
    assert raised.data == {
        "tag": "PT-101",
        "alert_type": "rule_violation",
        "severity": "warning",
        "value": 9.5,
        "message": HOT.message,
    }
    assert not agg.is_open


def test_clear_is_debounced() -> None:
    agg = AlertAggregator("PT-101", "rule_violation", clear_delay_s=3)
    # gone for 2 s, back, gone for 2 s, back: never cleared
    items = feed(agg, [HOT, COLD, COLD, HOT, COLD, COLD, HOT])
    assert [i.type for i in items] == ["alert_raised"]
    items = feed(agg, [COLD] * 4, t0=T0 + 10)
    assert [i.type for i in items] == ["alert_cleared"]


def test_zero_clear_delay_clears_at_once() -> None:
    agg = AlertAggregator("PT-101", "data_gap", clear_delay_s=0)
    assert [i.type for i in feed(agg, [HOT, COLD])] == ["alert_raised", "alert_cleared"]


def test_severity_change_is_reported_at_once() -> None:
    agg = AlertAggregator("PT-101", "rule_violation", active_interval_s=60)
    items = feed(agg, [HOT, HOT, HOTTER, HOTTER, HOT])
    assert [(i.type, i.data["severity"]) for i in items] == [
        ("alert_raised", "warning"),
        ("alert_active", "critical"),
        ("alert_active", "warning"),
    ]
    assert items[1].key.endswith(":active:1") and items[2].key.endswith(":active:2")


def test_a_new_raise_after_clear_gets_new_keys() -> None:
    agg = AlertAggregator("PT-101", "rule_violation", clear_delay_s=0)
    first = feed(agg, [HOT, COLD])
    second = feed(agg, [HOT, COLD], t0=T0 + 100)
    keys = [i.key for i in first + second]
    assert len(set(keys)) == 4


def test_replay_gives_the_same_keys() -> None:
    values = [8.0, 9.2, 9.4, 10.3, 10.4, 9.6, 8.5, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0]

    def replay() -> list[str]:
        rule = LimitRule(high_warning=9.0, high_critical=10.0, deadband=0.2)
        agg = AlertAggregator("PT-101", "rule_violation", 60, 2)
        out: list[str] = []
        for i, v in enumerate(values):
            out += [item.key for item in agg.update(T0 + i, rule.update(T0 + i, v), v)]
        return out

    first = replay()
    assert first == replay()
    base = "PT-101:rule_violation:2026-11-22T08:00:01Z"
    assert first == [f"{base}:raised", f"{base}:active:1", f"{base}:active:2", f"{base}:cleared"]


def test_restored_state_continues_without_raising_again() -> None:
    agg = AlertAggregator("PT-101", "rule_violation", active_interval_s=60)
    feed(agg, [HOT] * 30)
    saved = AlertStateRow(**{f: getattr(agg.state, f) for f in AlertStateRow.__slots__})
    restarted = AlertAggregator("PT-101", "rule_violation", active_interval_s=60)
    restarted.state = saved
    items = feed(restarted, [HOT] * 40, t0=T0 + 30)
    assert [i.type for i in items] == ["alert_active"]
    assert items[0].key == "PT-101:rule_violation:2026-11-22T08:00:00Z:active:1"


def test_dirty_flag_tells_when_state_must_be_saved() -> None:
    agg = AlertAggregator("PT-101", "rule_violation", active_interval_s=60, clear_delay_s=5)
    agg.update(T0, COLD, 1.0)
    assert not agg.dirty_
    agg.update(T0, HOT, 9.5)
    assert agg.dirty_
    agg.update(T0 + 1, HOT, 9.5)
    assert not agg.dirty_
    agg.update(T0 + 2, COLD, 8.0)
    assert agg.dirty_  # clear_since started
