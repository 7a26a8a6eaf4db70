# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.exceptions import AccessError

from .common import TelemetryCommon


class TestReadingAggregates(TelemetryCommon):
    @staticmethod
    def agg(key, **data):
        values = {"tag": "PT-T01", "period_start": "2026-11-22T08:00:00Z", "min": 5.0,
                  "max": 7.0, "mean": 6.0, "last": 6.5, "count": 60}  # fmt: skip
        values.update(data)
        return TelemetryCommon.item(key, "reading_agg", values)

    def test_aggregate_is_stored_once_per_period(self):
        reply = self.api.ingest([self.agg("a:1"), self.agg("a:1")])
        self.assertEqual(self.statuses(reply), ["accepted", "duplicate"])
        reading = self.env["cmms.reading"].search([("sensor_id", "=", self.sensor.id)])
        self.assertEqual(len(reading), 1)
        self.assertEqual(reading.resolution, "minute")
        self.assertEqual(str(reading.period_start), "2026-11-22 08:00:00")
        self.assertEqual(
            (reading.min_value, reading.max_value, reading.mean_value, reading.last_value),
            (5.0, 7.0, 6.0, 6.5),
        )
        self.assertEqual(reading.sample_count, 60)
        self.assertEqual(reading.equipment_id, self.equipment)
        # The same period under another key replaces the stored aggregate.
        reply = self.api.ingest([self.agg("a:2", max=9.0, last=8.0, count=61)])
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(reading.max_value, 9.0)
        self.assertEqual(reading.sample_count, 61)
        self.assertEqual(
            self.env["cmms.reading"].search_count([("sensor_id", "=", self.sensor.id)]), 1
        )
        # Another resolution of the same start is another row.
        self.api.ingest([self.agg("a:3", resolution="hour")])
        self.assertEqual(
            self.env["cmms.reading"].search_count([("sensor_id", "=", self.sensor.id)]), 2
        )

    def test_bad_aggregates_are_rejected_with_reasons(self):
        bad = [
            self.agg("b:tag", tag="NOPE-9"),
            self.agg("b:align", period_start="2026-11-22T08:00:30Z"),
            self.agg("b:align-hour", resolution="hour", period_start="2026-11-22T08:05:00Z"),
            self.agg("b:res", resolution="week"),
            self.agg("b:minmax", min=8.0),
            self.agg("b:mean", mean=9.5),
            self.agg("b:last", last=1.0),
            self.agg("b:count", count=0),
            self.agg("b:count-float", count=1.5),
            self.agg("b:nan", mean=float("nan")),
            self.agg("b:str", max="7"),
            self.agg("b:missing", period_start=None),
        ]
        reply = self.api.ingest([*bad, self.agg("b:good")])
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad) + ["accepted"])
        reasons = self.reasons(reply)
        self.assertIn("NOPE-9", reasons[0])
        self.assertIn("whole minute", reasons[1])
        self.assertIn("whole hour", reasons[2])
        self.assertIn("resolution", reasons[3])
        self.assertIn("data.min is above data.max", reasons[4])
        self.assertIn("data.mean", reasons[5])
        self.assertIn("data.last", reasons[6])
        self.assertIn("data.count", reasons[7])
        self.assertIn("whole number", reasons[8])
        self.assertIn("finite", reasons[9])
        self.assertIn("data.max must be a number", reasons[10])
        self.assertIn("data.period_start is missing", reasons[11])

    def test_mean_off_by_rounding_is_clamped(self):
        reply = self.api.ingest([self.agg("r:1", min=0.1, max=0.1, mean=0.10000000000000002,
                                          last=0.1)])  # fmt: skip
        self.assertEqual(self.statuses(reply), ["accepted"])


