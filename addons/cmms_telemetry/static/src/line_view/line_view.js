/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {Component, onWillStart, onWillUnmount, useState} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {deserializeDateTime, formatDateTime} from "@web/core/l10n/dates";
import {KeepLast} from "@web/core/utils/concurrency";
import {Layout} from "@web/search/layout";
import {registry} from "@web/core/registry";
import {standardActionServiceProps} from "@web/webclient/actions/action_service";
import {useDebounced} from "@web/core/utils/timing";
import {useService} from "@web/core/utils/hooks";
import {LossFishbone} from "./loss_fishbone";
import {OeeTrend} from "./oee_trend";

const MODEL = "cmms.line.view";
// The telemetry dashboard's channel: ingest calls notify it once per batch.
const BUS_CHANNEL = "cmms_telemetry.dashboard";
const BUS_NOTIFICATION = "cmms_telemetry/update";
const LINE_KINDS = ["health_snapshot", "oee_record", "downtime_event"];
const REFRESH_DELAY_MS = 1500;
export const BAND_CLASSES = {
    excellent: "success",
    good: "info",
    warning: "warning",
    critical: "danger",
};
const STATUS_CLASSES = {normal: "success", warning: "warning", fault: "danger"};
const LEVEL_CLASSES = {act: "danger", schedule: "warning", monitor: "info"};

export class LineView extends Component {
    static template = "cmms_telemetry.LineView";
    static components = {Layout, LossFishbone, OeeTrend};
    static props = {...standardActionServiceProps};

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.busService = useService("bus_service");
        this.keepLastView = new KeepLast();
        this.keepLastFishbone = new KeepLast();
        this.state = useState({
            loaded: false,
            data: null,
            machineId: false,
            trendMode: "shift",
            period: "shift",
            fishbone: null,
        });
        this.trendModes = [
            {key: "shift", label: _t("Shifts")},
            {key: "day", label: _t("Days")},
        ];
        this.periods = [
            {key: "shift", label: _t("Shift")},
            {key: "day", label: _t("Today")},
            {key: "week", label: _t("7 days")},
            {key: "month", label: _t("30 days")},
        ];
        this.refreshLater = useDebounced(this.refresh, REFRESH_DELAY_MS);
        this.onBusUpdate = this.onBusUpdate.bind(this);
        onWillStart(() => this.refresh());
        this.busService.addChannel(BUS_CHANNEL);
        this.busService.subscribe(BUS_NOTIFICATION, this.onBusUpdate);
        onWillUnmount(() => {
            this.busService.unsubscribe(BUS_NOTIFICATION, this.onBusUpdate);
            this.busService.deleteChannel(BUS_CHANNEL);
        });
    }

    // -- data ------------------------------------------------------------------

    async loadView() {
        const data = await this.keepLastView.add(
            this.orm.call(MODEL, "get_line_view", [this.state.machineId || false])
        );
        this.state.data = data;
        this.state.machineId = data.machine ? data.machine.id : false;
        this.state.loaded = true;
    }

    async loadFishbone() {
        if (!this.state.machineId) {
            this.state.fishbone = null;
            return;
        }
        this.state.fishbone = await this.keepLastFishbone.add(
            this.orm.call(MODEL, "get_fishbone", [this.state.machineId, this.state.period])
        );
    }

    async refresh() {
        await this.loadView();
        await this.loadFishbone();
    }

    onBusUpdate(payload) {
        const machine = this.state.data && this.state.data.machine;
        if (!machine) {
            return;
        }
        const ours = new Set([machine.id, ...machine.component_ids]);
        const kinds = payload.kinds || [];
        const touched = (payload.equipment_ids || []).some((id) => ours.has(id));
        if (touched && kinds.some((kind) => LINE_KINDS.includes(kind))) {
            this.refreshLater();
        }
    }

    // -- display ---------------------------------------------------------------

    get data() {
        return this.state.data;
    }

    get trendPoints() {
        return this.data ? this.data.trend[this.state.trendMode] : [];
    }

    bandClass(band) {
        return BAND_CLASSES[band] || "secondary";
    }

    statusClass(status) {
        return STATUS_CLASSES[status] || "secondary";
    }

    levelClass(level) {
        return LEVEL_CLASSES[level] || "secondary";
    }

    formatTime(value) {
        return value ? formatDateTime(deserializeDateTime(value), {showSeconds: false}) : "";
    }

    formatPercent(value) {
        return typeof value === "number" ? `${value.toFixed(1)} %` : "–";
    }

    formatMinutes(value) {
        return _t("%(minutes)s min", {minutes: (Math.round(value * 10) / 10).toString()});
    }

    get limitsText() {
        const limits = this.data.limits;
        return _t("OEE limits: FAULT below %(fault)s, WARNING up to %(warning)s, NORMAL above", {
            fault: limits.fault_below,
            warning: limits.warning_below,
        });
    }

    get factors() {
        const shift = this.data.shift;
        return [
            {key: "availability", label: _t("Availability"), value: shift.availability},
            {key: "performance", label: _t("Performance"), value: shift.performance},
            {key: "quality", label: _t("Quality"), value: shift.quality},
        ];
    }

    // -- handlers --------------------------------------------------------------

    async onMachineChange(ev) {
        this.state.machineId = parseInt(ev.target.value, 10) || false;
        await this.refresh();
    }

    onTrendMode(mode) {
        this.state.trendMode = mode;
    }

    async onPeriod(period) {
        this.state.period = period;
        await this.loadFishbone();
    }

    async onRibClick(bone, rib) {
        const fishbone = this.state.fishbone;
        const action = await this.orm.call(MODEL, "get_rib_action", [
            fishbone.machine_id,
            fishbone.date_from,
            fishbone.date_to,
            bone.kind,
            bone.component_code,
            rib.reason_id,
        ]);
        await this.actionService.doAction(action);
    }

    async onLossClick(loss) {
        const shift = this.data.shift;
        const action = await this.orm.call(MODEL, "get_rib_action", [
            this.state.machineId,
            shift.period_start,
            shift.period_end,
            loss.kind,
            loss.component_code,
            loss.reason_id,
        ]);
        await this.actionService.doAction(action);
    }

    async onOpenEquipment(equipmentId) {
        await this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "maintenance.equipment",
            res_id: equipmentId,
            views: [[false, "form"]],
        });
    }

    async onProposeWorkOrder(equipmentId) {
        const action = await this.orm.call(
            "maintenance.equipment",
            "action_propose_work_order",
            [[equipmentId]]
        );
        await this.actionService.doAction(action);
    }
}

registry.category("actions").add("cmms_telemetry.line_view", LineView);
