# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .telemetry_tools import COMPONENT_CODE_RE

CATEGORIES = [
    ("mechanical", "Mechanical trouble"),
    ("electrical", "Electrical trouble"),
    ("changeover", "Changeover / setup"),
    ("jam", "Jam"),
    ("material", "Material"),
    ("planned", "Planned stop"),
    ("other", "Other"),
]


def normalize_code(code):
    """Reason codes compare upper case with single spaces: 'feeder  unit' -> 'FEEDER UNIT'."""
    return re.sub(r"\s+", " ", (code or "").strip()).upper()


class CmmsDowntimeReason(models.Model):
    """A loss-time reason code of the production reports, mapped to a component."""

    _name = "cmms.downtime.reason"
    _description = "Downtime reason"
    _order = "component_code, code"
    _rec_name = "code"

    code = fields.Char(
        required=True,
        index=True,
        help="As written in the production reports, e.g. FEEDER UNIT TROUBLE MEKANIK.",
    )
    name = fields.Char("Description", translate=True)
    component_code = fields.Char(
        "Component",
        help="Code of the machine component this reason stops (FEEDER, PRINTING...); empty "
        "when the reason concerns the whole machine.",
    )
    category = fields.Selection(CATEGORIES, default="other", required=True)
    active = fields.Boolean(default=True)
    event_ids = fields.One2many("cmms.downtime.event", "reason_id")

    _sql_constraints = [
        ("code_uniq", "unique(code)", "A downtime reason code must be unique."),
    ]

    @api.constrains("code", "component_code")
    def _check_codes(self):
        for reason in self:
            if reason.code != normalize_code(reason.code) or not reason.code:
                raise ValidationError(
                    self.env._(
                        "The reason code %(code)s must be upper case, with single spaces.",
                        code=reason.code,
                    )
                )
            if reason.component_code and not COMPONENT_CODE_RE.match(reason.component_code):
                raise ValidationError(
                    self.env._(
                        "The component code %(code)s must be upper case letters, digits and "
                        "underscores (PRINTING, DOWN_STACKER).",
                        code=reason.component_code,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code"):
                vals["code"] = normalize_code(vals["code"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("code"):
            vals["code"] = normalize_code(vals["code"])
        return super().write(vals)

    @api.model
    def _for_code(self, code):
        """The reason of that code; an unknown code is registered, unmapped."""
        code = normalize_code(code)
        reason = self.with_context(active_test=False).search([("code", "=", code)], limit=1)
        return reason or self.create({"code": code, "name": code})
