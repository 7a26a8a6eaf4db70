# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The external API as clients use it: XML-RPC and JSON-RPC with an API key."""

import json
import random
import xmlrpc.client
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import Transport
from odoo.tools import mute_logger

from ..models import cmms_telemetry_api
from ..models.cmms_telemetry_api import ITEM_TYPES, MAX_REASON_CHARS
from .common import TelemetryCommon
from .test_ingest_malformed import find_none

PROTOCOLS = ("xmlrpc", "jsonrpc")
# XML-RPC fault codes of Odoo's /xmlrpc/2 endpoint.
FAULTS = {1: "ServerError", 2: "UserError", 3: "AccessDenied", 4: "AccessError"}


class RpcError(Exception):
    """An error answer, named alike for both protocols."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


def error_kind(name):
    """The kind of a JSON-RPC error, by the server's exception class name."""
    for kind in ("AccessDenied", "AccessError"):
        if name.endswith(kind):
            return kind
    if name.endswith(("UserError", "ValidationError", "MissingError")):
        return "UserError"
    return "ServerError"


def usable_key(item):
    """The key the reply should name ``item`` by."""
    key = item.get("key") if isinstance(item, dict) else None
    if not isinstance(key, str) or not 0 < len(key) <= 255 or "\x00" in key:
        return False
    try:
        key.encode()
    except UnicodeEncodeError:
        return False
    return key


