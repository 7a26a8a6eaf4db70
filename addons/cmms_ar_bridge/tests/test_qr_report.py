# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from odoo.addons.cmms_parfum.tests.common import CmmsUsersCommon


@tagged("post_install", "-at_install")
class TestQrReport(CmmsUsersCommon):
    def test_label_sheet_holds_the_codes_lookup_resolves(self):
        supervisor = self.supervisor
        equipment = self.env["maintenance.equipment"].create(
            [{"name": "Label pump", "cmms_tag": "P-QR1"}, {"name": "No tag"}]
        )
        report = self.env.ref("cmms_ar_bridge.maintenance_equipment_action_report_qr")
        self.assertEqual(report.binding_model_id.model, "maintenance.equipment")
        html = (
            self.env["ir.actions.report"]
            .with_user(supervisor)
            ._render_qweb_html(report.report_name, equipment.ids)[0]
            .decode()
        )
        self.assertIn("cmms:equipment:P-QR1", html)
        self.assertIn(f"cmms:equipment:#{equipment[1].id}", html)
        self.assertEqual(html.count("data:image/png;base64,"), 2)
        api = self.env["cmms.ar.api"].with_user(supervisor)
        for record in equipment:
            self.assertEqual(api.lookup(record.cmms_qr_payload)["id"], record.id)
