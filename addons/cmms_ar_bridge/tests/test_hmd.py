# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The head-mounted display driven by the keyboard in headless Chromium, at
the two sizes of the glasses. A tour carries out a whole task; a second
pass over another task keeps a screenshot of each card, in Odoo's
screenshots directory (``--screenshots``, /tmp/odoo_tests by default): test
artefacts, not part of the repository."""

import json

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .common import ArCommon, approved


class HmdTourMixin:
    size = ""
    # Odoo's loader takes inherited test methods only with this flag.
    allow_inherited_tests_method = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.task = approved(cls, "Change the nozzle seal", cls.technician, "urgent")
        approved(cls, "Not yours", cls.technician2)

    def test_hmd_list_page(self):
        self.authenticate(self.technician.login, self.technician.login)
        response = self.url_open("/cmms/ar/hmd")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Change the nozzle seal", response.text)
        self.assertNotIn("Not yours", response.text)

    def test_whole_task_with_the_keyboard(self):
        self.start_tour("/cmms/ar/hmd", "cmms_ar_bridge_hmd", login=self.technician.login)
        self.assertEqual(self.task.cmms_state, "done")
        lock, pressure = self.task.step_ids
        self.assertEqual(lock.result, "ok")
        self.assertEqual(pressure.result, "out_of_tolerance")
        self.assertAlmostEqual(pressure.measured_value, 2.9)

    def test_screenshots_of_each_card(self):
        task = approved(self, "Check the coupling", self.technician)
        browser = ChromeBrowser(self, headless=True)

        def wait(expression):
            self.assertTrue(browser._wait_ready(expression, timeout=30), expression)

        def press(key):
            browser._websocket_request(
                "Runtime.evaluate",
                params={
                    "expression": "document.dispatchEvent(new KeyboardEvent('keydown', "
                    f"{{key: {json.dumps(key)}, bubbles: true}}))"
                },
            )

        def shot(name):
            browser.take_screenshot(prefix=f"hmd_{self.size}_{name}_").result(timeout=10)
            # Nothing runs off the side of the display.
            wait("document.documentElement.scrollWidth <= window.innerWidth")

        try:
            width, height = (int(n) for n in self.size.split("x"))
            # The glasses' display is the viewport, not a window around it.
            browser._websocket_request(
                "Emulation.setDeviceMetricsOverride",
                params={"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            self.authenticate(self.technician.login, self.technician.login, browser=browser)
            self.cr.flush()
            self.cr.clear()
            browser.navigate_to(f"{self.base_url()}/cmms/ar/hmd/task/{task.id}", wait_stop=True)
            wait("document.querySelector(\".cmms-hmd-card[data-kind='overview'] h1\") !== null")
            shot("1_overview")
            press("Enter")
            wait("document.querySelector(\".cmms-hmd[data-state='in_progress'] "
                 ".cmms-hmd-card[data-kind='step']\") !== null")  # fmt: skip
            shot("2_step")
            press("ArrowRight")
            for key in "2.4":
                press(key)
            wait("(document.querySelector('.cmms-hmd-value') || {}).textContent === '2.4'")
            shot("3_value")
            press("Enter")
            wait("document.querySelector(\".cmms-hmd-card[data-kind='finish']\") !== null")
            shot("4_finish")
        finally:
            browser.stop()
            self._wait_remaining_requests()
        self.assertEqual(task.step_ids[1].result, "ok")
        self.assertAlmostEqual(task.step_ids[1].measured_value, 2.4)


@tagged("post_install", "-at_install")
class TestHmd1280(HmdTourMixin, ArCommon, HttpCase):
    browser_size = "1280x720"
    size = "1280x720"


@tagged("post_install", "-at_install")
class TestHmd854(HmdTourMixin, ArCommon, HttpCase):
    browser_size = "854x480"
    size = "854x480"
