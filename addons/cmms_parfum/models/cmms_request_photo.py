# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import binascii
import io

from PIL import Image

from odoo import api, fields, models
from odoo.exceptions import ValidationError

MAX_PHOTO_BYTES = 16 * 1024 * 1024
# Judged from the file's first bytes, never from its name.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


def sniff_image(data):
    """The format of ``data`` (PNG, JPEG or GIF), or None."""
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    return None


class CmmsRequestPhoto(models.Model):
    """A photo taken at request, completion or verification."""

    _name = "cmms.request.photo"
    _description = "Work order photo"
    _order = "id"

    request_id = fields.Many2one(
        "maintenance.request", required=True, index=True, ondelete="cascade"
    )
    stage = fields.Selection(
        [
            ("request", "At request"),
            ("completion", "At completion"),
            ("verification", "At verification"),
        ],
        required=True,
        default="request",
    )
    image = fields.Binary(required=True, attachment=True)
    filename = fields.Char()
    image_format = fields.Char(readonly=True)
    taken_by_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)

    @api.model
    def _validate_image(self, value):
        """Decode, check type and size; return the format. Raise otherwise."""
        if isinstance(value, str):
            value = value.encode()
        try:
            data = base64.b64decode(value or b"", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError(self.env._("The photo is not a valid file upload.")) from exc
        if not data:
            raise ValidationError(self.env._("The photo is empty."))
        if len(data) > MAX_PHOTO_BYTES:
            raise ValidationError(
                self.env._(
                    "A photo may be at most 16 MB; this one is %(size).1f MB.",
                    size=len(data) / 1024 / 1024,
                )
            )
        kind = sniff_image(data)
        if not kind:
            raise ValidationError(
                self.env._("Only PNG, JPEG or GIF photos are accepted (judged from the file).")
            )
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except Exception as exc:
            raise ValidationError(
                self.env._("The %(kind)s photo is damaged and cannot be read.", kind=kind)
            ) from exc
        return kind

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals["image_format"] = self._validate_image(vals.get("image"))
        return super().create(vals_list)

    def write(self, vals):
        if "image" in vals:
            vals = {**vals, "image_format": self._validate_image(vals["image"])}
        return super().write(vals)
