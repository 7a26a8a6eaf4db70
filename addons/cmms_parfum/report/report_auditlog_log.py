# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class ReportAuditlogLog(models.AbstractModel):
    """The audit trail as a document: one section per record, oldest first."""

    _name = "report.cmms_parfum.report_auditlog_log"
    _description = "Audit trail report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        logs = self.env["auditlog.log"].browse(docids or data.get("log_ids") or [])
        logs = logs.sorted(lambda log: (log.model_name or "", log.res_id, log.create_date, log.id))
        sections = []
        for log in logs:
            key = (log.model_model, log.res_id)
            if not sections or sections[-1]["key"] != key:
                sections.append(
                    {"key": key, "model": log.model_name, "res_id": log.res_id, "logs": []}
                )
            sections[-1]["logs"].append(log)
        for section in sections:
            # The newest name of the record (its name may have changed, or it is deleted).
            section["name"] = section["logs"][-1].name
        dates = logs.mapped("create_date")
        return {
            "doc_ids": logs.ids,
            "doc_model": "auditlog.log",
            "docs": logs,
            "sections": sections,
            "date_from": fields.Date.to_date(data.get("date_from"))
            or (dates and fields.Date.to_date(min(dates))),
            "date_to": fields.Date.to_date(data.get("date_to"))
            or (dates and fields.Date.to_date(max(dates))),
            "printed_by": self.env.user,
        }
