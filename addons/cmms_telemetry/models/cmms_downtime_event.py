# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from . import ingest_validation as ingest
from .cmms_downtime_reason import normalize_code
from .telemetry_tools import COMPONENT_CODE_RE, MAX_DOWNTIME_MIN


class CmmsDowntimeEvent(models.Model):
    """A stop of a machine, with its reason and the component it is blamed on.

    The interval itself (machine, start, end, duration, source) is
    ``cmms_parfum``'s; the FLEXO stops pushed by the connector add their
    loss-time reason and component.
    """

    _inherit = "cmms.downtime.event"

    reason_id = fields.Many2one("cmms.downtime.reason", "Reason", index=True, ondelete="restrict")
    reason_category = fields.Selection(related="reason_id.category", store=True)
    component_code = fields.Char(
        "Component",
        compute="_compute_component_code",
        store=True,
        readonly=False,
        help="Taken from the reason's mapping unless reported or entered.",
    )
    component_id = fields.Many2one(
        "maintenance.equipment",
        "Component equipment",
        compute="_compute_component_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        ondelete="set null",
        domain="[('parent_id', '=', equipment_id)]",
    )

    @api.depends(
        "equipment_id.cmms_tag", "equipment_id.name", "source", "request_id.name", "reason_id.code"
    )
    def _compute_name(self):
        with_reason = self.filtered("reason_id")
        for event in with_reason:
            tag = event.equipment_id.cmms_tag or event.equipment_id.name or ""
            event.name = f"{tag}: {event.reason_id.code}".strip(": ")
        return super(CmmsDowntimeEvent, self - with_reason)._compute_name()

    @api.depends("reason_id.component_code")
    def _compute_component_code(self):
        for event in self:
            if event.reason_id.component_code:
                event.component_code = event.reason_id.component_code

    @api.depends("equipment_id", "component_code")
    def _compute_component_id(self):
        for event in self:
            if event.equipment_id and event.component_code:
                component = event.equipment_id._find_component(event.component_code)
                if component:
                    event.component_id = component

    # -- ingestion (cmms.telemetry.api) ------------------------------------------

    @api.model
    def _cmms_ingest_downtime_event(self, ts, data, batch):
        """Apply one ``downtime_event`` item (a FLEXO stop)."""
        machine = batch.equipment(ingest.text(data, "machine"), "machine")
        reason = normalize_code(ingest.text(data, "reason"))
        vals = {
            "equipment_id": machine.id,
            "reason_id": self.env["cmms.downtime.reason"].sudo()._for_code(reason).id,
            "start": ingest.time(data, "start", required=False, default=ts),
            "duration_min": ingest.number(data, "duration_min", above=0, maximum=MAX_DOWNTIME_MIN),
            "source": "connector",
        }
        component = ingest.text(data, "component", required=False, max_length=64)
        if component and COMPONENT_CODE_RE.match(component):
            vals["component_code"] = component
        elif component:
            equipment = batch.equipment(component, "component")
            vals["component_id"] = equipment.id
            vals["component_code"] = equipment.cmms_component_code or False
        return self.sudo().create(vals), None
