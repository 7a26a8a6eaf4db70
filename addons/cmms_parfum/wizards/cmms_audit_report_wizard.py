# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class CmmsAuditReportWizard(models.TransientModel):
    """The audit trail of a period, optionally of some models or one record."""

    _name = "cmms.audit.report.wizard"
    _description = "Audit report"

    date_from = fields.Date(
        "From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date("To", required=True, default=fields.Date.context_today)
    audited_model_ids = fields.Many2many("ir.model", compute="_compute_audited_model_ids")
    model_ids = fields.Many2many(
        "ir.model",
        string="Models",
        domain="[('id', 'in', audited_model_ids)]",
        help="Empty: every audited model.",
    )
    record_ref = fields.Reference(
        selection="_selection_record_ref",
        string="Record",
        help="Only the audit trail of this record.",
    )
    user_id = fields.Many2one("res.users", "By", help="Only what this user did.")

    @api.model
    def _audited_models(self):
        rules = self.env["auditlog.rule"].sudo().search([("state", "=", "subscribed")])
        return rules.model_id

    @api.model
    def _selection_record_ref(self):
        return [(model.model, model.name) for model in self._audited_models()]

    def _compute_audited_model_ids(self):
        for wizard in self:
            wizard.audited_model_ids = self._audited_models()

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_to < wizard.date_from:
                raise ValidationError(self.env._("The period ends before it starts."))

    def _log_domain(self):
        self.ensure_one()
        tz = pytz.timezone(self.env.user.tz or "UTC")

        def utc(day):
            moment = tz.localize(datetime.combine(day, time.min))
            return moment.astimezone(pytz.utc).replace(tzinfo=None)

        domain = [
            ("create_date", ">=", utc(self.date_from)),
            ("create_date", "<", utc(self.date_to + timedelta(days=1))),
        ]
        if self.record_ref:
            domain += [
                ("model_model", "=", self.record_ref._name),
                ("res_id", "=", self.record_ref.id),
            ]
        elif self.model_ids:
            domain.append(("model_id", "in", self.model_ids.ids))
        if self.user_id:
            domain.append(("user_id", "=", self.user_id.id))
        return domain

    def action_print(self):
        self.ensure_one()
        logs = self.env["auditlog.log"].search(self._log_domain())
        if not logs:
            raise UserError(self.env._("Nothing was logged for this selection."))
        return self.env.ref("cmms_parfum.auditlog_log_report").report_action(
            None,
            data={
                "log_ids": logs.ids,
                "date_from": fields.Date.to_string(self.date_from),
                "date_to": fields.Date.to_string(self.date_to),
            },
        )

    def action_open_lines(self):
        """The changed values of the selection, as a list to filter and export."""
        self.ensure_one()
        logs = self.env["auditlog.log"].search(self._log_domain())
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cmms_parfum.auditlog_log_line_view_action"
        )
        action["domain"] = [("log_id", "in", logs.ids)]
        return action
