/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {registry} from "@web/core/registry";

const component = (code) => `.o_cmms_line_component[data-code='${code}']`;

registry.category("web_tour.tours").add("cmms_telemetry_line_view", {
    steps: () => [
        {
            content: "The line opens on the tour machine",
            trigger: ".o_cmms_line_machine_name:contains('A tour FLEXO')",
        },
        {
            // 87.5 % x 90 % x 96 % = 75.6 %: above the WARNING limit.
            content: "The shift's OEE and its status",
            trigger: ".o_cmms_line_oee:contains('75.6')",
        },
        {
            trigger: ".o_cmms_line_status[data-status='normal']",
        },
        {
            content: "The shift is still running: its figures are provisional",
            trigger: ".o_cmms_line_shift_period .o_cmms_line_running",
        },
        {
            content: "Availability, performance and quality",
            trigger: ".o_cmms_line_factor[data-factor='availability']:contains('87.5')",
        },
        {
            trigger: ".o_cmms_line_factor[data-factor='quality']:contains('96.0')",
        },
        {
            content: "The five components in the order of the machine",
            trigger: ".o_cmms_line_components > div:nth-child(5) .o_cmms_line_component[data-code='DOWN_STACKER']",
        },
        {
            content: "The printing unit is critical, with the metric behind it",
            trigger: `${component("PRINTING")} .o_cmms_line_metric[data-metric='reject_rate_pct']:contains('20')`,
        },
        {
            content: "... and a recommendation to act on its reject rate",
            trigger: `${component("PRINTING")} .o_cmms_line_recommendations li[data-level='act']:contains('Print reject rate')`,
        },
        {
            content: "The slotter in the warning band is to be scheduled",
            trigger: `${component("SLOTTER")} .o_cmms_line_recommendations li[data-level='schedule']`,
        },
        {
            content: "A good component carries no recommendation",
            trigger: `${component("FEEDER")}:not(:has(.o_cmms_line_recommendations))`,
        },
        {
            content: "The top loss of the shift",
            trigger: ".o_cmms_line_loss[data-code='PRINTING UNIT TROUBLE MEKANIK']:contains('35')",
        },
        {
            content: "The shift trend has its point",
            trigger: ".o_cmms_oee_trend[data-mode='shift'] .o_cmms_oee_point",
        },
        {
            content: "Show the days",
            trigger: ".o_cmms_line_trend_modes button[data-mode='day']",
            run: "click",
        },
        {
            trigger: ".o_cmms_oee_trend[data-mode='day'] .o_cmms_oee_point",
        },
        {
            content: "The fishbone of the shift: a printing bone and the rejects",
            trigger: ".o_cmms_fishbone .o_cmms_bone[data-component='PRINTING']",
        },
        {
            trigger: ".o_cmms_fishbone .o_cmms_bone[data-kind='reject']",
        },
        {
            content: "The week's fishbone",
            trigger: ".o_cmms_line_periods button[data-period='week']",
            run: "click",
        },
        {
            trigger: ".o_cmms_line_periods button[data-period='week'].active",
        },
        {
            content: "Open the stops behind the printing rib",
            trigger: ".o_cmms_rib[data-code='PRINTING UNIT TROUBLE MEKANIK']",
            run: "click",
        },
        {
            content: "The stop list opens",
            trigger: ".o_list_view .o_data_row:contains('PRINTING UNIT TROUBLE MEKANIK')",
        },
        {
            content: "Back to the line",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "Propose a work order for the critical printing unit",
            trigger: `${component("PRINTING")} .o_cmms_line_propose`,
            run: "click",
        },
        {
            content: "The work order form is prefilled with the predicted duration",
            trigger: ".o_form_view .o_field_widget[name='description']:contains('rf-tour')",
        },
        {
            // The proposal is not saved by the tour: discarded, so that the
            // closing browser does not save it while the next test runs.
            content: "Discard the proposal",
            trigger: ".o_form_view .o_form_button_cancel",
            run: "click",
        },
        {
            content: "Back on the line",
            trigger: component("PRINTING"),
        },
    ],
});
