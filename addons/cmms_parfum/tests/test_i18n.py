# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import os
import re

from babel.messages.pofile import read_po

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged

ADDONS = ("cmms_parfum", "cmms_telemetry", "cmms_ar_bridge")
# %(name)s, %s, %d, %f, %(x).1f and {name}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdf]|%[sdf]|%\([a-z_]+\)\.\d+f|\{[a-z_]*\}")


def _read(path):
    with open(path, "rb") as po_file:
        return read_po(po_file)


def _placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


@tagged("post_install", "-at_install")
class TestIndonesianCatalogues(TransactionCase):
    """Every term of a module's template has an Indonesian translation."""

    def test_catalogues_complete(self):
        for addon in ADDONS:
            with self.subTest(addon=addon):
                path = get_module_path(addon)
                self.assertTrue(path, f"{addon} is not in the addons path")
                template = _read(os.path.join(path, "i18n", f"{addon}.pot"))
                catalogue = _read(os.path.join(path, "i18n", "id.po"))
                missing, untranslated, mismatched = [], [], []
                for term in template:
                    if not term.id:
                        continue
                    translation = catalogue.get(term.id, context=term.context)
                    if translation is None:
                        missing.append(term.id)
                    elif not translation.string:
                        untranslated.append(term.id)
                    elif _placeholders(term.id) != _placeholders(translation.string):
                        mismatched.append(term.id)
                problems = [
                    (label, ids)
                    for label, ids in (
                        ("missing from id.po", missing),
                        ("without msgstr", untranslated),
                        ("with other placeholders", mismatched),
                    )
                    if ids
                ]
                self.assertFalse(
                    problems,
                    f"{addon}/i18n/id.po is incomplete: "
                    + "; ".join(f"{len(ids)} {label}, e.g. {ids[:5]!r}" for label, ids in problems),
                )
