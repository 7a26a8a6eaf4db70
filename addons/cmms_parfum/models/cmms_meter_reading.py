# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# A reading may be stamped a little ahead of the server's clock.
CLOCK_SKEW = timedelta(minutes=5)


class CmmsMeterReading(models.Model):
    """One reading of a meter, by hand or from the telemetry connector.

    Readings are history: nobody edits them. A reading is never negative and
    never lower than the meter's current value (a meter does not go
    backwards); a reset or a replaced meter is an explicit reading marked
    as such, by a supervisor.
    """

    _name = "cmms.meter.reading"
    _description = "Meter reading"
    _order = "read_at desc, id desc"

    meter_id = fields.Many2one("cmms.meter", required=True, ondelete="restrict", index=True)
    equipment_id = fields.Many2one(related="meter_id.equipment_id", store=True)
    company_id = fields.Many2one(related="meter_id.company_id", store=True)
    uom = fields.Char(related="meter_id.uom", string="Unit")
    read_at = fields.Datetime("Read at", required=True, default=fields.Datetime.now)
    value = fields.Float("Reading", required=True, digits=(16, 2))
    increment = fields.Float(readonly=True, digits=(16, 2))
    total_value = fields.Float("Lifetime total", readonly=True, digits=(16, 2))
    is_reset = fields.Boolean(
        "Meter reset or replaced",
        readonly=True,
        help="The meter starts again from this reading; the lifetime total goes on.",
    )
    note = fields.Char()
    source = fields.Selection(
        [("manual", "By hand"), ("connector", "Telemetry connector")],
        default="manual",
        required=True,
        readonly=True,
    )
    user_id = fields.Many2one(
        "res.users", "Recorded by", default=lambda self: self.env.user, readonly=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        readings = self.browse()
        # One at a time: each reading is checked against the one before it.
        for vals in vals_list:
            vals, meter, offset = self._check_reading(dict(vals))
            reading = super().create([vals])
            reading._apply_to_meter(meter, offset)
            readings |= reading
        return readings

    @api.model
    def _check_reading(self, vals):
        """Refuse a bad reading before anything is written; complete ``vals``."""
        meter = self.env["cmms.meter"].browse(vals.get("meter_id")).exists()
        if not meter:
            raise ValidationError(self.env._("A reading needs a meter."))
        # Serialise readings of one meter: a concurrent one waits or retries.
        self.env.cr.execute("SELECT id FROM cmms_meter WHERE id = %s FOR UPDATE", [meter.id])
        meter = meter.sudo()
        value = vals.get("value")
        if value is None or value is False:
            raise ValidationError(self.env._("Give the meter's reading."))
        read_at = fields.Datetime.to_datetime(vals.get("read_at")) or fields.Datetime.now()
        unit = meter.uom or ""
        if value < 0:
            raise ValidationError(
                self.env._(
                    "A meter reading cannot be negative (%(meter)s: %(value)s %(unit)s).",
                    meter=meter.display_name,
                    value=value,
                    unit=unit,
                )
            )
        # By hand only: a simulated plant may run ahead of the wall clock.
        manual = vals.get("source", "manual") == "manual"
        if manual and read_at > fields.Datetime.now() + CLOCK_SKEW:
            raise ValidationError(
                self.env._(
                    "A reading of %(meter)s cannot be dated in the future.",
                    meter=meter.display_name,
                )
            )
        if vals.get("is_reset"):
            self.env["cmms.meter"]._check_may_reset()
            if not (vals.get("note") or "").strip():
                raise ValidationError(
                    self.env._("Say why %(meter)s is reset or replaced.", meter=meter.display_name)
                )
            offset = meter.total_value - value
            vals.update(increment=0.0, total_value=meter.total_value)
        else:
            if value < meter.value:
                raise ValidationError(
                    self.env._(
                        "%(meter)s reads %(current)s %(unit)s since %(date)s: %(value)s "
                        "%(unit)s would make it go backwards. If the meter was reset or "
                        "replaced, a supervisor records that with 'Reset meter'.",
                        meter=meter.display_name,
                        current=meter.value,
                        unit=unit,
                        date=fields.Datetime.to_string(meter.last_read_at),
                        value=value,
                    )
                )
            offset = meter.offset
            vals.update(increment=value - meter.value, total_value=offset + value)
        vals["read_at"] = read_at
        return vals, meter, offset

    def _apply_to_meter(self, meter, offset):
        """The meter shows this reading; its plans make what it reached."""
        self.ensure_one()
        meter.write(
            {
                "value": self.value,
                "offset": offset,
                "last_read_at": max(self.read_at, meter.last_read_at or self.read_at),
            }
        )
        if not self.is_reset:
            meter.plan_ids._cmms_fire_meter(self)
