# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
# The reference AR client (ar_client.py) is a standalone script for the
# glasses; this file only lets the addon's tests import it. The addon
# itself does not import it.
