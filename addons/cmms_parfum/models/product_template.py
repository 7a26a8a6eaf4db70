# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    cmms_is_spare_part = fields.Boolean(
        "Spare part",
        tracking=True,
        help="A stocked part that maintenance work orders consume.",
    )
    cmms_equipment_ids = fields.Many2many(
        "maintenance.equipment",
        "cmms_spare_part_equipment_rel",
        "product_tmpl_id",
        "equipment_id",
        "Fits equipment",
    )
    cmms_equipment_category_ids = fields.Many2many(
        "maintenance.equipment.category",
        "cmms_spare_part_equipment_category_rel",
        "product_tmpl_id",
        "category_id",
        "Fits equipment categories",
    )

    @api.constrains("cmms_is_spare_part", "is_storable", "type")
    def _check_cmms_spare_part(self):
        for template in self.filtered("cmms_is_spare_part"):
            if template.type != "consu" or not template.is_storable:
                raise ValidationError(
                    self.env._(
                        "%(part)s: a spare part is a goods product with its stock tracked.",
                        part=template.display_name,
                    )
                )