class TestHealthSnapshots(TelemetryCommon):
    def snapshot(self, key, score, ts="2026-11-22T08:00:00Z", tag="FLX-T1-FD", **data):
        return self.item(key, "health_snapshot", {"tag": tag, "score": score, **data}, ts=ts)

    def test_band_is_computed_here(self):
        items = [
            self.snapshot(f"s:{score}", score, ts=f"2026-11-22T08:{n:02d}:00Z", tag="FLX-T1-PR")
            for n, score in enumerate((100, 80, 79.9, 60, 59, 40, 39.9, 0))
        ]
        reply = self.api.ingest(items)
        self.assertEqual(
            [r["computed"]["band"] for r in reply["results"]],
            [
                "excellent",
                "excellent",
                "good",
                "good",
                "warning",
                "warning",
                "critical",
                "critical",
            ],
        )
        snapshots = self.env["cmms.health.snapshot"].search(
            [("equipment_id", "=", self.printing.id)]
        )
        self.assertEqual(len(snapshots), 8)

    def test_current_health_and_contributing_metrics(self):
        reply = self.api.ingest([
            self.snapshot("h:1", 72.5,
                          metrics={"registration_error_mm": 60, "reject_rate_pct": 100},
                          recommendations=["Check anilox roller", "Schedule cleaning"]),
        ])  # fmt: skip
        self.assertEqual(self.statuses(reply), ["accepted"])
        snapshot = self.env["cmms.health.snapshot"].search([("equipment_id", "=", self.feeder.id)])
        self.assertEqual(
            snapshot.metric_scores, {"registration_error_mm": 60, "reject_rate_pct": 100}
        )
        self.assertIn("registration_error_mm", snapshot.metric_scores_display)
        self.assertEqual(snapshot.recommendations, "Check anilox roller\nSchedule cleaning")
        self.assertEqual(self.feeder.health_score, 72.5)
        self.assertEqual(self.feeder.health_band, "good")
        self.assertEqual(str(self.feeder.health_updated_at), "2026-11-22 08:00:00")
        # An older snapshot is history: it does not become the current health.
        self.api.ingest([self.snapshot("h:0", 20, ts="2026-11-22T07:00:00Z")])
        self.assertEqual(self.feeder.health_score, 72.5)
        self.assertFalse(self.feeder.alert_ids, "an old critical score raises nothing")
        # Readable by an operator.
        self.assertEqual(self.feeder.with_user(self.operator).health_band, "good")

    def test_entering_critical_opens_a_health_alert_through_the_policy(self):
        self.api.ingest([self.snapshot("c:1", 65)])
        self.assertFalse(self.feeder.alert_ids)
        reply = self.api.ingest([
            self.snapshot("c:2", 35, ts="2026-11-22T08:10:00Z",
                          recommendations=["Replace vacuum belt"]),
        ])  # fmt: skip
        self.assertEqual(reply["results"][0]["computed"], {"band": "critical"})
        alert = self.feeder.alert_ids
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.alert_type, "health_degraded")
        self.assertEqual(alert.severity, "critical")
        self.assertEqual(alert.last_value, 35)
        self.assertIn("Replace vacuum belt", alert.message)
        # critical x critical equipment: the default policy opens an urgent work order.
        self.assertEqual(alert.request_id.cmms_priority, "urgent")
        self.assertEqual(alert.request_id.maintenance_type, "predictive")
        # Staying critical refreshes the same alert; recovering clears its condition.
        self.api.ingest([self.snapshot("c:3", 30, ts="2026-11-22T08:20:00Z")])
        self.assertEqual(len(self.feeder.alert_ids), 1)
        self.assertEqual(alert.occurrence_count, 1)
        self.assertEqual(str(alert.last_seen), "2026-11-22 08:20:00")
        self.api.ingest([self.snapshot("c:4", 70, ts="2026-11-22T08:30:00Z")])
        self.assertEqual(alert.condition, "cleared")
        self.assertEqual(alert.state, "raised", "people still resolve it")
        self.assertEqual(len(alert.request_id), 1)

    def test_bad_snapshots_are_rejected(self):
        bad = [
            self.snapshot("x:score", 101),
            self.snapshot("x:neg", -1),
            self.snapshot("x:tag", 50, tag="NOPE-2"),
            self.snapshot("x:metrics", 50, metrics=["a"]),
            self.snapshot("x:metric", 50, metrics={"burr_mm": 140}),
            self.snapshot("x:recos", 50, recommendations="do it"),
            self.snapshot("x:recos-empty", 50, recommendations=[""]),
        ]
        reply = self.api.ingest([*bad, self.snapshot("x:good", 50)])
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad) + ["accepted"])
        self.assertIn("data.score must be at most 100", reply["results"][0]["reason"])
        self.assertIn("data.metrics.burr_mm", reply["results"][4]["reason"])

    def test_snapshot_by_sensor_tag_lands_on_its_equipment(self):
        self.api.ingest([self.snapshot("t:1", 90, tag="PT-T01")])
        self.assertEqual(self.equipment.health_band, "excellent")


