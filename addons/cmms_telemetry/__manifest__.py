# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "CMMS Telemetry",
    "summary": "Sensors, alerts and their lifecycle, and the ingestion API of the "
    "telemetry connector",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Maintenance",
    "website": "https://github.com/cmms-parfum/cmms-parfum",
    "author": "CMMS Parfum contributors",
    "maintainers": ["cmms-parfum"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["cmms_parfum"],
    "data": [
        "security/cmms_telemetry_security.xml",
        "security/ir.model.access.csv",
        "data/cmms_alert_policy_data.xml",
        "views/cmms_sensor_views.xml",
        "views/cmms_alert_views.xml",
        "views/cmms_alert_policy_views.xml",
        "views/cmms_connector_views.xml",
        "views/maintenance_equipment_views.xml",
        "views/maintenance_request_views.xml",
        "views/cmms_telemetry_menus.xml",
    ],
    "demo": [
        "demo/res_users_demo.xml",
        "demo/cmms_sensor_demo.xml",
    ],
    "installable": True,
}
