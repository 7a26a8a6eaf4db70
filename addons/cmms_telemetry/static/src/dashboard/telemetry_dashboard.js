/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {Component, onWillStart, onWillUnmount, useState} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {deserializeDateTime, formatDateTime} from "@web/core/l10n/dates";
import {formatFloat} from "@web/core/utils/numbers";
import {KeepLast} from "@web/core/utils/concurrency";
import {Layout} from "@web/search/layout";
import {registry} from "@web/core/registry";
import {standardActionServiceProps} from "@web/webclient/actions/action_service";
import {useDebounced} from "@web/core/utils/timing";
import {useService} from "@web/core/utils/hooks";
import {TelemetryTrendChart} from "./telemetry_trend_chart";

const MODEL = "cmms.telemetry.dashboard";
export const BUS_CHANNEL = "cmms_telemetry.dashboard";
export const BUS_NOTIFICATION = "cmms_telemetry/update";
const DEFAULT_HOURS = 6;
// Telemetry arrives in bursts (one ingest call per connector flush): wait
// for the burst to end before reloading.
const REFRESH_DELAY_MS = 1500;
const BAND_CLASSES = {
    excellent: "success",
    good: "info",
    warning: "warning",
    critical: "danger",
};

export class TelemetryDashboard extends Component {
    static template = "cmms_telemetry.TelemetryDashboard";
    static components = {Layout, TelemetryTrendChart};
    static props = {...standardActionServiceProps};

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.busService = useService("bus_service");
        this.keepLastDashboard = new KeepLast();
        this.keepLastTrend = new KeepLast();
        this.changedSensorIds = new Set();
        this.state = useState({
            loaded: false,
            generatedAt: false,
            tiles: [],
            cards: [],
            sensorId: false,
            hours: DEFAULT_HOURS,
            trend: null,
            trendLoading: false,
        });
        this.ranges = [
            {hours: 1, label: _t("1h")},
            {hours: 6, label: _t("6h")},
            {hours: 24, label: _t("24h")},
            {hours: 72, label: _t("3d")},
            {hours: 168, label: _t("7d")},
        ];
        this.refreshLater = useDebounced(this.refresh, REFRESH_DELAY_MS);
        this.onBusUpdate = this.onBusUpdate.bind(this);

        onWillStart(async () => {
            await this.loadDashboard();
            const first = this.state.cards[0];
            if (first) {
                this.state.sensorId = first.sensor_id;
                await this.loadTrend();
            }
        });
        this.busService.addChannel(BUS_CHANNEL);
        this.busService.subscribe(BUS_NOTIFICATION, this.onBusUpdate);
        onWillUnmount(() => {
            this.busService.unsubscribe(BUS_NOTIFICATION, this.onBusUpdate);
            this.busService.deleteChannel(BUS_CHANNEL);
        });
    }

    // -- data ------------------------------------------------------------------

    async loadDashboard() {
        const data = await this.keepLastDashboard.add(this.orm.call(MODEL, "get_dashboard", []));
        this.state.tiles = data.tiles;
        this.state.cards = data.cards;
        this.state.generatedAt = data.generated_at;
        this.state.loaded = true;
        if (
            this.state.sensorId &&
            !data.cards.some((card) => card.sensor_id === this.state.sensorId)
        ) {
            this.state.sensorId = false;
            this.state.trend = null;
        }
    }

    async loadTrend() {
        if (!this.state.sensorId) {
            this.state.trend = null;
            return;
        }
        this.state.trendLoading = true;
        try {
            this.state.trend = await this.keepLastTrend.add(
                this.orm.call(MODEL, "get_trend", [this.state.sensorId, this.state.hours])
            );
        } finally {
            this.state.trendLoading = false;
        }
    }

    async refresh() {
        const trendChanged = this.changedSensorIds.has(this.state.sensorId);
        this.changedSensorIds.clear();
        await Promise.all([this.loadDashboard(), trendChanged ? this.loadTrend() : null]);
    }

    onBusUpdate(payload) {
        for (const sensorId of payload.sensor_ids || []) {
            this.changedSensorIds.add(sensorId);
        }
        this.refreshLater();
    }

    // -- display ---------------------------------------------------------------

    tileLabel(tile) {
        return {
            instruments: _t("Instruments"),
            calibration_overdue: _t("Calibration overdue"),
            active_alerts: _t("Active alerts"),
            open_work_orders: _t("Open work orders"),
        }[tile.key];
    }

    tileTooltip(tile) {
        switch (tile.key) {
            case "instruments":
                return _t("Active sensors");
            case "calibration_overdue":
                return tile.calibration_register
                    ? _t("Instruments past their calibration date")
                    : _t(
                          "Calibration register not installed: open calibration-overdue alerts"
                      );
            case "active_alerts":
                return _t("Alerts not resolved yet");
            default:
                return _t("Work orders requested, approved, in progress or awaiting verification");
        }
    }

    tileClass(tile) {
        const alarming = ["calibration_overdue", "active_alerts"].includes(tile.key);
        return alarming && tile.value ? "text-danger" : "";
    }

    get selectedCard() {
        return this.state.cards.find((card) => card.sensor_id === this.state.sensorId);
    }

    bandClass(card) {
        return BAND_CLASSES[card.health_band] || "secondary";
    }

    formatValue(value) {
        // The server answers false for "no value" (XML-RPC carries no null).
        return typeof value === "number" ? formatFloat(value, {digits: [false, 2]}) : "–";
    }

    formatTime(value, showSeconds = false) {
        return value ? formatDateTime(deserializeDateTime(value), {showSeconds}) : "";
    }

    healthTitle(card) {
        return card.health_source === "snapshot"
            ? _t("Health score of the equipment")
            : _t("No health score yet: 100 less a penalty per open alert");
    }

    get limitsText() {
        const trend = this.state.trend;
        if (!trend) {
            return "";
        }
        const unit = trend.unit || "";
        return _t("Nominal %(nominal)s %(unit)s · signal %(low)s–%(high)s %(unit)s", {
            nominal: this.formatValue(trend.nominal),
            low: this.formatValue(trend.signal_low),
            high: this.formatValue(trend.signal_high),
            unit,
        });
    }

    // -- handlers --------------------------------------------------------------

    async onTileClick(tile) {
        const action = await this.orm.call(MODEL, "get_tile_action", [tile.key]);
        await this.actionService.doAction(action);
    }

    async onCardClick(card) {
        if (card.sensor_id === this.state.sensorId && this.state.trend) {
            return;
        }
        this.state.sensorId = card.sensor_id;
        await this.loadTrend();
    }

    async onRangeClick(hours) {
        this.state.hours = hours;
        await this.loadTrend();
    }
}

registry.category("actions").add("cmms_telemetry.dashboard", TelemetryDashboard);
