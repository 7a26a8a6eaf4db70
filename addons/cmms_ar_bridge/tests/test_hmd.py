# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The head-mounted display driven by the keyboard in headless Chromium, at
the two sizes of the glasses; screenshots are kept with the test
artefacts (Odoo's screenshots directory), not in the repository."""

from odoo.tests import HttpCase, tagged

from .common import approved, setup_ar_data


class HmdTourMixin:
    size = ""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_ar_data(cls)
        cls.task = approved(cls, "Change the nozzle seal", cls.technician, "urgent")
        approved(cls, "Not yours", cls.other)

    def test_hmd_pages(self):
        self.authenticate("ar_tech", "ar_tech")
        response = self.url_open("/cmms/ar/hmd")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Change the nozzle seal", response.text)
        self.assertNotIn("Not yours", response.text)

    def test_whole_task_with_the_keyboard(self):
        self.start_tour("/cmms/ar/hmd", "cmms_ar_bridge_hmd", login="ar_tech")
        self.browser.take_screenshot(prefix=f"hmd_{self.size}_done_").result(timeout=10)
        self.assertEqual(self.task.cmms_state, "done")
        lock, pressure = self.task.step_ids
        self.assertEqual(lock.result, "ok")
        self.assertEqual(pressure.result, "out_of_tolerance")
        self.assertAlmostEqual(pressure.measured_value, 2.9)
        # The step cards of another task, for the record of the layout.
        other = approved(self, "Second task", self.technician)
        self.browser.navigate_to(f"{self.base_url()}/cmms/ar/hmd/task/{other.id}", wait_stop=True)
        self.browser.take_screenshot(prefix=f"hmd_{self.size}_overview_").result(timeout=10)


@tagged("post_install", "-at_install")
class TestHmd1280(HmdTourMixin, HttpCase):
    browser_size = "1280x720"
    size = "1280x720"


@tagged("post_install", "-at_install")
class TestHmd854(HmdTourMixin, HttpCase):
    browser_size = "854x480"
    size = "854x480"
