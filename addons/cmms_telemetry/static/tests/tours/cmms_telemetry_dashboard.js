/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {registry} from "@web/core/registry";

const tile = (key, value) =>
    `.o_cmms_tile[data-tile='${key}'] .o_cmms_tile_value:contains(/^${value}$/)`;
const card = (tag) => `.o_cmms_card:has(.o_cmms_card_tag:contains(/^${tag}$/))`;

registry.category("web_tour.tours").add("cmms_telemetry_dashboard", {
    steps: () => [
        {
            content: "One instrument per sensor",
            trigger: tile("instruments", 2),
        },
        {
            content: "The overdue instrument is counted",
            trigger: tile("calibration_overdue", 1),
        },
        {
            content: "Both open alerts are active",
            trigger: tile("active_alerts", 2),
        },
        {
            content: "The technician's open work order",
            trigger: tile("open_work_orders", 1),
        },
        {
            content: "The card shows the live value and its unit",
            trigger: `${card("PT-TOUR")} .o_cmms_card_value:contains('6.42'):contains('bar')`,
        },
        {
            content: "Health without a snapshot: 100 less the penalties of the open alerts",
            trigger: `${card("PT-TOUR")} .o_cmms_card_health:contains('75')`,
        },
        {
            content: "Two open alerts on the equipment",
            trigger: `${card("PT-TOUR")} .o_cmms_card_alerts:contains('2')`,
        },
        {
            content: "A sensor without readings yet",
            trigger: `${card("TT-TOUR")} .o_cmms_card_time:contains('No reading yet')`,
        },
        {
            content: "Select the sensor without readings",
            trigger: card("TT-TOUR"),
            run: "click",
        },
        {
            content: "Its trend is empty",
            trigger: ".o_cmms_trend_chart .o_cmms_trend_empty",
        },
        {
            content: "Select the pressure sensor",
            trigger: card("PT-TOUR"),
            run: "click",
        },
        {
            trigger: `${card("PT-TOUR")}.o_cmms_card_selected`,
        },
        {
            content: "Show the last hour",
            trigger: ".o_cmms_ranges button[data-hours='1']",
            run: "click",
        },
        {
            content: "The chart is drawn",
            trigger: ".o_cmms_trend_chart[data-hours='1'] .o_cmms_trend_canvas canvas",
        },
        {
            content: "Show the last 7 days",
            trigger: ".o_cmms_ranges button[data-hours='168']",
            run: "click",
        },
        {
            content: "The chart is drawn from hourly points",
            trigger: ".o_cmms_trend_chart[data-hours='168'] .o_cmms_trend_canvas canvas",
        },
        {
            content: "Open the active alerts from their tile",
            trigger: ".o_cmms_tile[data-tile='active_alerts']",
            run: "click",
        },
        {
            content: "The alert list opens",
            trigger: ".o_list_view .o_data_row",
        },
    ],
});
