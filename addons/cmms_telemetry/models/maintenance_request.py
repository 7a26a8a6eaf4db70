# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    alert_id = fields.Many2one(
        "cmms.alert",
        "Originating alert",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
    )
    cmms_done_at = fields.Datetime(
        "Completed at",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="When the work order was completed; opens the alert suppression window of its "
        "equipment.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        requests = super().create(vals_list)
        requests._stamp_done_at()
        return requests

    def write(self, vals):
        res = super().write(vals)
        if {"stage_id", "cmms_state", "completed_at"} & set(vals):
            self._stamp_done_at()
        return res

    def _cmms_completion(self):
        """When the work order was completed, or False while it is not.

        With the CMMS work-order lifecycle, a work order is completed once
        its technician marks it done (then verified and closed); without
        it, when it reaches a done stage.
        """
        self.ensure_one()
        if "cmms_state" in self._fields:
            if self.cmms_state not in ("done", "closed"):
                return False
            completed_at = "completed_at" in self._fields and self["completed_at"]
            return completed_at or self.cmms_done_at or fields.Datetime.now()
        return self.stage_id.done and (self.cmms_done_at or fields.Datetime.now())

    def _stamp_done_at(self):
        for request in self.sudo():
            done_at = request._cmms_completion()
            if done_at != request.cmms_done_at:
                request.cmms_done_at = done_at

    def action_request_repair_prediction(self):
        """Ask the connector how long the repair of this work order's component takes."""
        self.ensure_one()
        self.check_access("read")
        return self.env["cmms.connector.job"]._request_action(
            "predict_duration", request_id=self.id, equipment_id=self.equipment_id.id
        )