class ExternalApiCommon(TelemetryCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = {
            user: cls.env["res.users.apikeys"].with_user(user).sudo()._generate(None, "t", None)
            for user in (cls.connector, cls.technician, cls.supervisor, cls.manager)
        }

    def call(self, protocol, user, model, method, *args, **kwargs):
        """``execute_kw`` as ``user`` with their API key; RpcError on an error answer."""
        db, key = self.env.cr.dbname, self.keys[user]
        self.env.flush_all()
        try:
            if protocol == "xmlrpc":
                uid = self.xmlrpc_common.authenticate(db, user.login, key, {})
                proxy = xmlrpc.client.ServerProxy(
                    self.xmlrpc_url + "object", transport=Transport(self.cr), allow_none=True
                )
                result = proxy.execute_kw(db, uid, key, model, method, list(args), kwargs)
            else:
                uid = self.jsonrpc("common", "authenticate", db, user.login, key, {})
                result = self.jsonrpc(
                    "object", "execute_kw", db, uid, key, model, method, list(args), kwargs
                )
        except xmlrpc.client.Fault as fault:
            raise RpcError(FAULTS.get(fault.faultCode, "ServerError"), fault.faultString) from None
        finally:
            self.env.invalidate_all()
        self.assertEqual(uid, user.id, "the API key logs its user in")
        return result

    def jsonrpc(self, service, method, *args):
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"service": service, "method": method, "args": list(args)},
        }
        # Odoo logs refused JSON-RPC calls as warnings: they are expected here.
        with mute_logger("odoo.http"):
            response = self.url_open(
                "/jsonrpc",
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        reply = response.json()
        if "error" in reply:
            data = reply["error"].get("data") or {}
            raise RpcError(error_kind(data.get("name", "")), data.get("message", ""))
        return reply["result"]

    def assertRefused(self, protocol, user, model, method, *args, kind="AccessError", **kwargs):
        with self.assertRaises(RpcError, msg=f"{protocol} {model}.{method}") as caught:
            self.call(protocol, user, model, method, *args, **kwargs)
        self.assertEqual(caught.exception.kind, kind, caught.exception.message[:500])
        return caught.exception

    def assertClean(self, reply):
        """No None anywhere (XML-RPC would have refused to send it anyway)."""
        self.assertFalse(find_none(reply), find_none(reply))
        return reply


@tagged("post_install", "-at_install")
class TestConnectorKey(ExternalApiCommon):
    def test_connector_key_does_what_the_connector_needs(self):
        for n, protocol in enumerate(PROTOCOLS):
            config = self.assertClean(
                self.call(protocol, self.connector, "cmms.telemetry.api", "get_connector_config")
            )
            self.assertIn("PT-T01", {sensor["tag"] for sensor in config["sensors"]})
            reply = self.assertClean(
                self.call(
                    protocol,
                    self.connector,
                    "cmms.telemetry.api",
                    "ingest",
                    [self.alert_item(f"key:{n}", ts=f"2026-11-22T08:0{n}:00Z")],
                )
            )
            self.assertEqual(self.statuses(reply), ["accepted"])
        # The alert policy, on the server, opened the work order.
        alert = self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)])
        self.assertEqual(alert.occurrence_count, 2)
        self.assertEqual(alert.request_id.cmms_priority, "urgent")

    def test_connector_key_opens_nothing_else(self):
        stranger = self.technician.partner_id
        request = self.env["maintenance.request"].create(
            {"name": "Check PT-T01", "equipment_id": self.equipment.id}
        )
        for protocol in PROTOCOLS:

            def refused(model, method, *args, kind="AccessError", protocol=protocol, **kwargs):
                self.assertRefused(
                    protocol, self.connector, model, method, *args, kind=kind, **kwargs
                )

            # Partners and users: only its own records, as for every user.
            partners = self.call(
                protocol, self.connector, "res.partner", "search_read", [], ["email"]
            )
            self.assertEqual([p["id"] for p in partners], self.connector.partner_id.ids)
            refused("res.partner", "read", stranger.ids, ["email"])
            logins = self.call(protocol, self.connector, "res.users", "search_read", [], ["login"])
            self.assertEqual([u["login"] for u in logins], [self.connector.login])
            refused("res.users", "read", self.technician.ids, ["login"])
            # Stock, work orders, equipment, settings.
            refused("stock.quant", "search_read", [], ["quantity"])
            refused("product.product", "search_read", [], ["name"])
            refused("maintenance.request", "create", {"name": "from connector key"})
            refused("maintenance.request", "search_read", [], ["name"])
            refused("maintenance.request", "write", request.ids, {"name": "renamed"})
            refused("maintenance.equipment", "search_read", [], ["name"])
            refused("ir.config_parameter", "get_param", "database.secret")
            # Telemetry records: only through the two methods of the API.
            refused("cmms.sensor", "search_read", [], ["tag"])
            refused("cmms.sensor", "write", self.sensor.ids, {"high_critical": 99.0})
            refused("cmms.alert", "search_read", [], ["name"])
            refused("cmms.alert", "create", {"equipment_id": self.equipment.id})
            refused("cmms.ingest.key", "search_read", [], ["key"])
            refused("cmms.connector", "search_read", [], ["name"])
            refused("cmms.reading", "search_read", [], ["mean_value"])
            refused("cmms.model.version", "search_read", [], ["version"])
            # The other public methods of the three addons.
            refused("cmms.telemetry.dashboard", "get_dashboard")
            refused("cmms.telemetry.dashboard", "get_trend", self.sensor.id, 1)
            refused("cmms.kpi", "compute_kpis", "2026-11-01", "2026-11-30")
            refused("cmms.ar.api", "my_tasks")
            refused("cmms.ar.api", "lookup_equipment", "PT-T01")
            refused("maintenance.request", "action_approve", request.ids)
            refused("cmms.sensor", "action_record_calibration", self.sensor.ids)
        self.assertEqual(request.name, "Check PT-T01")
        self.assertFalse(
            self.env["maintenance.request"].search([("name", "=", "from connector key")])
        )
        self.assertEqual(self.sensor.high_critical, 10.0)

    def test_ar_glasses_use_the_technicians_own_key_and_rights(self):
        # my_tasks lists the work a technician can act on now: approved.
        mine = self.env["maintenance.request"].sudo().create(
            {"name": "Mine", "equipment_id": self.low_equipment.id,
             "user_id": self.technician.id, "cmms_state": "approved"}
        )  # fmt: skip
        theirs = self.env["maintenance.request"].sudo().create(
            {"name": "Theirs", "equipment_id": self.low_equipment.id,
             "user_id": self.other_technician.id, "cmms_state": "approved"}
        )  # fmt: skip
        for protocol in PROTOCOLS:
            tasks = self.assertClean(
                self.call(protocol, self.technician, "cmms.ar.api", "my_tasks")
            )
            ids = [task["id"] for task in tasks]
            self.assertIn(mine.id, ids)
            self.assertNotIn(theirs.id, ids)
            self.assertFalse(tasks[ids.index(mine.id)]["scheduled"])
            found = self.assertClean(
                self.call(protocol, self.technician, "cmms.ar.api", "lookup_equipment", "lt-t02")
            )
            self.assertEqual(found["id"], self.low_equipment.id)
            self.assertIs(
                self.call(protocol, self.technician, "cmms.ar.api", "lookup_equipment", "NO-1"),
                False,
            )
            self.assertRefused(
                protocol, self.technician, "cmms.ar.api", "lookup_equipment", "", kind="UserError"
            )
            # Nothing of the connector's, nothing beyond a technician's rights.
            for method, args in (("get_connector_config", ()), ("ingest", ([],))):
                self.assertRefused(protocol, self.technician, "cmms.telemetry.api", method, *args)
            self.assertRefused(
                protocol, self.technician, "cmms.kpi", "compute_kpis", "2026-11-01", "2026-11-30"
            )
            self.assertRefused(
                protocol, self.technician, "maintenance.request", "read", theirs.ids, ["name"]
            )


