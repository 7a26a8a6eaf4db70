/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {Component} from "@odoo/owl";

const WIDTH = 640;
const HEIGHT = 200;
const PAD = {left: 36, right: 12, top: 12, bottom: 26};
const STATUS_COLORS = {normal: "#198754", warning: "#e0a800", fault: "#dc3545"};

/** OEE points (0-100 %) as a line with the FAULT and WARNING limits, in SVG. */
export class OeeTrend extends Component {
    static template = "cmms_telemetry.OeeTrend";
    static props = {points: Array, limits: Object, mode: String};

    get width() {
        return WIDTH;
    }

    get height() {
        return HEIGHT;
    }

    x(index) {
        const count = this.props.points.length;
        const span = WIDTH - PAD.left - PAD.right;
        return count > 1 ? PAD.left + (span * index) / (count - 1) : PAD.left + span / 2;
    }

    y(value) {
        const clamped = Math.max(0, Math.min(100, value));
        return PAD.top + ((HEIGHT - PAD.top - PAD.bottom) * (100 - clamped)) / 100;
    }

    get path() {
        return this.props.points
            .map((point, index) => `${index ? "L" : "M"}${this.x(index)},${this.y(point.oee)}`)
            .join(" ");
    }

    get gridLines() {
        return [0, 25, 50, 75, 100].map((value) => ({value, y: this.y(value)}));
    }

    get limitLines() {
        return [
            {key: "fault", y: this.y(this.props.limits.fault_below), color: STATUS_COLORS.fault},
            {
                key: "warning",
                y: this.y(this.props.limits.warning_below),
                color: STATUS_COLORS.warning,
            },
        ];
    }

    get dots() {
        const count = this.props.points.length;
        const every = Math.max(1, Math.ceil(count / 12));
        return this.props.points.map((point, index) => ({
            anchor:
                count > 1 && index === 0 ? "start" : index === count - 1 && count > 1 ? "end" : "middle",
            key: point.t,
            x: this.x(index),
            y: this.y(point.oee),
            color: STATUS_COLORS[point.status] || "#6c757d",
            title: `${point.label} ${point.t.slice(0, 16)}: ${point.oee} %`,
            label: index % every === 0 || index === this.props.points.length - 1 ? point.label : "",
        }));
    }

    get axisY() {
        return HEIGHT - PAD.bottom + 16;
    }

    get left() {
        return PAD.left;
    }

    get right() {
        return WIDTH - PAD.right;
    }
}
