# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .cmms_oee_record import SOURCES


class CmmsDowntimeEvent(models.Model):
    """A stop of a machine, with its reason and the component it is blamed on."""

    _name = "cmms.downtime.event"
    _description = "Downtime event"
    _order = "start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment", "Machine", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="equipment_id.company_id", store=True)
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
    start = fields.Datetime(required=True, index=True)
    duration_min = fields.Float("Duration (min)", required=True, aggregator="sum")
    end = fields.Datetime(compute="_compute_end", store=True)
    source = fields.Selection(SOURCES, default="manual", required=True, readonly=True)
    note = fields.Text()

    @api.depends("equipment_id.cmms_tag", "equipment_id.name", "reason_id.code")
    def _compute_name(self):
        for event in self:
            tag = event.equipment_id.cmms_tag or event.equipment_id.name or ""
            reason = event.reason_id.code or ""
            event.name = f"{tag}: {reason}".strip(": ")

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

    @api.depends("start", "duration_min")
    def _compute_end(self):
        for event in self:
            event.end = event.start and event.start + timedelta(minutes=event.duration_min)

    @api.constrains("duration_min")
    def _check_duration(self):
        for event in self:
            if event.duration_min <= 0:
                raise ValidationError(
                    self.env._("%(name)s: a stop lasts more than zero minutes.", name=event.name)
                )
