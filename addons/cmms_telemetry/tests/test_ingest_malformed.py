# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from odoo.exceptions import UserError

from ..models.cmms_telemetry_api import MAX_BATCH_BYTES, REASON_VALUE_CHARS
from .common import TelemetryCommon

# Reasons quote at most REASON_VALUE_CHARS characters of a value, plus their own words.
SHORT_REASON = REASON_VALUE_CHARS + 80


def find_none(value, path="reply"):
    """The path of the first None inside ``value``, or an empty string."""
    if value is None:
        return path
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return ""
    for name, inner in items:
        found = find_none(inner, f"{path}[{name!r}]")
        if found:
            return found
    return ""


class TestIngestMalformed(TelemetryCommon):
    def assertRejectedShortly(self, reply, count):
        self.assertEqual(self.statuses(reply), ["rejected"] * count)
        for reason in self.reasons(reply):
            self.assertTrue(reason)
            self.assertLess(len(reason), SHORT_REASON, reason)
        self.assertFalse(find_none(reply), find_none(reply))

    def test_items_without_a_usable_key_are_answered_with_key_false(self):
        reply = self.api.ingest(
            [None, {"type": "alert"}, "text", 7, [], {"key": 12}, {"key": "k" * 256}]
        )
        self.assertRejectedShortly(reply, 7)
        self.assertEqual([r["key"] for r in reply["results"]], [False] * 7)
        self.assertFalse(self.env["cmms.ingest.key"].search([]))

    def test_reasons_quote_values_cut_short(self):
        long = "x" * 100000
        items = [
            {"key": "m:type", "type": long, "ts": 0, "data": {}},
            self.alert_item("m:tag", tag=long),
            self.alert_item("m:alert-type", alert_type=long),
            self.alert_item("m:severity", severity=long),
            self.alert_item("m:ts", ts=long),
            self.item("m:agg", "reading_agg", {"tag": "PT-T01", "resolution": long}),
            self.item("m:snapshot", "health_snapshot",
                      {"tag": "FLX-T1-FD", "score": 50, "metrics": {"a" * 60: long}}),
        ]  # fmt: skip
        reply = self.api.ingest(items)
        self.assertRejectedShortly(reply, len(items))
        self.assertIn("unknown item type 'xxxx", reply["results"][0]["reason"])

    def test_values_of_any_shape_are_rejected_per_item(self):
        deep = []
        for _level in range(40):
            deep = [deep]
        items = [
            # Unhashable choices.
            self.alert_item("s:type-list", alert_type=["rule_violation"]),
            self.alert_item("s:severity-dict", severity={"a": 1}),
            self.item("s:res", "reading_agg", {"tag": "PT-T01", "resolution": []}),
            # What PostgreSQL cannot store.
            self.alert_item("s:nul", tag="PT-T01\x00"),
            {"key": "s:nul-key\x00", "type": "heartbeat", "ts": 0, "data": {}},
            self.alert_item("s:surrogate", tag="PT-\ud800"),
            self.item("s:count", "reading_agg",
                      {"tag": "PT-T01", "period_start": "2026-11-22T08:00:00Z", "min": 1,
                       "max": 1, "mean": 1, "last": 1, "count": 2**40}),
            self.item("s:backlog", "heartbeat", {"connector_id": "c", "backlog": 1e300}),
            self.item("s:inf", "heartbeat", {"connector_id": "c", "backlog": float("inf")}),
            self.item("s:huge", "heartbeat", {"connector_id": "c", "backlog": 10**400}),
            self.item("s:oee", "oee_record",
                      {"machine": "FLX-T1", "period_start": "2026-11-22T06:00:00Z",
                       "period_end": "2026-11-22T14:00:00Z", "run_min": 420, "downtime_min": 30,
                       "produced": 1200, "good": 1150, "design_speed": 1e-300,
                       "actual_speed": 1e300}),
            self.item("s:connector", "heartbeat", {"connector_id": "c" * 3000}),
            # Out of range times.
            self.alert_item("s:ts-offset", ts="0001-01-01T00:00:00+01:00"),
            self.alert_item("s:ts-far", ts=10**18),
            # Not JSON, or too deep.
            self.alert_item("s:datetime", value=datetime(2026, 11, 22)),
            self.item("s:deep", "prediction", {"tag": "FLX-T1", "inputs": {"a": deep}}),
            self.item("s:keys", "prediction", {"tag": "FLX-T1", "inputs": {1: 2}}),
        ]  # fmt: skip
        reply = self.api.ingest([*items, self.alert_item("s:good")])
        self.assertRejectedShortly({"results": reply["results"][:-1]}, len(items))
        self.assertEqual(reply["results"][-1]["status"], "accepted")
        self.assertEqual(self.env["cmms.ingest.key"].search([]).mapped("key"), ["s:good"])
        self.assertFalse(self.env["cmms.connector"].search([("name", "=", "c")]))
        self.assertFalse(self.env["cmms.reading"].search([("sensor_id", "=", self.sensor.id)]))

    def test_a_batch_over_the_byte_limit_is_refused_whole(self):
        big = "x" * (MAX_BATCH_BYTES // 2)
        items = [self.alert_item("big:1"), self.alert_item("big:2"), self.alert_item("big:3")]
        items[1]["data"]["message"] = big
        items[2]["data"]["message"] = big
        with self.assertRaisesRegex(UserError, "at most 8388608 bytes"):
            self.api.ingest(items)
        self.assertFalse(self.env["cmms.ingest.key"].search([]))
        self.assertFalse(self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)]))
        # Half of it passes.
        reply = self.api.ingest(items[:2])
        self.assertEqual(self.statuses(reply), ["accepted", "accepted"])

    def test_config_and_replies_hold_no_none(self):
        config = self.api.get_connector_config()
        self.assertFalse(find_none(config), find_none(config))
        pt = {s["tag"]: s for s in config["sensors"]}["LT-T02"]
        self.assertIs(pt["high_critical"], False)
        self.assertIs(pt["model_version"], False)
        self.assertIs(pt["last_calibration_at"], False)