@tagged("post_install", "-at_install")
class TestPublicMethodReplies(ExternalApiCommon):
    """Every public method answers what XML-RPC carries: no None."""

    def test_dashboard_kpi_and_api_methods(self):
        # A sensor with nothing set: no limits, no reading, no model, no calibration.
        bare_instrument = self.env["maintenance.equipment"].create(
            {"name": "Bare transmitter", "cmms_kind": "instrument"}
        )
        self.env["cmms.sensor"].create(
            {"tag": "TT-BARE", "equipment_id": bare_instrument.id, "unit": "°C"}
        )
        for protocol in PROTOCOLS:
            dashboard = self.assertClean(
                self.call(protocol, self.technician, "cmms.telemetry.dashboard", "get_dashboard")
            )
            bare = next(card for card in dashboard["cards"] if card["tag"] == "TT-BARE")
            self.assertEqual((bare["value"], bare["value_at"]), (False, False))
            trend = self.assertClean(
                self.call(
                    protocol, self.technician, "cmms.telemetry.dashboard", "get_trend",
                    self.low_sensor.id, 24,
                )
            )  # fmt: skip
            self.assertEqual(set(trend["limits"].values()), {False})
            for tile in ("instruments", "calibration_overdue", "active_alerts", "open_work_orders"):
                self.assertClean(
                    self.call(
                        protocol, self.technician, "cmms.telemetry.dashboard", "get_tile_action",
                        tile,
                    )
                )  # fmt: skip
            self.assertRefused(
                protocol, self.technician, "cmms.telemetry.dashboard", "get_trend",
                self.sensor.id, 5, kind="UserError",
            )  # fmt: skip
            kpis = self.assertClean(
                self.call(
                    protocol,
                    self.supervisor,
                    "cmms.kpi",
                    "compute_kpis",
                    "2026-11-01",
                    "2026-11-30",
                )
            )
            self.assertIsInstance(kpis["kpis"]["work_orders_completed"], int)
            for bad in ((False, "2026-11-30"), ("2026-13-01", "2026-11-30"), (7, [])):
                self.assertRefused(
                    protocol, self.supervisor, "cmms.kpi", "compute_kpis", *bad, kind="UserError"
                )
            config = self.assertClean(
                self.call(protocol, self.connector, "cmms.telemetry.api", "get_connector_config")
            )
            bare = next(sensor for sensor in config["sensors"] if sensor["tag"] == "TT-BARE")
            for name in ("low_critical", "high_critical", "model_version", "last_calibration_at"):
                self.assertIs(bare[name], False, name)

    def test_actions_of_work_orders_alerts_and_sensors(self):
        request = self.env["maintenance.request"].create(
            {
                "name": "Fix LT-T02",
                "equipment_id": self.low_equipment.id,
                "user_id": self.technician.id,
                "schedule_date": "2026-11-23 08:00:00",
            }
        )
        other = self.env["maintenance.request"].create(
            {"name": "Duplicate", "equipment_id": self.low_equipment.id}
        )
        alert = self.env["cmms.alert"].create(
            {
                "equipment_id": self.low_equipment.id,
                "alert_type": "rule_violation",
                "severity": "warning",
            }
        )
        model = self.env["cmms.model.version"].create(
            {"sensor_id": self.sensor.id, "version": "1", "trained_at": "2026-11-20 10:00:00"}
        )
        protocol = "xmlrpc"
        # Under calibration management, so that its recording dialog opens.
        self.equipment.write(
            {"calibration_interval_days": 180, "adjust_limit": 0.5, "fail_limit": 1.0}
        )
        steps = [
            (self.supervisor, "maintenance.request", "action_approve", request.ids),
            (self.technician, "maintenance.request", "action_start", request.ids),
            (self.supervisor, "maintenance.request", "action_cancel", other.ids),
            (self.supervisor, "maintenance.request", "action_cancel", other.ids, "A duplicate."),
            (self.technician, "cmms.alert", "action_acknowledge", alert.ids),
            (self.technician, "cmms.alert", "action_create_request", alert.ids),
            (self.technician, "cmms.sensor", "action_record_calibration", self.sensor.ids),
            (self.technician, "maintenance.equipment", "action_view_open_alerts",
             self.equipment.ids),
            (self.technician, "maintenance.equipment", "action_view_health_history",
             self.equipment.ids),
            (self.manager, "cmms.model.version", "action_activate", model.ids),
            (self.supervisor, "res.users", "action_cmms_deactivate", self.operator.ids),
        ]  # fmt: skip
        for user, model_name, method, *args in steps:
            with self.subTest(method=method):
                self.assertClean(self.call(protocol, user, model_name, method, *args))
        self.assertEqual(request.cmms_state, "in_progress")
        self.assertEqual(other.cmms_state, "cancelled")
        self.assertTrue(alert.request_id)
        self.assertTrue(model.is_active)
        self.assertFalse(self.operator.active)