class TestOeeItems(TelemetryCommon):
    def oee(self, key, **data):
        values = {"machine": "FLX-T1", "shift": "A", "period_start": "2026-11-22T06:00:00Z",
                  "period_end": "2026-11-22T14:00:00Z", "run_min": 420, "downtime_min": 30,
                  "produced": 1200, "good": 1150, "rejected": 50, "design_speed": 250,
                  "actual_speed": 210}  # fmt: skip
        values.update(data)
        return self.item(key, "oee_record", values)

    def test_oee_is_computed_here(self):
        reply = self.api.ingest([self.oee("o:1", oee=0.99, availability=1)])
        self.assertEqual(self.statuses(reply), ["accepted"])
        record = self.env["cmms.oee.record"].search([("equipment_id", "=", self.machine.id)])
        # The spec's tick: A = 420 / 450, P = 210 / 250, Q = 1150 / 1200.
        self.assertAlmostEqual(record.availability, 93.33, places=6)
        self.assertAlmostEqual(record.performance, 84.0, places=6)
        self.assertAlmostEqual(record.quality, 95.83, places=6)
        self.assertAlmostEqual(record.oee, 75.13, places=6, msg="A x P x Q, not the item's")
        self.assertEqual(record.status, "normal")
        self.assertEqual(record.planned_min, 480.0, "defaults to the period")
        self.assertEqual(record.source, "connector")
        computed = reply["results"][0]["computed"]
        self.assertEqual(computed["status"], "NORMAL")
        self.assertEqual(computed["oee"], 75.13)

    def test_status_bands_and_availability_basis_are_settings(self):
        self.api.ingest([self.oee("o:fault", actual_speed=150)])
        record = self.env["cmms.oee.record"].search([("equipment_id", "=", self.machine.id)])
        self.assertEqual(record.status, "fault", f"{record.oee} < 60")
        self.api.ingest([self.oee("o:warn", actual_speed=200)])
        self.assertEqual(record.status, "warning", f"60 <= {record.oee} <= 75")
        self.env["res.config.settings"].create({"cmms_oee_warning_below": 70.0}).execute()
        self.assertEqual(record.status, "normal", "changing the bands recomputes stored records")
        self.env["res.config.settings"].create({"cmms_oee_availability_basis": "planned"}).execute()
        self.assertAlmostEqual(record.availability, 87.5, msg="420 / 480")

    def test_period_reported_again_updates_the_record(self):
        self.api.ingest([self.oee("p:1")])
        self.api.ingest([self.oee("p:2", good=1100, rejected=100)])
        record = self.env["cmms.oee.record"].search([("equipment_id", "=", self.machine.id)])
        self.assertEqual(len(record), 1)
        self.assertEqual(record.good, 1100)

    def test_bad_oee_items_are_rejected(self):
        bad = [
            self.oee("ob:machine", machine="NOPE-3"),
            self.oee("ob:period", period_end="2026-11-22T06:00:00Z"),
            self.oee("ob:good", good=1300),
            self.oee("ob:rejected", rejected=60),
            self.oee("ob:design", design_speed=0),
            self.oee("ob:run", run_min=500),
            self.oee("ob:neg", downtime_min=-1),
            self.oee("ob:units", produced=12.5),
            self.oee("ob:missing", actual_speed=None),
        ]
        reply = self.api.ingest([*bad, self.oee("ob:good-one")])
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad) + ["accepted"])
        reasons = self.reasons(reply)
        self.assertIn("NOPE-3", reasons[0])
        self.assertIn("period_end", reasons[1])
        self.assertIn("data.good exceeds data.produced", reasons[2])
        self.assertIn("design_speed must be above 0", reasons[4])
        self.assertIn("run_min exceeds", reasons[5])
        self.assertIn("data.actual_speed is missing", reasons[8])


