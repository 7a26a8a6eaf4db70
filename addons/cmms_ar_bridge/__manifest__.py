# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "CMMS AR Bridge",
    "summary": "Task feed, equipment lookup and hands-free views for AR glasses",
    "version": "18.0.1.1.0",
    "category": "Manufacturing/Maintenance",
    "website": "https://github.com/cmms-parfum/cmms-parfum",
    "author": "CMMS Parfum contributors",
    "maintainers": ["cmms-parfum"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["cmms_parfum", "cmms_telemetry"],
    "data": [
        "views/cmms_ar_templates.xml",
        "views/cmms_ar_hmd_templates.xml",
        "report/maintenance_equipment_qr_report.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "cmms_ar_bridge/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
