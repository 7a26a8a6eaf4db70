/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("cmms_parfum_my_tasks", {
    steps: () => [
        {
            content: "Only the technician's own task is listed",
            trigger:
                ".o_kanban_view:not(:has(.o_kanban_record:contains('Someone else')))",
        },
        {
            content: "Open the urgent task",
            trigger: ".o_kanban_record:contains('Replace the filler nozzle seal')",
            run: "click",
        },
        {
            content: "The form shows it as urgent, on its equipment",
            trigger:
                ".o_form_view .o_field_widget[name='cmms_priority']:contains('Urgent')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='equipment_criticality']:contains('Critical')",
        },
    ],
});