class TestDowntimeItems(TelemetryCommon):
    def stop(self, key, **data):
        values = {"machine": "FLX-T1", "reason": "FEEDER UNIT TROUBLE MEKANIK",
                  "start": "2026-11-22T08:10:00Z", "duration_min": 15}  # fmt: skip
        values.update(data)
        return self.item(key, "downtime_event", values)

    def test_reason_maps_to_the_component(self):
        reply = self.api.ingest([self.stop("d:1")])
        self.assertEqual(self.statuses(reply), ["accepted"])
        event = self.env["cmms.downtime.event"].search([("equipment_id", "=", self.machine.id)])
        self.assertEqual(
            event.reason_id,
            self.env.ref("cmms_telemetry.cmms_downtime_reason_feeder_unit_trouble_mekanik"),
        )
        self.assertEqual(event.component_code, "FEEDER")
        self.assertEqual(event.component_id, self.feeder)
        self.assertEqual(event.reason_category, "mechanical")
        self.assertEqual(str(event.end), "2026-11-22 08:25:00")

    def test_unknown_reason_is_registered_then_mapped(self):
        self.api.ingest([self.stop("d:2", reason="  printing   unit bocor tinta ")])
        event = self.env["cmms.downtime.event"].search([("equipment_id", "=", self.machine.id)])
        self.assertEqual(event.reason_id.code, "PRINTING UNIT BOCOR TINTA")
        self.assertFalse(event.component_id)
        # A manager maps the new code: past events follow.
        event.reason_id.with_user(self.manager).component_code = "PRINTING"
        self.assertEqual(event.component_code, "PRINTING")
        self.assertEqual(event.component_id, self.printing)
        # The same code again reuses the reason.
        self.api.ingest([self.stop("d:3", reason="PRINTING UNIT BOCOR TINTA")])
        self.assertEqual(
            self.env["cmms.downtime.reason"].search_count(
                [("code", "=", "PRINTING UNIT BOCOR TINTA")]
            ),
            1,
        )

    def test_reported_component_wins_and_start_defaults_to_ts(self):
        self.api.ingest([
            self.stop("d:4", component="PRINTING", start=None),
            self.stop("d:5", component="FLX-T1-PR", reason="LISTRIK PADAM"),
        ])  # fmt: skip
        events = self.env["cmms.downtime.event"].search(
            [("equipment_id", "=", self.machine.id)], order="id"
        )
        self.assertEqual(events.mapped("component_id"), self.printing)
        self.assertEqual(events[0].component_code, "PRINTING")
        self.assertEqual(str(events[0].start), "2026-11-22 08:00:00")
        self.assertEqual(events[1].component_code, "PRINTING")

    def test_bad_stops_are_rejected(self):
        bad = [
            self.stop("db:dur", duration_min=0),
            self.stop("db:long", duration_min=20000),
            self.stop("db:reason", reason=""),
            self.stop("db:machine", machine="NOPE-4"),
            self.stop("db:component", component="NOPE-5"),
            self.stop("db:start", start="later"),
        ]
        reply = self.api.ingest([*bad, self.stop("db:good")])
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad) + ["accepted"])
        self.assertIn("data.reason is missing", reply["results"][2]["reason"])
        self.assertIn("NOPE-5", reply["results"][4]["reason"])

    def test_stops_merge_with_the_machine_status(self):
        # The operator reports the line down 08:00, maintenance releases it
        # 08:20; the connector's stop 08:10 + 15 min overlaps: 25 min net.
        with freeze_time("2026-11-22 08:00:00"):
            self.machine.with_user(self.operator).action_machine_down()
        with freeze_time("2026-11-22 08:20:00"):
            self.machine.with_user(self.technician).action_machine_running()
        reply = self.api.ingest([self.stop("d:merge")])
        self.assertEqual(self.statuses(reply), ["accepted"])
        Event = self.env["cmms.downtime.event"]
        self.assertEqual(
            sorted(Event.search([("equipment_id", "=", self.machine.id)]).mapped("source")),
            ["connector", "status"],
        )
        minutes = Event._net_downtime_minutes(
            "2026-11-22 00:00:00", "2026-11-23 00:00:00", equipment_ids=self.machine.ids
        )
        self.assertEqual(minutes, {self.machine.id: 25.0})


