# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from .cmms_telemetry_dashboard import BUS_CHANNEL


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        # The dashboard's channel is a plain string any client could ask
        # for: only the users who may read the dashboard get it.
        if BUS_CHANNEL in channels:
            channels = [channel for channel in channels if channel != BUS_CHANNEL]
            if self.env.uid and self.env["cmms.telemetry.dashboard"]._may_read_dashboard():
                channels.append(BUS_CHANNEL)
        return super()._build_bus_channel_list(channels)
