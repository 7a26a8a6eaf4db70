/** @odoo-module **/
// Copyright 2026 CMMS Parfum contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import {Component} from "@odoo/owl";

const WIDTH = 1000;
const BONE_RISE = 150;
const BONE_SLANT = 80;
const HEAD_WIDTH = 150;
const MARGIN = 16;
const RIB_LENGTH = 135;
const MAX_RIBS = 4;
const LABEL_CHARS = 27;

function shorten(text, chars) {
    return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

/**
 * A cause-and-effect (Ishikawa) diagram of the losses of a period: the
 * spine leads to the head (the total loss), each component is a bone, each
 * reason code a rib drawn as thick as its share of the minutes.
 */
export class LossFishbone extends Component {
    static template = "cmms_telemetry.LossFishbone";
    static props = {fishbone: Object, onRibClick: Function};

    get width() {
        return WIDTH;
    }

    get height() {
        return 2 * (BONE_RISE + 40);
    }

    get spineY() {
        return this.height / 2;
    }

    get spineEnd() {
        return WIDTH - HEAD_WIDTH - MARGIN;
    }

    get head() {
        return {x: this.spineEnd, y: this.spineY - 34, width: HEAD_WIDTH, height: 68};
    }

    get maxRib() {
        let max = 0;
        for (const bone of this.props.fishbone.bones) {
            for (const rib of bone.ribs) {
                max = Math.max(max, rib.minutes);
            }
        }
        return max || 1;
    }

    get bones() {
        const bones = this.props.fishbone.bones;
        const slots = Math.max(1, Math.ceil(bones.length / 2));
        const step = (this.spineEnd - MARGIN - RIB_LENGTH) / slots;
        const maxRib = this.maxRib;
        return bones.map((bone, index) => {
            const up = index % 2 === 0;
            const slot = Math.floor(index / 2);
            const x1 = this.spineEnd - step * (slot + 0.35);
            const y1 = this.spineY;
            const x2 = x1 - BONE_SLANT;
            const y2 = up ? y1 - BONE_RISE : y1 + BONE_RISE;
            const shown = bone.ribs.slice(0, MAX_RIBS);
            const ribs = shown.map((rib, ribIndex) => {
                const t = (ribIndex + 1) / (shown.length + 1);
                const rx = x2 + (x1 - x2) * t;
                const ry = y2 + (y1 - y2) * t;
                return {
                    key: `${rib.reason_id || rib.code}`,
                    rib,
                    x1: rx,
                    y1: ry,
                    x2: rx - RIB_LENGTH,
                    y2: ry,
                    stroke: 1.5 + (6 * rib.minutes) / maxRib,
                    text: shorten(rib.code || "", LABEL_CHARS),
                    minutes: `${Math.round(rib.minutes * 10) / 10} min`,
                    title: `${rib.label} (${rib.code}): ${rib.minutes} min, ${rib.count}×`,
                };
            });
            return {
                key: `${bone.kind}:${bone.component_code}`,
                bone,
                x1,
                y1,
                x2,
                y2,
                labelY: up ? y2 - 22 : y2 + 14,
                label: shorten(bone.label, 30),
                minutes: `${Math.round(bone.minutes * 10) / 10} min`,
                ribs,
                more: bone.ribs.length - shown.length,
                moreY: up ? y2 - 8 : y2 + 28,
            };
        });
    }

    get total() {
        return `${Math.round(this.props.fishbone.total_min * 10) / 10} min`;
    }

    onRib(bone, rib) {
        this.props.onRibClick(bone.bone, rib.rib);
    }
}
