/* Copyright 2026 CMMS Parfum contributors
   License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

   The head-mounted display: one card at a time, driven by keys (the
   glasses' buttons and voice commands send keys). It calls cmms.ar.api over
   JSON-RPC with the session of the logged-in technician: the server decides
   what may be seen and done, this page only shows it.

   Keys: ArrowRight / PageDown / N next, ArrowLeft / PageUp / B back, Enter
   confirm (start the task, record the step, complete the task), 0-9 . -
   type a measured value, Backspace erase, X mark a step not OK, Escape back
   to the task list. In the list: ArrowUp / ArrowDown choose, Enter or 1-9
   open. */
(function () {
    "use strict";

    let rpcId = 0;

    async function callApi(method, args, kwargs) {
        rpcId += 1;
        const response = await fetch("/web/dataset/call_kw/cmms.ar.api/" + method, {
            method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({
                jsonrpc: "2.0",
                method: "call",
                id: rpcId,
                params: {model: "cmms.ar.api", method, args, kwargs: kwargs || {}},
            }),
        });
        const data = await response.json();
        if (data.error) {
            const message =
                (data.error.data && data.error.data.message) || data.error.message;
            throw new Error(message);
        }
        return data.result;
    }

    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className) {
            node.className = className;
        }
        if (text !== undefined && text !== null && text !== false) {
            node.textContent = String(text);
        }
        return node;
    }

    const root = document.querySelector(".cmms-hmd");
    const errorBox = document.querySelector(".cmms-hmd-error");

    function showError(message) {
        errorBox.textContent = message;
        errorBox.hidden = !message;
    }

    // ------------------------------------------------------------------
    // The task list
    // ------------------------------------------------------------------
    function setupList() {
        const items = Array.from(document.querySelectorAll(".cmms-hmd-task"));
        let selected = 0;
        function select(index) {
            if (!items.length) {
                return;
            }
            selected = Math.max(0, Math.min(items.length - 1, index));
            items.forEach((item, i) => item.classList.toggle("cmms-hmd-selected", i === selected));
        }
        function open(index) {
            if (items[index]) {
                window.location.href = items[index].querySelector("a").getAttribute("href");
            }
        }
        select(0);
        document.addEventListener("keydown", (ev) => {
            if (ev.key === "ArrowDown" || ev.key === "ArrowRight") {
                select(selected + 1);
            } else if (ev.key === "ArrowUp" || ev.key === "ArrowLeft") {
                select(selected - 1);
            } else if (ev.key === "Enter") {
                open(selected);
            } else if (/^[1-9]$/.test(ev.key)) {
                open(Number(ev.key) - 1);
            } else {
                return;
            }
            ev.preventDefault();
        });
    }

    // ------------------------------------------------------------------
    // One task, one card at a time
    // ------------------------------------------------------------------
    function setupTask(view) {
        const taskId = Number(view.dataset.taskId);
        const labels = JSON.parse(view.dataset.labels || "{}");
        const say = (key, values) =>
            (labels[key] || key).replace(/%\((\w+)\)s/g, (match, name) => values[name]);
        const card = view.querySelector(".cmms-hmd-card");
        const progress = view.querySelector(".cmms-hmd-progress-text");
        let task = null;
        let cards = [];
        let index = 0;
        let buffer = "";
        let busy = false;

        function buildCards() {
            cards = [{kind: "overview"}];
            task.steps.forEach((step) => cards.push({kind: "step", step}));
            cards.push({kind: "finish"});
        }

        function render() {
            const current = cards[index];
            card.replaceChildren();
            card.dataset.kind = current.kind;
            root.dataset.state = task.state;
            progress.textContent =
                task.name + " · " + (index + 1) + "/" + cards.length +
                " · " + task.steps_done + "/" + task.steps_total + " " + say("steps");
            if (current.kind === "overview") {
                renderOverview();
            } else if (current.kind === "step") {
                renderStep(current.step);
            } else {
                renderFinish();
            }
        }

        function renderOverview() {
            card.append(el("h1", "", task.name));
            const eq = task.equipment_detail;
            if (eq) {
                card.append(el("p", "cmms-hmd-equipment", eq.tag + " " + eq.name));
                if (task.location) {
                    card.append(el("p", "cmms-hmd-meta", task.location));
                }
                eq.open_alerts.forEach((alert) =>
                    card.append(el("p", "cmms-hmd-alert", "⚠ " + alert.severity + ": " + (alert.message || alert.type)))
                );
            }
            if (task.description) {
                card.append(el("p", "cmms-hmd-instruction", task.description));
            }
            task.parts.forEach((part) =>
                card.append(el("p", "cmms-hmd-meta", "▸ " + part.quantity + " " + part.unit + " " + part.name +
                    (part.on_hand === false ? "" : " (" + say("in_stock", {quantity: part.on_hand}) + ")")))
            );
            if (task.state === "approved") {
                card.append(el("h2", "cmms-hmd-action", say("start")));
            } else if (task.state === "in_progress") {
                card.append(el("h2", "cmms-hmd-action", say("in_progress")));
            } else {
                card.append(el("h2", "cmms-hmd-action", task.stage));
            }
        }

        function renderStep(step) {
            const position = task.steps.indexOf(step) + 1;
            card.append(el("h1", "", position + ". " + step.name));
            if (step.image_url) {
                const img = el("img");
                img.src = step.image_url;
                img.alt = step.name;
                card.append(img);
            }
            if (step.instruction) {
                card.append(el("p", "cmms-hmd-instruction", step.instruction));
            }
            if (step.expects_value) {
                card.append(el("p", "cmms-hmd-target",
                    say("expected") + " " + step.expected_value + " ± " + step.tolerance + " " + step.unit));
                const line = el("p", "cmms-hmd-value-line");
                line.append(el("span", "cmms-hmd-value", buffer || (step.result !== "todo" ? step.measured_value : "_")));
                line.append(el("span", "", " " + step.unit));
                card.append(line);
            }
            if (step.result !== "todo") {
                card.append(el("p", "cmms-hmd-result cmms-hmd-result-" + step.result, resultLabel(step)));
            } else if (task.state === "in_progress") {
                card.append(el("h2", "cmms-hmd-action",
                    step.expects_value ? say("type_value") : say("confirm_step")));
            }
        }

        function resultLabel(step) {
            return say(step.result);
        }

        function renderFinish() {
            const todo = task.steps.filter((s) => s.result === "todo").length;
            card.append(el("h1", "", task.state === "done" ? say("completed") : say("complete_title")));
            if (task.state !== "in_progress") {
                card.append(el("p", "cmms-hmd-meta", task.stage));
                return;
            }
            if (todo) {
                card.append(el("p", "cmms-hmd-alert", say("not_recorded", {count: todo})));
            }
            const notes = el("textarea", "cmms-hmd-notes");
            notes.rows = 2;
            notes.value = say("notes");
            card.append(notes);
            card.append(el("p", "cmms-hmd-meta", say("time_spent", {hours: elapsedHours()})));
            card.append(el("h2", "cmms-hmd-action", say("enter_complete")));
        }

        function elapsedHours() {
            if (!task.started_at) {
                return 0.1;
            }
            const started = new Date(task.started_at.replace(" ", "T") + "Z");
            const hours = (Date.now() - started.getTime()) / 3600000;
            return Math.max(0.1, Math.round(hours * 10) / 10);
        }

        async function load() {
            task = await callApi("task_detail", [taskId]);
            buildCards();
            index = Math.min(index, cards.length - 1);
            render();
        }

        async function run(action) {
            if (busy) {
                return;
            }
            busy = true;
            try {
                showError("");
                await action();
            } catch (error) {
                showError(error.message);
            } finally {
                busy = false;
            }
        }

        function move(delta) {
            index = Math.max(0, Math.min(cards.length - 1, index + delta));
            buffer = "";
            showError("");
            render();
        }

        async function confirm() {
            const current = cards[index];
            if (current.kind === "overview") {
                if (task.state === "approved") {
                    await callApi("start_task", [taskId]);
                    await load();
                }
                move(1);
            } else if (current.kind === "step") {
                const step = current.step;
                const kwargs = {};
                if (step.expects_value) {
                    const value = Number.parseFloat(buffer);
                    if (!buffer || Number.isNaN(value)) {
                        throw new Error(say("type_first"));
                    }
                    kwargs.value = value;
                }
                await callApi("complete_step", [taskId, step.id], kwargs);
                buffer = "";
                await load();
                move(1);
            } else if (task.state === "in_progress") {
                const notes = card.querySelector(".cmms-hmd-notes");
                await callApi("complete_task", [taskId, notes.value, elapsedHours()], {
                    parts: task.parts.length ? null : [],
                });
                await load();
            }
        }

        async function notOk() {
            const current = cards[index];
            if (current.kind !== "step") {
                return;
            }
            const kwargs = {ok: false};
            if (current.step.expects_value) {
                const value = Number.parseFloat(buffer);
                if (Number.isNaN(value)) {
                    throw new Error(say("type_first"));
                }
                kwargs.value = value;
            }
            await callApi("complete_step", [taskId, current.step.id], kwargs);
            buffer = "";
            await load();
            move(1);
        }

        document.addEventListener("keydown", (ev) => {
            if (!task || ev.target.tagName === "TEXTAREA" && ev.key !== "Enter" && ev.key !== "Escape") {
                return;
            }
            const key = ev.key;
            if (key === "ArrowRight" || key === "PageDown" || key === "n") {
                move(1);
            } else if (key === "ArrowLeft" || key === "PageUp" || key === "b") {
                move(-1);
            } else if (key === "Enter") {
                run(confirm);
            } else if (key === "x" || key === "X") {
                run(notOk);
            } else if (key === "Escape") {
                window.location.href = "/cmms/ar/hmd";
            } else if (/^[0-9.-]$/.test(key) && cards[index].kind === "step" && cards[index].step.expects_value) {
                buffer += key;
                render();
            } else if (key === "Backspace" && cards[index].kind === "step") {
                buffer = buffer.slice(0, -1);
                render();
            } else {
                return;
            }
            ev.preventDefault();
        });
        run(load);
    }

    const taskView = document.querySelector("[data-view='task']");
    if (taskView) {
        setupTask(taskView);
    } else if (document.querySelector("[data-view='list']")) {
        setupList();
    }
})();
