/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("cmms_kpi_dashboard", {
    steps: () => [
        {trigger: ".o_cmms_kpi_dashboard .o_cmms_kpi_tile[data-kpi='mttr_hours'] .o_cmms_kpi_value"},
        {
            content: "A period with the fixtures",
            trigger: ".o_cmms_kpi_period",
            run: "select last_12_months",
        },
        {
            trigger:
                ".o_cmms_kpi_tile[data-kpi='work_orders_completed'] .o_cmms_kpi_value:not(:contains('–'))",
        },
        {
            content: "MTTR opens the corrective work orders behind it",
            trigger: ".o_cmms_kpi_tile[data-kpi='mttr_hours']",
            run: "click",
        },
        {trigger: ".o_list_view .o_data_row:contains('Dashboard repair')"},
    ],
});
