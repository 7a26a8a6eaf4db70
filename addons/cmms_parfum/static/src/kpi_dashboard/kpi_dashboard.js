/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {Component, onWillStart, useState} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {formatFloat} from "@web/core/utils/numbers";
import {KeepLast} from "@web/core/utils/concurrency";
import {Layout} from "@web/search/layout";
import {registry} from "@web/core/registry";
import {standardActionServiceProps} from "@web/webclient/actions/action_service";
import {useService} from "@web/core/utils/hooks";

// For each tile: the KPI, its label, unit, and whether a rise is good.
const TILES = [
    {key: "availability_pct", label: _t("Availability"), unit: "%", up: true},
    {key: "mttr_hours", label: _t("MTTR"), unit: "h", up: false},
    {key: "mtbf_hours", label: _t("MTBF"), unit: "h", up: true},
    {key: "pm_compliance_pct", label: _t("PM compliance"), unit: "%", up: true},
    {key: "schedule_compliance_pct", label: _t("Schedule compliance"), unit: "%", up: true},
    {key: "sla_compliance_pct", label: _t("SLA compliance"), unit: "%", up: true},
    {key: "backlog_count", label: _t("Backlog"), unit: "", up: false, digits: 0},
    {key: "backlog_age_days", label: _t("Backlog age"), unit: _t("days"), up: false},
    {key: "work_orders_completed", label: _t("Work orders completed"), unit: "", up: true, digits: 0},
    {key: "cost_total", label: _t("Maintenance cost"), unit: "", up: false, digits: 0},
    {key: "cost_per_work_order", label: _t("Cost per work order"), unit: "", up: false, digits: 0},
    {key: "budget_consumed_pct", label: _t("Cost against budget"), unit: "%", up: false},
    {key: "downtime_hours", label: _t("Downtime"), unit: "h", up: false},
    {key: "energy_per_unit", label: _t("Energy per unit"), unit: "kWh", up: false, digits: 3},
];

export class KpiDashboard extends Component {
    static template = "cmms_parfum.KpiDashboard";
    static components = {Layout};
    static props = {...standardActionServiceProps};

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.keepLast = new KeepLast();
        this.periods = [
            {key: "this_month", label: _t("This month")},
            {key: "last_month", label: _t("Last month")},
            {key: "this_quarter", label: _t("This quarter")},
            {key: "this_year", label: _t("This year")},
            {key: "last_12_months", label: _t("Last 12 months")},
        ];
        this.state = useState({
            loaded: false,
            period: this.props.action.context?.cmms_period || "this_month",
            // null: the server picks the area (a supervisor's own plant area).
            area: this.props.action.context?.cmms_area ?? null,
            data: null,
        });
        onWillStart(() => this.load());
    }

    async load() {
        const data = await this.keepLast.add(
            this.orm.call("cmms.kpi", "dashboard_data", [], {
                period: this.state.period,
                process_area: this.state.area === null ? null : this.state.area || false,
            })
        );
        this.state.data = data;
        this.state.area = data.process_area || "";
        this.state.loaded = true;
    }

    async onPeriod(ev) {
        this.state.period = ev.target.value;
        await this.load();
    }

    async onArea(ev) {
        this.state.area = ev.target.value;
        await this.load();
    }

    get tiles() {
        const {kpis, previous_kpis: before} = this.state.data;
        return TILES.map((tile) => {
            const value = kpis[tile.key];
            const old = before[tile.key];
            const digits = tile.digits ?? 2;
            const tileData = {
                ...tile,
                value: value === false ? "–" : formatFloat(value, {digits: [16, digits]}),
                delta: "",
                deltaClass: "text-muted",
            };
            if (value !== false && old !== false) {
                const delta = value - old;
                if (Math.abs(delta) > 1e-9) {
                    const better = tile.up ? delta > 0 : delta < 0;
                    tileData.delta = `${delta > 0 ? "▲" : "▼"} ${formatFloat(Math.abs(delta), {
                        digits: [16, digits],
                    })}`;
                    tileData.deltaClass = better ? "text-success" : "text-danger";
                } else {
                    tileData.delta = "=";
                }
            }
            return tileData;
        });
    }

    get maxMonthlyCost() {
        return Math.max(1, ...this.state.data.monthly.map((m) => m.cost));
    }

    barHeight(month) {
        return `${Math.round((100 * month.cost) / this.maxMonthlyCost)}%`;
    }

    formatMoney(value) {
        return formatFloat(value, {digits: [16, 0]});
    }

    async openKpi(key) {
        const {date_from: dateFrom, date_to: dateTo} = this.state.data;
        const action = await this.orm.call("cmms.kpi", "kpi_action", [key, dateFrom, dateTo], {
            process_area: this.state.area || false,
        });
        await this.actionService.doAction(action);
    }

    async openMachine(machine) {
        await this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "maintenance.equipment",
            res_id: machine.equipment_id,
            views: [[false, "form"]],
        });
    }
}

registry.category("actions").add("cmms_parfum.kpi_dashboard", KpiDashboard);
