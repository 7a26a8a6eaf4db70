# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from odoo.addons.cmms_parfum.models.maintenance_equipment import CRITICALITY
from odoo.addons.cmms_parfum.models.maintenance_request import PRIORITIES

SEVERITIES = [
    ("advisory", "Advisory"),
    ("warning", "Warning"),
    ("critical", "Critical"),
]
SEVERITY_RANK = {"advisory": 0, "warning": 1, "critical": 2}


class CmmsAlertPolicy(models.Model):
    """Which alerts open a work order, by severity x equipment criticality."""

    _name = "cmms.alert.policy"
    _description = "Alert to work-order policy"
    _order = "severity desc, criticality desc"

    severity = fields.Selection(SEVERITIES, required=True)
    criticality = fields.Selection(CRITICALITY, "Equipment criticality", required=True)
    create_request = fields.Boolean("Open a work order", default=True)
    request_priority = fields.Selection(PRIORITIES, default="high", required=True)
    approve_request = fields.Boolean(
        "Approve at once",
        help="The work order is approved when it opens, scheduled now and assigned to the "
        "equipment's technician, so that a breakdown does not wait for a planner: it is in "
        "the technician's tasks and on the AR glasses at once.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "severity_criticality_uniq",
            "unique(severity, criticality)",
            "There is already a policy for this severity and criticality.",
        ),
    ]

    @api.depends("severity", "criticality")
    def _compute_display_name(self):
        sev = dict(self._fields["severity"]._description_selection(self.env))
        crit = dict(self._fields["criticality"]._description_selection(self.env))
        for policy in self:
            policy.display_name = f"{sev.get(policy.severity)} x {crit.get(policy.criticality)}"

    @api.model
    def _for(self, severity, criticality):
        """The policy that applies, or an empty recordset."""
        return self.search(
            [("severity", "=", severity), ("criticality", "=", criticality)], limit=1
        )
