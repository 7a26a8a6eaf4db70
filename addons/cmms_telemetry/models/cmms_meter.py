# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from . import ingest_validation as ingest


class CmmsMeter(models.Model):
    """The connector's meter readings (``cmms_parfum`` owns the meters)."""

    _inherit = "cmms.meter"

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_meter_reading(self, ts, data, batch):
        """Apply one ``meter_reading`` item; the reply carries the meter's value and total."""
        machine = batch.equipment(ingest.text(data, "machine"), "machine")
        code = ingest.text(data, "meter", max_length=64)
        meter = self.sudo().search(
            [("equipment_id", "=", machine.id), ("code", "=", code)], limit=1
        )
        if not meter:
            raise ingest.ItemRejected(f"no meter {code!r} on data.machine {data['machine']!r}")
        value = ingest.number(data, "value", required=False, minimum=0)
        increment = ingest.number(data, "increment", required=False, minimum=0)
        if (value is None) == (increment is None):
            raise ingest.ItemRejected("give data.value or data.increment, not both")
        # A meter going backwards is refused (ValidationError: rejected).
        reading = meter._cmms_add_reading(ts, value=value, increment=increment, source="connector")
        return reading, {"value": meter.value, "total": meter.total_value}
