/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
// One work order from request to close, one tour per role.
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");

tours.add("cmms_wo_operator_request", {
    steps: () => [
        {trigger: ".o_list_view, .o_kanban_view"},
        {trigger: ".o_control_panel_main_buttons .o_list_button_add", run: "click"},
        {trigger: ".o_field_widget[name='name'] input", run: "edit Tour: filler nozzle drips"},
        {trigger: ".o_field_widget[name='equipment_id'] input", run: "edit FL-TOUR"},
        {trigger: ".o-autocomplete--dropdown-item a:contains('FL-TOUR')", run: "click"},
        {trigger: ".o_form_button_save", run: "click"},
        {content: "Saved (not only shown as a new record)", trigger: ".o_form_view .o_form_saved"},
        {
            content: "Saved as a request",
            trigger:
                ".o_form_view .o_form_saved .o_statusbar_status button.o_arrow_button_current:contains('Requested')",
        },
    ],
});

tours.add("cmms_wo_supervisor_assign", {
    steps: () => [
        {trigger: ".o_data_row td:contains('Tour: filler nozzle drips')", run: "click"},
        {trigger: ".o_field_widget[name='user_id'] input", run: "edit tour_tech"},
        {trigger: ".o-autocomplete--dropdown-item a:contains('tour_tech')", run: "click"},
        {
            trigger: ".o_field_widget[name='schedule_date'] input",
            run: "edit 11/25/2026 10:00:00",
        },
        {trigger: ".o_form_view", run: "click"},
        {trigger: "button[name='action_approve']", run: "click"},
        {trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Approved')"},
    ],
});

tours.add("cmms_wo_technician_phone", {
    steps: () => [
        {trigger: ".o_kanban_record:contains('Tour: filler nozzle drips')", run: "click"},
        {
            content: "The spare part and its stock are visible before starting",
            trigger: "a.nav-link:contains('Parts')",
            run: "click",
        },
        {trigger: ".o_field_widget[name='part_line_ids'] :contains('SP-TOUR-ORING'), .o_field_widget[name='part_line_ids'] :contains('Tour O-ring kit')"},
        {trigger: "button[name='action_start']", run: "click"},
        {trigger: "button[name='action_complete']"},
        {trigger: "a.nav-link:contains('Parts')", run: "click"},
        {
            content: "One more part: add a line",
            trigger: ".o_field_widget[name='part_line_ids'] .o_field_x2many_list_row_add a, .o_field_widget[name='part_line_ids'] .o-kanban-button-new",
            run: "click",
        },
        {
            content: "On a phone the part is picked from a search dialog",
            trigger: ".o_field_widget[name='product_id'] input",
            run: "click",
        },
        {trigger: ".modal .o_kanban_record:contains('SP-TOUR-SEAL')", run: "click"},
        {trigger: ".o_field_widget[name='product_id'] input:value(Tour seal)"},
        {trigger: ".o_field_widget[name='quantity'] input", run: "edit 1"},
        {trigger: "a.nav-link:contains('Completion')", run: "click"},
        {
            trigger: ".o_field_widget[name='completion_note'] textarea",
            run: "edit Nozzle O-rings and seal replaced, no more drips.",
        },
        {trigger: ".o_field_widget[name='actual_duration'] input", run: "edit 01:30"},
        {trigger: "button[name='action_complete']", run: "click"},
        {
            trigger:
                ".o_form_view:not(:has(button[name='action_complete'])) .o_statusbar_status:contains('Done, awaiting verification')",
        },
    ],
});

tours.add("cmms_wo_manager_close", {
    steps: () => [
        {trigger: ".o_data_row td:contains('Tour: filler nozzle drips')", run: "click"},
        {trigger: "button[name='action_close']", run: "click"},
        {trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Closed')"},
    ],
});
