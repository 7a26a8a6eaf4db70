# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CmmsIngestKey(models.Model):
    """Idempotency keys of the items the connector pushed.

    The database holds each key once: an item whose key is here was
    already applied, and applying it again changes nothing.
    """

    _name = "cmms.ingest.key"
    _description = "Telemetry ingestion key"
    _order = "id desc"
    _log_access = False

    key = fields.Char(required=True, index=False)
    item_type = fields.Char(required=True)
    received_at = fields.Datetime(required=True, default=fields.Datetime.now)
    alert_id = fields.Many2one("cmms.alert", ondelete="set null", index="btree_not_null")
    res_model = fields.Char("Record model")
    res_id = fields.Many2oneReference("Record", model_field="res_model")

    _sql_constraints = [
        ("key_uniq", "unique(key)", "An ingestion key is applied once."),
    ]
