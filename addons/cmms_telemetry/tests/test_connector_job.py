# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form

from .common import TelemetryCommon

START = datetime(2026, 11, 22, 8, 0)


class TestConnectorJob(TelemetryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Job = cls.env["cmms.connector.job"]
        cls.env["cmms.oee.record"].create(
            {
                "equipment_id": cls.machine.id,
                "period_start": START - timedelta(hours=8),
                "period_end": START,
                "run_min": 450,
                "downtime_min": 30,
                "produced": 70000,
                "good": 68000,
                "rejected": 2000,
                "design_speed": 250,
                "actual_speed": 200,
            }
        )

    def prediction_job(self, user=None, **vals):
        Job = self.Job.with_user(user or self.supervisor)
        return Job.create(
            {
                "job_type": "predict_duration",
                "equipment_id": self.machine.id,
                "component_id": self.printing.id,
                "produced": 70000,
                "rejected": 2000,
                **vals,
            }
        )

    def training_job(self, user=None, **vals):
        return self.Job.with_user(user or self.manager).create(
            {
                "job_type": "train_isolation",
                "sensor_id": self.sensor.id,
                "period_start": START,
                "period_end": START + timedelta(hours=2),
                **vals,
            }
        )

    def update(self, key, job, state, attempt=1, **data):
        return self.api.ingest(
            [
                self.item(
                    key,
                    "job_update",
                    {"job_id": job.id, "state": state, "attempt": attempt, **data},
                )
            ]  # fmt: skip
        )

    # -- requests and rights -----------------------------------------------

    def test_prediction_dialog_is_prefilled_from_the_latest_records(self):
        action = self.feeder.with_user(self.supervisor).action_request_repair_prediction()
        form = Form(self.Job.with_user(self.supervisor).with_context(**action["context"]))
        self.assertEqual(form.equipment_id, self.machine)
        self.assertEqual(form.component_id, self.feeder)
        self.assertEqual((form.produced, form.rejected), (70000, 2000))
        form.rejected = 2500  # editable
        job = form.save()
        follow = job.with_user(self.supervisor).action_submit()
        self.assertEqual((follow["res_id"], follow["target"]), (job.id, "current"))
        self.assertEqual((job.state, job.rejected), ("queued", 2500))
        self.assertEqual(job.requested_by_id, self.supervisor)

    def test_prediction_from_a_work_order(self):
        request = self.env["maintenance.request"].create(
            {"name": "Printing unit stops", "equipment_id": self.printing.id}
        )
        action = request.with_user(self.manager).action_request_repair_prediction()
        form = Form(self.Job.with_user(self.manager).with_context(**action["context"]))
        self.assertEqual((form.equipment_id, form.component_id), (self.machine, self.printing))
        self.assertEqual(form.request_id, request)
        self.assertEqual(form.save().produced, 70000)

    def test_prediction_input_checks(self):
        for vals in ({"produced": 0}, {"produced": -100}, {"rejected": -1},
                     {"rejected": 80000}, {"component_id": False}):  # fmt: skip
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self.prediction_job(**vals)
        self.assertFalse(self.Job.search([]))

    def test_training_input_checks(self):
        for vals in (
            {"period_end": START},
            {"period_end": START + timedelta(days=40)},
            {"contamination": 0.6},
            {"window": 1},
            {"sensor_id": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self.training_job(**vals)
        self.assertFalse(self.Job.search([]))

    def test_who_may_request_what(self):
        self.assertTrue(self.prediction_job(self.supervisor))
        self.assertTrue(self.prediction_job(self.manager))
        for user in (self.technician, self.operator, self.connector):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.prediction_job(user)
            with self.assertRaises(AccessError):
                self.machine.with_user(user).action_request_repair_prediction()
        self.assertTrue(self.training_job(self.manager))
        for user in (self.supervisor, self.technician, self.operator, self.connector):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.training_job(user)
        with self.assertRaises(AccessError):
            self.sensor.with_user(self.supervisor).action_train_anomaly_model()
        action = self.sensor.with_user(self.manager).action_train_anomaly_model()
        self.assertEqual(action["context"]["default_sensor_id"], self.sensor.id)

    def test_the_state_is_the_connectors(self):
        job = self.prediction_job()
        with self.assertRaises(AccessError):
            job.with_user(self.supervisor).write({"state": "done"})
        job.with_user(self.supervisor).action_cancel()
        self.assertEqual(job.state, "cancelled")
        with self.assertRaises(UserError):
            job.with_user(self.supervisor).action_cancel()
        with self.assertRaises(UserError):
            job.with_user(self.supervisor).write({"produced": 1})
        # A technician cannot even read it.
        with self.assertRaises(AccessError):
            job.with_user(self.technician).read(["state"])

    # -- the connector's side -----------------------------------------------

    def test_only_the_connector_claims(self):
        self.prediction_job()
        for user in (self.technician, self.supervisor, self.manager):
            with self.assertRaises(AccessError):
                self.env["cmms.telemetry.api"].with_user(user).claim_jobs("c1")
        with self.assertRaises(AccessError):
            self.Job.with_user(self.connector).search([])
        with self.assertRaises(UserError):
            self.api.claim_jobs("")
        with self.assertRaises(UserError):
            self.api.claim_jobs("c1", running=["x"])

    def test_claim_lease_and_restart(self):
        job = self.prediction_job()
        [spec] = self.api.claim_jobs("c1")
        self.assertEqual(
            spec,
            {"job_id": job.id, "key": f"job:{job.id}", "type": "predict_duration", "attempt": 1,
             "tag": "FLX-T1-PR", "component": "PRINTING", "produced": 70000, "reject": 2000},
        )  # fmt: skip
        self.assertEqual((job.state, job.claimed_by, job.attempt), ("running", "c1", 1))
        # Another connector gets nothing while the lease holds; c1 renews it.
        self.assertEqual(self.api.claim_jobs("c2"), [])
        self.assertEqual(self.api.claim_jobs("c1", running=[job.id]), [])
        self.assertEqual(job.attempt, 1)
        # c1 restarted: it no longer lists the job, so it gets it again.
        [again] = self.api.claim_jobs("c1")
        self.assertEqual((again["attempt"], job.attempt), (2, 2))
        # c1 died for good: once the lease ran out, c2 takes over.
        job.sudo().lease_until = fields.Datetime.now() - timedelta(seconds=1)
        [taken] = self.api.claim_jobs("c2")
        self.assertEqual((taken["attempt"], job.claimed_by), (3, "c2"))
        # A job claimed too often is given up.
        job.sudo().lease_until = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.api.claim_jobs("c2"), [])
        self.assertEqual(job.state, "failed")
        self.assertIn("3 attempts", job.error)

    def test_training_spec(self):
        job = self.training_job(contamination=0.05, window=30)
        [spec] = self.api.claim_jobs("c1")
        self.assertEqual(spec["tag"], "PT-T01")
        self.assertEqual(
            (spec["period_start"], spec["period_end"]), ("2026-11-22T08:00:00Z",
                                                         "2026-11-22T10:00:00Z")
        )  # fmt: skip
        self.assertEqual(
            (spec["window"], spec["contamination"], spec["activate"]), (30, 0.05, True)
        )
        self.assertEqual(spec["trained_by"], self.manager.login)
        self.assertEqual(job.state, "running")

    def test_prediction_done_once(self):
        request = self.env["maintenance.request"].create(
            {"name": "Printing unit stops", "equipment_id": self.printing.id}
        )
        job = self.prediction_job(request_id=request.id)
        self.api.claim_jobs("c1")
        reply = self.update(f"job:{job.id}:1:p50", job, "running", progress=50, message="model")
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual((job.progress, job.progress_note), (50, "model"))
        prediction = {
            "tag": "FLX-T1-PR",
            "component": "PRINTING",
            "inputs": {"component": "PRINTING", "shift_produced": 70000, "shift_reject": 2000},
            "predicted_hours": 2.35,
            "model_version": "repair_duration/1",
        }
        done = {"progress": 100, "prediction": prediction, "result": {"predicted_hours": 2.35}}
        reply = self.update(f"job:{job.id}:result", job, "done", **done)
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(job.state, "done")
        self.assertEqual(job.prediction_id.predicted_hours, 2.35)
        self.assertEqual(job.prediction_id.equipment_id, self.printing)
        self.assertEqual(job.predicted_hours, 2.35)
        self.assertIn("2.35", request.message_ids[0].body)
        # The same outcome again (a restarted connector): a duplicate.
        reply = self.update(f"job:{job.id}:result", job, "done", **done)
        self.assertEqual(self.statuses(reply), ["duplicate"])
        # A late progress item of an older attempt changes nothing.
        reply = self.update(f"job:{job.id}:1:p90", job, "running", progress=90)
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(reply["results"][0]["computed"]["ignored"], "the job has ended")
        self.assertEqual((job.state, job.progress), ("done", 100))
        predictions = self.env["cmms.prediction"].search([("equipment_id", "=", self.printing.id)])
        self.assertEqual(predictions, job.prediction_id)

    def test_training_done_and_failed(self):
        job = self.training_job()
        self.api.claim_jobs("c1")
        version = {
            "tag": "PT-T01",
            "version": "4",
            "trained_at": "2026-11-22T11:00:00Z",
            "trained_by": self.manager.login,
            "windows_used": 7141,
            "contamination": 0.01,
            "feature_set_version": "f1",
            "metrics": {"threshold": 0.61},
            "active": True,
        }
        reply = self.update(f"job:{job.id}:result", job, "done", model_version=version)
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual(job.model_version_id.version, "4")
        self.assertTrue(job.model_version_id.is_active)
        self.assertEqual(self.sensor.active_model_version_id, job.model_version_id)

        other = self.training_job()
        self.api.claim_jobs("c1")
        wrong = {**version, "tag": "LT-T02"}
        reply = self.update(f"job:{other.id}:result", other, "done", model_version=wrong)
        self.assertEqual(self.statuses(reply), ["rejected"])
        reply = self.update(f"job:{other.id}:result", other, "failed")
        self.assertEqual(self.statuses(reply), ["rejected"])
        self.assertIn("data.error", self.reasons(reply)[0])
        reply = self.update(
            f"job:{other.id}:result", other, "failed", error="no good readings of PT-T01"
        )
        self.assertEqual(self.statuses(reply), ["accepted"])
        self.assertEqual((other.state, other.error), ("failed", "no good readings of PT-T01"))
        self.assertFalse(other.model_version_id)

    def test_bad_job_updates(self):
        job = self.prediction_job()
        predictions = self.env["cmms.prediction"].search([])
        for data in ({"job_id": 999999, "state": "done", "attempt": 1},
                     {"job_id": job.id, "state": "queued", "attempt": 1},
                     {"job_id": job.id, "state": "running"},
                     {"job_id": job.id, "state": "running", "attempt": 1, "progress": 120},
                     {"job_id": job.id, "state": "done", "attempt": 1}):  # fmt: skip
            with self.subTest(data=data):
                reply = self.api.ingest([self.item(f"bad:{data}", "job_update", data)])
                self.assertEqual(self.statuses(reply), ["rejected"])
        self.assertEqual(job.state, "queued")
        self.assertEqual(self.env["cmms.prediction"].search([]), predictions)

    def test_views_open_for_who_may_ask(self):
        self.prediction_job()
        for user in (self.supervisor, self.manager):
            Job = self.Job.with_user(user)
            views = Job.get_views([(False, "list"), (False, "form"), (False, "search")])
            self.assertEqual(set(views["views"]), {"list", "form", "search"})
            self.assertEqual(Job.web_search_read([], {"name": {}, "state": {}})["length"], 1)
