/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {registry} from "@web/core/registry";

// A whole task on the head-mounted display, with the keyboard only.
registry.category("web_tour.tours").add("cmms_ar_bridge_hmd", {
    steps: () => [
        {
            content: "The list shows the technician's task, selected",
            trigger: ".cmms-hmd-task.cmms-hmd-selected:contains('Change the nozzle seal')",
        },
        {
            content: "Someone else's task is not listed",
            trigger: ".cmms-hmd-tasks:not(:contains('Not yours'))",
            run: "press Enter",
        },
        {
            content: "The overview offers to start",
            trigger: ".cmms-hmd-card[data-kind='overview'] .cmms-hmd-action:contains('start')",
            run: "press Enter",
        },
        {
            content: "Started: the first step shows",
            trigger: ".cmms-hmd[data-state='in_progress'] .cmms-hmd-card[data-kind='step'] h1:contains('Lock out')",
            run: "press Enter",
        },
        {
            content: "Second step: a measured value",
            trigger: ".cmms-hmd-card[data-kind='step'] h1:contains('Read the pressure')",
            run: "press 2",
        },
        {trigger: ".cmms-hmd-value:contains('2')", run: "press ."},
        {trigger: ".cmms-hmd-value:contains('2.')", run: "press 9"},
        {
            content: "The typed value shows, Enter records it",
            trigger: ".cmms-hmd-value:contains('2.9')",
            run: "press Enter",
        },
        {
            content: "Last card: complete",
            trigger: ".cmms-hmd-card[data-kind='finish'] .cmms-hmd-action:contains('complete')",
            run: "press ArrowLeft",
        },
        {
            content: "Back: the recorded value is flagged out of tolerance",
            trigger: ".cmms-hmd-card[data-kind='step'] .cmms-hmd-result-out_of_tolerance",
            run: "press ArrowRight",
        },
        {
            trigger: ".cmms-hmd-card[data-kind='finish']",
            run: "press Enter",
        },
        {
            content: "Completed",
            trigger: ".cmms-hmd[data-state='done'] .cmms-hmd-card h1:contains('Completed')",
        },
    ],
});
