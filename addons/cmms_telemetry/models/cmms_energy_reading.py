# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from . import ingest_validation as ingest

MAX_ENERGY_PERIOD_S = 31 * 24 * 3600.0


class CmmsEnergyReading(models.Model):
    """The connector's energy items (``cmms_parfum`` owns the readings)."""

    _inherit = "cmms.energy.reading"

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_energy(self, ts, data, batch):
        """Apply one ``energy`` item: the reading of its machine and period,
        written or created (a period reported again under a new key replaces
        it, the newest wins); a reading a supervisor archived stays archived."""
        machine = batch.equipment(ingest.text(data, "machine"), "machine")
        start, end = ingest.time(data, "period_start"), ingest.time(data, "period_end")
        if end <= start:
            raise ingest.ItemRejected("data.period_end must be after data.period_start")
        if (end - start).total_seconds() > MAX_ENERGY_PERIOD_S:
            raise ingest.ItemRejected(
                "data.period_end is more than 31 days after data.period_start"
            )
        vals = {
            "equipment_id": machine.id,
            "period_start": start,
            "period_end": end,
            "kwh": ingest.number(data, "kwh", minimum=0),
            "produced_units": ingest.number(
                data, "produced", integer=True, minimum=0, maximum=2**31 - 1, required=False
            )
            or 0,
            "source": "connector",
        }
        Reading = self.sudo().with_context(active_test=False)
        reading = Reading.search(
            [
                ("equipment_id", "=", vals["equipment_id"]),
                ("period_start", "=", vals["period_start"]),
                ("period_end", "=", vals["period_end"]),
            ],
            limit=1,
        )
        if reading:
            reading.write(vals)
            return reading, None
        return Reading.create(vals), None
