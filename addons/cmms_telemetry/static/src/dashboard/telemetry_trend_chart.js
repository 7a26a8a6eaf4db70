/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {Component, onWillStart, useEffect, useRef} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {deserializeDateTime} from "@web/core/l10n/dates";
import {loadBundle} from "@web/core/assets";

export const MEAN_COLOR = "#1f6fb2";
export const BAND_COLOR = "rgba(31, 111, 178, 0.15)";
export const WARNING_COLOR = "#f0a30a";
export const CRITICAL_COLOR = "#dc3545";

/**
 * The limits of a sensor as horizontal lines: warning amber, critical red,
 * both dashed.
 *
 * @param {Object} limits {low_critical, low_warning, high_warning, high_critical}
 * @returns {Array<{key: String, label: String, value: Number, color: String}>}
 */
export function limitLines(limits) {
    const lines = [
        ["high_critical", _t("High critical"), CRITICAL_COLOR],
        ["high_warning", _t("High warning"), WARNING_COLOR],
        ["low_warning", _t("Low warning"), WARNING_COLOR],
        ["low_critical", _t("Low critical"), CRITICAL_COLOR],
    ];
    return lines
        .filter(([key]) => typeof limits[key] === "number")
        .map(([key, label, color]) => ({key, label, value: limits[key], color}));
}

/**
 * Line chart of one sensor's trend: the mean, the min-max band and the
 * limits, over the whole selected range.
 */
export class TelemetryTrendChart extends Component {
    static template = "cmms_telemetry.TelemetryTrendChart";
    static props = {
        trend: Object,
    };

    setup() {
        this.canvasRef = useRef("canvas");
        this.chart = null;
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                this.renderChart();
                return () => this.destroyChart();
            },
            () => [this.props.trend]
        );
    }

    get hasPoints() {
        return this.props.trend.points.length > 0;
    }

    destroyChart() {
        if (this.chart) {
            this.chart.destroy();
            this.chart = null;
        }
    }

    renderChart() {
        this.destroyChart();
        if (!this.hasPoints || !this.canvasRef.el) {
            return;
        }
        this.chart = new Chart(this.canvasRef.el, this.getChartConfig());
    }

    getChartConfig() {
        const trend = this.props.trend;
        const end = deserializeDateTime(trend.end).toMillis();
        const start = deserializeDateTime(trend.start).toMillis();
        const points = trend.points.map((point) => ({
            x: deserializeDateTime(point.t).toMillis(),
            mean: point.mean,
            min: point.min,
            max: point.max,
        }));
        const series = (key) => points.map((point) => ({x: point.x, y: point[key]}));
        const single = points.length === 1;
        const datasets = [
            {
                label: _t("Minimum"),
                data: series("min"),
                borderColor: "transparent",
                backgroundColor: BAND_COLOR,
                pointRadius: 0,
                fill: false,
                order: 3,
            },
            {
                label: _t("Min–max range"),
                tooltipLabel: _t("Maximum"),
                data: series("max"),
                borderColor: "transparent",
                backgroundColor: BAND_COLOR,
                pointRadius: 0,
                // The band between the minimum and the maximum.
                fill: "-1",
                order: 2,
            },
            {
                label: _t("Mean"),
                data: series("mean"),
                borderColor: MEAN_COLOR,
                backgroundColor: MEAN_COLOR,
                borderWidth: 2,
                pointRadius: single ? 3 : 0,
                tension: 0.2,
                fill: false,
                order: 1,
            },
        ];
        for (const line of limitLines(trend.limits)) {
            datasets.push({
                label: line.label,
                data: [
                    {x: start, y: line.value},
                    {x: end, y: line.value},
                ],
                borderColor: line.color,
                backgroundColor: line.color,
                borderDash: [6, 4],
                borderWidth: 1.5,
                pointRadius: 0,
                fill: false,
                isLimit: true,
                order: 0,
            });
        }
        const unit = trend.unit || "";
        return {
            type: "line",
            data: {datasets},
            options: {
                animation: false,
                maintainAspectRatio: false,
                parsing: true,
                normalized: true,
                interaction: {mode: "nearest", axis: "x", intersect: false},
                scales: {
                    x: {
                        type: "time",
                        min: start,
                        max: end,
                        // Times of day up to a day, days beyond.
                        time: {
                            unit: trend.hours > 24 ? "day" : undefined,
                            tooltipFormat: "DD T",
                            displayFormats: {minute: "T", hour: "T", day: "d LLL"},
                        },
                        ticks: {maxRotation: 0, autoSkip: true},
                    },
                    y: {
                        title: {display: Boolean(unit), text: unit},
                    },
                },
                plugins: {
                    legend: {
                        position: "bottom",
                        labels: {
                            // The minimum is only the lower edge of the band.
                            filter: (item) => item.datasetIndex !== 0,
                        },
                    },
                    tooltip: {
                        filter: (item) => !item.dataset.isLimit,
                        callbacks: {
                            label: (context) => {
                                const label = context.dataset.tooltipLabel || context.dataset.label;
                                return `${label}: ${context.parsed.y.toFixed(2)} ${unit}`;
                            },
                        },
                    },
                },
            },
        };
    }
}
