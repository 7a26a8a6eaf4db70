# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from odoo.tests import new_test_user, tagged

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable
from odoo.addons.bus.tests.common import WebsocketCase

from ..models.cmms_telemetry_dashboard import BUS_CHANNEL, BUS_NOTIFICATION


@tagged("post_install", "-at_install")
class TestDashboardChannel(WebsocketCase):
    def test_only_dashboard_users_get_the_updates(self):
        new_test_user(self.env, "ws_dash_op", groups="cmms_parfum.cmms_parfum_group_operator")
        new_test_user(self.env, "ws_dash_emp", groups="base.group_user")
        last = self.env["bus.bus"]._bus_last_id()
        channel = hashable(channel_with_db(self.env.cr.dbname, BUS_CHANNEL))
        # A visitor and an employee without a CMMS role ask for the channel in vain.
        # (Each authentication ends the previous session: the operator comes last.)
        self.subscribe(self.websocket_connect(), [BUS_CHANNEL], last)
        session = self.authenticate("ws_dash_emp", "ws_dash_emp")
        employee_ws = self.websocket_connect(cookie=f"session_id={session.sid};")
        self.subscribe(employee_ws, [BUS_CHANNEL], last)
        self.assertFalse(dispatch._channels_to_ws.get(channel))
        session = self.authenticate("ws_dash_op", "ws_dash_op")
        operator_ws = self.websocket_connect(cookie=f"session_id={session.sid};")
        self.subscribe(operator_ws, [BUS_CHANNEL], last)
        self.assertEqual(len(dispatch._channels_to_ws.get(channel, ())), 1)

        self.env["cmms.telemetry.dashboard"]._notify_update(sensor_ids=[7], kinds=["reading_agg"])
        self.trigger_notification_dispatching([BUS_CHANNEL])
        message = json.loads(operator_ws.recv())[0]["message"]
        self.assertEqual(message["type"], BUS_NOTIFICATION)
        self.assertEqual(message["payload"]["sensor_ids"], [7])