class TestPredictionItems(TelemetryCommon):
    def test_predictive_work_order_carries_the_predicted_duration(self):
        self.api.ingest([
            self.item("pd:1", "prediction", {
                "tag": "FLX-T1-PR", "inputs": {"shift_produced": 60000},
                "predicted_hours": 2.75, "model_version": "rf-1"}),
            self.item("pd:2", "health_snapshot", {"tag": "FLX-T1-PR", "score": 30}),
        ])  # fmt: skip
        alert = self.printing.alert_ids
        self.assertEqual(alert.alert_type, "health_degraded")
        request = alert.request_id
        self.assertEqual(request.maintenance_type, "predictive")
        self.assertEqual(request.duration, 2.75)
        self.assertEqual(request.source, "alert")

    def test_prediction_is_stored_with_its_inputs(self):
        reply = self.api.ingest([
            self.item("pr:1", "prediction", {
                "tag": "FLX-T1-PR", "inputs": {"total_produksi": 4500, "produk_cacat": 180},
                "predicted_hours": 2.35, "model_version": "rf-2025.10",
                "recommendation": "Prepare the maintenance team."}),
        ])  # fmt: skip
        self.assertEqual(self.statuses(reply), ["accepted"])
        prediction = self.env["cmms.prediction"].search([("equipment_id", "=", self.printing.id)])
        self.assertEqual(prediction.predicted_hours, 2.35)
        self.assertEqual(prediction.inputs, {"total_produksi": 4500, "produk_cacat": 180})
        self.assertEqual(prediction.model_version, "rf-2025.10")
        self.assertEqual(str(prediction.predicted_at), "2026-11-22 08:00:00")
        self.assertIn("total_produksi", prediction.with_user(self.operator).inputs_display)

    def test_bad_predictions_are_rejected(self):
        good = {"tag": "FLX-T1-PR", "inputs": {"a": 1}, "predicted_hours": 1,
                "model_version": "v1"}  # fmt: skip
        bad = [
            {**good, "predicted_hours": -100},
            {**good, "inputs": None},
            {**good, "inputs": [1, 2]},
            {**good, "inputs": {"x": "y" * 20000}},
            {**good, "model_version": 3},
            {**good, "tag": "NOPE-6"},
        ]
        reply = self.api.ingest(
            [self.item(f"pb:{n}", "prediction", data) for n, data in enumerate(bad)]
            + [self.item("pb:good", "prediction", good)]
        )
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad) + ["accepted"])
        self.assertIn("predicted_hours", reply["results"][0]["reason"])
        self.assertIn("data.inputs is missing", reply["results"][1]["reason"])


class TestModelVersionItems(TelemetryCommon):
    def version(self, key, version, active=None, **data):
        values = {"tag": "PT-T01", "version": version, "trained_at": "2026-11-20T10:00:00Z",
                  "trained_by": "admin", "windows_used": 600, "contamination": 0.05,
                  "feature_set_version": "f10", "metrics": {"score_p95": 0.41}}  # fmt: skip
        if active is not None:
            values["active"] = active
        values.update(data)
        return self.item(key, "model_version", values)

    def active_in_config(self):
        config = self.api.get_connector_config()
        by_tag = {s["tag"]: s for s in config["sensors"]}
        return by_tag["PT-T01"]["model_version"], config["version"]

    def test_activation_rollback_and_config(self):
        self.assertIs(self.active_in_config()[0], False)
        self.api.ingest([self.version("m:1", "1", active=True)])
        model, stamp1 = self.active_in_config()
        self.assertEqual(model["version"], "1")
        self.assertEqual(model["feature_set_version"], "f10")
        self.assertEqual(model["contamination"], 0.05)
        self.assertEqual(model["trained_at"], "2026-11-20 10:00:00")
        self.api.ingest([self.version("m:2", "2", active=True, trained_at="2026-11-21T10:00:00Z")])
        versions = self.env["cmms.model.version"].search([("sensor_id", "=", self.sensor.id)])
        self.assertEqual(versions.filtered("is_active").mapped("version"), ["2"])
        model, stamp2 = self.active_in_config()
        self.assertEqual(model["version"], "2")
        self.assertNotEqual(stamp1, stamp2)
        # Rollback: the connector activates the older version again.
        self.api.ingest([self.version("m:3", "1", active=True)])
        self.assertEqual(versions.filtered("is_active").mapped("version"), ["1"])
        model, stamp3 = self.active_in_config()
        self.assertEqual(model["version"], "1")
        self.assertNotEqual(stamp2, stamp3)
        self.assertEqual(self.sensor.active_model_version_id.version, "1")
        self.assertEqual(len(versions), 2, "previous versions are kept")

    def test_manager_rolls_back_by_hand(self):
        self.api.ingest(
            [self.version("mm:1", "1", active=True), self.version("mm:2", "2", active=True)]
        )
        old = self.env["cmms.model.version"].search(
            [("sensor_id", "=", self.sensor.id), ("version", "=", "1")]
        )
        with self.assertRaises(AccessError):
            old.with_user(self.technician).action_activate()
        with self.assertRaises(AccessError):
            old.with_user(self.supervisor).action_activate()
        old.with_user(self.manager).action_activate()
        self.assertTrue(old.is_active)
        self.assertTrue(old.activated_at)
        self.assertEqual(self.active_in_config()[0]["version"], "1")

    def test_inactive_registration_and_metadata_update(self):
        self.api.ingest([self.version("mi:1", "7")])
        model = self.env["cmms.model.version"].search([("sensor_id", "=", self.sensor.id)])
        self.assertFalse(model.is_active)
        self.assertEqual(model.metrics, {"score_p95": 0.41})
        self.api.ingest([self.version("mi:2", "7", windows_used=700, active=True)])
        self.assertEqual(model.windows_used, 700)
        self.assertTrue(model.is_active)
        self.api.ingest([self.version("mi:3", "7", active=False)])
        self.assertFalse(model.is_active)
        self.assertIs(self.active_in_config()[0], False)

    def test_bad_versions_are_rejected(self):
        bad = [
            self.version("mb:1", "1", contamination=0.7),
            self.version("mb:2", "1", contamination=0),
            self.version("mb:3", "1", windows_used=-1),
            self.version("mb:4", "1", active="yes"),
            self.version("mb:5", "1", trained_at="soon"),
            self.version("mb:6", "1", tag="NOPE-7"),
            self.version("mb:7", "1", metrics="good"),
            self.version("mb:8", ""),
        ]
        reply = self.api.ingest(bad)
        self.assertEqual(self.statuses(reply), ["rejected"] * len(bad))
        self.assertIn("contamination", reply["results"][0]["reason"])
        self.assertIn("data.active must be true or false", reply["results"][3]["reason"])
        self.assertIn("no sensor", reply["results"][5]["reason"])
        self.assertFalse(
            self.env["cmms.model.version"].search([("sensor_id", "=", self.sensor.id)])
        )


