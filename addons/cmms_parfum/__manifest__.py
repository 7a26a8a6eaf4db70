# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "CMMS Parfum",
    "summary": "Maintenance management for process plants: roles, work orders, "
    "equipment and components",
    "version": "18.0.1.3.0",
    "category": "Manufacturing/Maintenance",
    "website": "https://github.com/cmms-parfum/cmms-parfum",
    "author": "CMMS Parfum contributors",
    "maintainers": ["cmms-parfum"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": True,
    "depends": [
        "maintenance",
        "maintenance_equipment_hierarchy",
        "maintenance_plan",
        "maintenance_stock",
        "stock",
    ],
    "data": [
        "security/cmms_parfum_security.xml",
        "security/ir.model.access.csv",
        "data/maintenance_stage_data.xml",
        "data/ir_cron_data.xml",
        "views/maintenance_equipment_views.xml",
        "views/maintenance_request_views.xml",
        "views/cmms_budget_views.xml",
        "views/product_template_views.xml",
        "views/stock_quant_views.xml",
        "views/res_users_views.xml",
        "views/res_config_settings_views.xml",
        "views/cmms_meter_views.xml",
        "views/maintenance_plan_views.xml",
        "views/maintenance_request_schedule_views.xml",
        "views/cmms_parfum_menus.xml",
    ],
    "demo": [
        "demo/res_users_demo.xml",
        "demo/maintenance_equipment_demo.xml",
        "demo/stock_demo.xml",
        "demo/maintenance_request_demo.xml",
        "demo/cmms_budget_demo.xml",
        "demo/maintenance_plan_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "cmms_parfum/static/tests/tours/*.js",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
