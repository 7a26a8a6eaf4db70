# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

MAINTENANCE_TYPES = [
    ("corrective", "Corrective"),
    ("preventive", "Preventive"),
    ("predictive", "Predictive"),
]


class CmmsStepTemplate(models.Model):
    """One instruction step of the work on a category of equipment.

    The steps of an equipment category (for one maintenance type, or for
    every type when the type is empty) are copied, in order, onto each work
    order created for equipment of that category.
    """

    _name = "cmms.step.template"
    _description = "Work order step template"
    _order = "category_id, maintenance_type, sequence, id"

    sequence = fields.Integer(default=10)
    name = fields.Char("Step", required=True, translate=True)
    instruction = fields.Text(translate=True)
    category_id = fields.Many2one(
        "maintenance.equipment.category",
        "Equipment category",
        required=True,
        index=True,
        ondelete="cascade",
    )
    maintenance_type = fields.Selection(
        MAINTENANCE_TYPES, help="Empty: the step belongs to work of every type."
    )
    expects_value = fields.Boolean(
        "Measured value", help="The technician records a value, checked against the tolerance."
    )
    expected_value = fields.Float()
    tolerance = fields.Float(help="Accepted deviation, either way, from the expected value.")
    unit = fields.Char()
    image = fields.Image(max_width=1280, max_height=1280)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.constrains("tolerance")
    def _check_tolerance(self):
        for step in self:
            if step.tolerance < 0:
                raise ValidationError(self.env._("A tolerance cannot be negative."))

    @api.model
    def _steps_for(self, category, maintenance_type, company):
        if not category:
            return self.browse()
        return self.search(
            [
                ("category_id", "=", category.id),
                ("maintenance_type", "in", [maintenance_type, False]),
                ("company_id", "in", [company.id, False]),
            ]
        )

    def _request_step_vals(self):
        return [
            {
                "sequence": index,
                "template_id": step.id,
                "name": step.name,
                "instruction": step.instruction,
                "expects_value": step.expects_value,
                "expected_value": step.expected_value,
                "tolerance": step.tolerance,
                "unit": step.unit,
                "image": step.image,
            }
            for index, step in enumerate(self, start=1)
        ]