class TestMixedBatch(TelemetryCommon):
    def test_every_type_in_one_batch_and_replay(self):
        batch = [
            self.item("mx:agg", "reading_agg", {"tag": "PT-T01",
                      "period_start": "2026-11-22T08:00:00Z",
                      "min": 1, "max": 2, "mean": 1.5, "last": 2, "count": 3}),
            self.item("mx:health", "health_snapshot", {"tag": "FLX-T1-PR", "score": 88}),
            self.item("mx:oee", "oee_record", {"machine": "FLX-T1",
                      "period_start": "2026-11-22T06:00:00Z", "period_end": "2026-11-22T07:00:00Z",
                      "run_min": 50, "downtime_min": 10, "produced": 100, "good": 90,
                      "design_speed": 2, "actual_speed": 2}),
            self.item("mx:stop", "downtime_event", {"machine": "FLX-T1", "reason": "GANTI ROLL",
                      "duration_min": 10}),
            self.item("mx:bad", "downtime_event", {"machine": "FLX-T1", "reason": "GANTI ROLL"}),
            self.item("mx:pred", "prediction", {"tag": "FLX-T1", "inputs": {}, "predicted_hours": 1,
                      "model_version": "v1"}),
            self.item("mx:model", "model_version", {"tag": "PT-T01", "version": "1",
                      "trained_at": "2026-11-22T07:00:00Z"}),
        ]  # fmt: skip
        reply = self.api.ingest(batch)
        self.assertEqual(self.statuses(reply), ["accepted"] * 4 + ["rejected"] + ["accepted"] * 2)
        self.assertIn("duration_min", reply["results"][4]["reason"])
        keys = self.env["cmms.ingest.key"].search([("key", "=like", "mx:%")])
        self.assertEqual(len(keys), 6)
        self.assertEqual(
            set(keys.mapped("res_model")),
            {"cmms.reading", "cmms.health.snapshot", "cmms.oee.record", "cmms.downtime.event",
             "cmms.prediction", "cmms.model.version"},
        )  # fmt: skip
        counts = {
            model: self.env[model].search_count([])
            for model in ("cmms.reading", "cmms.health.snapshot", "cmms.oee.record",
                          "cmms.downtime.event", "cmms.prediction", "cmms.model.version")
        }  # fmt: skip
        replay = self.api.ingest(batch)
        self.assertEqual(
            self.statuses(replay), ["duplicate"] * 4 + ["rejected"] + ["duplicate"] * 2
        )
        self.assertEqual({model: self.env[model].search_count([]) for model in counts}, counts)

    def test_only_the_connector_writes_telemetry_data(self):
        for user in (self.operator, self.technician, self.supervisor, self.manager):
            with self.assertRaises(AccessError):
                self.env["cmms.telemetry.api"].with_user(user).ingest(
                    [self.item("deny", "health_snapshot", {"tag": "FLX-T1", "score": 10})]
                )
            for model in ("cmms.reading", "cmms.health.snapshot", "cmms.prediction",
                          "cmms.model.version"):  # fmt: skip
                with self.assertRaises(AccessError):
                    self.env[model].with_user(user).create({})
