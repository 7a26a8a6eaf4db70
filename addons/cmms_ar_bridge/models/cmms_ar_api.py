# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The API of AR glasses and other hands-free clients.

Called over Odoo's external API (XML-RPC ``execute_kw`` or JSON-RPC) with
the user's own API key. Every method runs as that user, so record rules
decide what is answered: a technician gets their own tasks only.
"""

from odoo import api, models
from odoo.exceptions import UserError

TASK_FIELDS = (
    "name",
    "equipment_id",
    "equipment_tag",
    "cmms_priority",
    "stage_id",
    "schedule_date",
    "maintenance_type",
    "source",
)


class CmmsArApi(models.AbstractModel):
    _name = "cmms.ar.api"
    _description = "AR glasses API"

    @api.model
    def _task_dict(self, request):
        return {
            "id": request.id,
            "name": request.name,
            "equipment": request.equipment_id.display_name or "",
            "equipment_id": request.equipment_id.id or False,
            "tag": request.equipment_tag or "",
            "priority": request.cmms_priority,
            "stage": request.stage_id.name or "",
            "done": bool(request.stage_id.done),
            "scheduled": request.schedule_date and request.schedule_date.isoformat() or False,
            "type": request.maintenance_type,
            "source": request.source,
        }

    @api.model
    def my_tasks(self, include_done=False):
        """The open work orders assigned to the calling user, most urgent first."""
        domain = [("user_id", "=", self.env.uid)]
        if not include_done:
            domain.append(("stage_id.done", "=", False))
        requests = self.env["maintenance.request"].search(domain)
        order = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
        requests = requests.sorted(
            lambda r: (order.get(r.cmms_priority, 9), r.schedule_date or r.create_date, r.id)
        )
        return [self._task_dict(r) for r in requests]

    @api.model
    def lookup_equipment(self, tag):
        """Equipment by plant tag (a scanned QR code holds the tag)."""
        if not isinstance(tag, str) or not tag.strip():
            raise UserError(self.env._("Give the equipment tag to look up."))
        equipment = self.env["maintenance.equipment"].search(
            [("cmms_tag", "=ilike", tag.strip())], limit=1
        )
        if not equipment:
            return False
        alerts = equipment.alert_ids.filtered(lambda a: a.state != "resolved")
        return {
            "id": equipment.id,
            "tag": equipment.cmms_tag,
            "name": equipment.name,
            "criticality": equipment.criticality,
            "location": equipment.location or equipment.process_area or "",
            "open_alerts": [
                {"type": a.alert_type, "severity": a.severity, "message": a.message or ""}
                for a in alerts
            ],
        }