@tagged("post_install", "-at_install")
class TestIngestOverBothProtocols(ExternalApiCommon):
    def valid_items(self):
        """One valid item of each type (keys to be set)."""
        return [
            self.alert_item(None),
            self.alert_item(None, kind="alert_cleared"),
            self.item(None, "heartbeat", {"connector_id": "fz", "backlog": 3}),
            self.item(None, "reading_agg",
                      {"tag": "PT-T01", "period_start": "2026-11-22T08:00:00Z", "min": 5.0,
                       "max": 7.0, "mean": 6.0, "last": 6.5, "count": 60}),
            self.item(None, "health_snapshot",
                      {"tag": "FLX-T1-FD", "score": 72.5, "metrics": {"jam_rate": 60},
                       "recommendations": ["Check the feeder"]}),
            self.item(None, "oee_record",
                      {"machine": "FLX-T1", "period_start": "2026-11-22T06:00:00Z",
                       "period_end": "2026-11-22T14:00:00Z", "run_min": 420, "downtime_min": 30,
                       "produced": 1200, "good": 1150, "design_speed": 250,
                       "actual_speed": 210}),
            self.item(None, "downtime_event",
                      {"machine": "FLX-T1", "reason": "FEEDER JAM", "duration_min": 15,
                       "component": "FEEDER"}),
            self.item(None, "prediction",
                      {"tag": "FLX-T1-PR", "inputs": {"total": 4500}, "predicted_hours": 2.5,
                       "model_version": "rf-1"}),
            self.item(None, "model_version",
                      {"tag": "PT-T01", "version": "7", "trained_at": "2026-11-20T10:00:00Z",
                       "metrics": {"p95": 0.4}}),
        ]  # fmt: skip

    def test_limits_refuse_the_whole_call(self):
        for protocol in PROTOCOLS:
            # Small limits, so that the test sends little.
            with (
                patch.object(cmms_telemetry_api, "MAX_BATCH", 3),
                patch.object(cmms_telemetry_api, "MAX_BATCH_BYTES", 4000),
            ):
                too_many = [self.alert_item(f"{protocol}:n:{n}") for n in range(4)]
                error = self.assertRefused(
                    protocol, self.connector, "cmms.telemetry.api", "ingest", too_many,
                    kind="UserError",
                )  # fmt: skip
                self.assertIn("at most 3 items, this one 4", error.message)
                too_big = [self.alert_item(f"{protocol}:b:1"), self.alert_item(f"{protocol}:b:2")]
                too_big[1]["data"]["message"] = "m" * 4000
                error = self.assertRefused(
                    protocol, self.connector, "cmms.telemetry.api", "ingest", too_big,
                    kind="UserError",
                )  # fmt: skip
                self.assertIn("at most 4000 bytes", error.message)
                self.assertRefused(
                    protocol, self.connector, "cmms.telemetry.api", "ingest", {"key": "x"},
                    kind="UserError",
                )  # fmt: skip
        self.assertFalse(self.env["cmms.ingest.key"].search([]))
        self.assertFalse(self.env["cmms.alert"].search([("equipment_id", "=", self.equipment.id)]))

    def test_reported_malformed_calls(self):
        for protocol in PROTOCOLS:
            reply = self.assertClean(
                self.call(
                    protocol, self.connector, "cmms.telemetry.api", "ingest",
                    [None, {"type": "alert"}, {"key": f"{protocol}:t", "type": "t" * 100000}],
                )
            )  # fmt: skip
            self.assertEqual(self.statuses(reply), ["rejected"] * 3)
            self.assertEqual([r["key"] for r in reply["results"]], [False, False, f"{protocol}:t"])
            self.assertLess(len(reply["results"][2]["reason"]), 100)
        self.assertFalse(self.env["cmms.ingest.key"].search([]))

    def test_fuzz_ingest(self):
        """Random JSON-like items: an answer per item, nothing written for the rejected."""
        for protocol in PROTOCOLS:
            fuzz = ItemFuzz(
                random.Random(f"cmms-ingest-{protocol}"), self, xml=protocol == "xmlrpc"
            )
            for _call in range(30):
                self.fuzz_call(protocol, fuzz)
            self.assertTrue(fuzz.accepted, "some random items are valid ones")

    def fuzz_call(self, protocol, fuzz):
        items = [fuzz.item() for _n in range(fuzz.rng.randint(1, 6))]
        Key = self.env["cmms.ingest.key"]
        before = self.written()
        last_key = Key.search([], limit=1, order="id desc").id or 0
        known = set(
            Key.search([("key", "in", list(filter(None, map(usable_key, items))))]).mapped("key")
        )
        reply = self.call(protocol, self.connector, "cmms.telemetry.api", "ingest", items)
        self.assertClean(reply)
        results = reply["results"]
        self.assertEqual(len(results), len(items), items)
        accepted = {r["key"] for r in results if r["status"] == "accepted"}
        for item, result in zip(items, results, strict=True):
            self.assertEqual(result["key"], usable_key(item))
            self.assertIn(result["status"], ("accepted", "duplicate", "rejected"))
            if result["status"] == "rejected":
                self.assertTrue(result["reason"])
                self.assertLessEqual(len(result["reason"]), MAX_REASON_CHARS)
            elif result["status"] == "duplicate":
                self.assertIn(result["key"], known | accepted)
        new_keys = set(Key.search([("id", ">", last_key)]).mapped("key"))
        self.assertEqual(new_keys, accepted, "a key is stored for each accepted item only")
        fuzz.accepted |= accepted
        if not accepted:
            self.assertEqual(self.written(), before, f"rejected items wrote something: {items}")

    def written(self):
        """What ingested items may write: record counts and the state of the alerts."""
        counts = {
            model: self.env[model].with_context(active_test=False).search_count([])
            for model in (
                "cmms.alert", "cmms.reading", "cmms.health.snapshot", "cmms.oee.record",
                "cmms.downtime.event", "cmms.downtime.reason", "cmms.prediction",
                "cmms.model.version", "cmms.connector", "maintenance.request",
                "maintenance.equipment", "mail.message",
            )
        }  # fmt: skip
        alerts = self.env["cmms.alert"].search_read(
            [], ["last_seen", "last_value", "occurrence_count", "condition", "severity"]
        )
        return counts, alerts


class ItemFuzz:
    """Random ingest items, seeded: valid ones, broken ones and plain JSON values.

    ``xml`` keeps to what an XML-RPC client can send: no control characters
    or unpaired surrogates in strings, whole numbers within 32 bits.
    """

    TEXT = "abcXYZ09 -_:.Ωé漢🙂"
    NAMES = (
        "tag", "alert_type", "severity", "value", "message", "connector_id", "backlog",
        "readings_per_s", "heartbeat_interval_s", "period_start", "resolution", "min", "max",
        "mean", "last", "count", "score", "metrics", "recommendations", "machine", "shift",
        "period_end", "planned_min", "run_min", "downtime_min", "produced", "good", "rejected",
        "design_speed", "actual_speed", "reason", "start", "duration_min", "component",
        "predicted_hours", "model_version", "inputs", "version", "trained_at", "active",
    )  # fmt: skip
    WORDS = (
        "PT-T01", "LT-T02", "FLX-T1", "FLX-T1-FD", "FEEDER", "NOPE-1", "minute", "hour", "week",
        "critical", "warning", "rule_violation", "anomaly", "2026-11-22T08:00:00Z",
        "2026-11-22T08:00:30", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
        "yesterday", "", " ", *ITEM_TYPES,
    )  # fmt: skip

    def __init__(self, rng, case, xml):
        self.rng = rng
        self.case = case
        self.xml = xml
        self.serial = 0
        self.accepted = set()
        self.sent = []

    def text(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(self.WORDS)
        length = rng.choice((1, 5, 40, 300, 3000))
        text = "".join(rng.choice(self.TEXT) for _n in range(length))
        if not self.xml and rng.random() < 0.1:
            # What JSON carries but PostgreSQL or XML do not.
            spot = rng.randrange(len(text))
            text = text[:spot] + rng.choice(("\x00", "\x01", "\ud800")) + text[spot:]
        return text

    def number(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return rng.randint(-5, 200)
        if roll < 0.5:
            return rng.uniform(-1e3, 1e3)
        if roll < 0.7:
            return (
                rng.choice((0, 1, 60, 100, 2**31 - 1, -(2**31)))
                if self.xml
                else rng.choice((2**31, 2**62, 2**70, -(2**64), 10**30))
            )
        return rng.choice((0.0, -0.0, 0.5, 1e-300, 1e300, 1e308, float("inf"), float("nan")))

    def value(self, depth=0):
        rng = self.rng
        roll = rng.random()
        if depth > 2 or roll < 0.15:
            return rng.choice((None, True, False))
        if roll < 0.45:
            return self.number()
        if roll < 0.75:
            return self.text()
        if roll < 0.87:
            return [self.value(depth + 1) for _n in range(rng.randint(0, 3))]
        if roll < 0.88 and not self.xml:
            nested = []
            for _level in range(20):
                nested = [nested]
            return nested
        return {self.text(): self.value(depth + 1) for _n in range(rng.randint(0, 3))}

    def key(self):
        rng = self.rng
        self.serial += 1
        roll = rng.random()
        if roll < 0.85:
            return f"fz:{'x' if self.xml else 'j'}:{self.serial}"
        if roll < 0.9:
            return "k" * rng.choice((256, 5000))
        return self.value()

    def item(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            return self.value()
        if roll < 0.15 and self.sent:
            return dict(rng.choice(self.sent))  # sent again: duplicate if it was accepted
        if roll < 0.55:
            item = rng.choice(self.case.valid_items())
            data = dict(item["data"])
            for _n in range(rng.choice((0, 0, 1, 2))):
                name = rng.choice(list(data) if rng.random() < 0.6 else self.NAMES)
                data[name] = self.value()
            if data and rng.random() < 0.2:
                del data[rng.choice(list(data))]
            item["data"] = data
        else:
            item = {
                "type": rng.choice(ITEM_TYPES) if rng.random() < 0.8 else self.value(),
                "ts": rng.choice(("2026-11-22T09:00:00Z", 1795334400, self.value())),
                "data": {rng.choice(self.NAMES): self.value() for _n in range(rng.randint(0, 8))}
                if rng.random() < 0.9
                else self.value(),
            }
        item["key"] = self.key()
        if rng.random() < 0.1:
            del item[rng.choice(list(item))]
        self.sent.append(item)
        return item
