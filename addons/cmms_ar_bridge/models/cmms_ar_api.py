# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The API of AR glasses and other hands-free clients.

Called over Odoo's external API (XML-RPC ``execute_kw`` or JSON-RPC) with
the user's own API key. Every method runs as that user: record rules decide
what is answered, and the work-order lifecycle of cmms_parfum decides what
may be done (``action_start``, ``action_complete``, the field rights of
``write``). A refused call raises an Odoo fault with a clear message and
writes nothing (each changing call runs in a savepoint).

Replies are plain dicts and lists of strings, numbers and booleans: an
unset value is ``false``, never ``None``; date-times are UTC strings
``YYYY-MM-DD HH:MM:SS``.
"""

from contextlib import contextmanager
from datetime import UTC, datetime

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import html2plaintext

PRIORITY_ORDER = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
ACTIONABLE_STATES = ("approved", "in_progress")
QR_PREFIX = "cmms:equipment:"


def _dt(value):
    return fields.Datetime.to_string(value) if value else False


class CmmsArApi(models.AbstractModel):
    _name = "cmms.ar.api"
    _description = "AR glasses API"

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @contextmanager
    def _atomic(self):
        """Everything or nothing: a refused call leaves no partial write."""
        with self.env.cr.savepoint():
            yield

    @api.model
    def _check_id(self, value, what):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValidationError(
                self.env._("%(what)s must be a positive integer id, not %(value)r.",
                           what=what, value=value)
            )  # fmt: skip

    @api.model
    def _get_task(self, task_id):
        """The work order ``task_id`` if the calling user may see it."""
        self._check_id(task_id, self.env._("The task id"))
        Request = self.env["maintenance.request"]
        task = Request.search([("id", "=", task_id)])
        if task:
            return task
        if Request.sudo().with_context(active_test=False).search_count([("id", "=", task_id)]):
            raise AccessError(
                self.env._("Task %(id)s is not yours: you may not see it.", id=task_id)
            )
        raise UserError(self.env._("There is no task %(id)s.", id=task_id))

    @api.model
    def _task_dict(self, request):
        return {
            "id": request.id,
            "name": request.name,
            "equipment": request.equipment_id.display_name or "",
            "equipment_id": request.equipment_id.id or False,
            "tag": request.equipment_tag or "",
            "priority": request.cmms_priority,
            "state": request.cmms_state,
            "stage": request.stage_id.name or "",
            "done": bool(request.stage_id.done),
            "scheduled": _dt(request.schedule_date),
            "type": request.maintenance_type,
            "source": request.source,
            "steps_total": request.step_count,
            "steps_done": request.step_done_count,
        }

    @api.model
    def _step_dict(self, step):
        return {
            "id": step.id,
            "sequence": step.sequence,
            "name": step.name,
            "instruction": step.instruction or "",
            "expects_value": step.expects_value,
            "expected_value": step.expected_value if step.expects_value else False,
            "tolerance": step.tolerance if step.expects_value else False,
            "unit": step.unit or "",
            "image_url": f"/web/image/cmms.request.step/{step.id}/image" if step.image else False,
            "result": step.result,
            "measured_value": step.measured_value if step.result != "todo" else False,
            "note": step.note or "",
            "done_by": step.done_by_id.name or False,
            "done_at": _dt(step.done_at),
        }

    @api.model
    def _equipment_dict(self, equipment):
        alerts = equipment.alert_ids.filtered(lambda a: a.state != "resolved")
        return {
            "id": equipment.id,
            "tag": equipment.cmms_tag or "",
            "name": equipment.name,
            "category": equipment.category_id.name or "",
            "criticality": equipment.criticality,
            "location": equipment.location or equipment.process_area or "",
            "serial_no": equipment.serial_no or "",
            "health": {
                "score": equipment.health_score,
                "band": equipment.health_band or False,
                "measured_at": _dt(equipment.health_updated_at),
            },
            "open_alerts": [
                {
                    "id": a.id,
                    "type": a.alert_type,
                    "severity": a.severity,
                    "state": a.state,
                    "message": a.message or "",
                    "sensor": a.sensor_id.tag or "",
                    "last_seen": _dt(a.last_seen),
                }
                for a in alerts
            ],
            "qr": self._qr_payload(equipment),
        }

    @api.model
    def _qr_payload(self, equipment):
        """What the equipment's QR label holds (``lookup`` resolves it)."""
        return f"{QR_PREFIX}{equipment.cmms_tag or f'#{equipment.id}'}"

    @api.model
    def _sensor_dicts(self, equipment):
        Reading = self.env["cmms.reading"]
        result = []
        for sensor in equipment.sensor_ids:
            last = Reading.search(
                [("sensor_id", "=", sensor.id)], order="period_start desc, id desc", limit=1
            )
            result.append(
                {
                    "tag": sensor.tag,
                    "variable": sensor.measured_variable or "",
                    "unit": sensor.unit or "",
                    "last_value": last.last_value if last else False,
                    "last_at": _dt(last.last_at or last.period_start) if last else False,
                }
            )
        return result

    # ------------------------------------------------------------------
    # The API
    # ------------------------------------------------------------------
    @api.model
    def my_tasks(self, include_done=False):
        """The work the caller can act on now (approved or in progress, assigned
        to them), most urgent first, then by schedule."""
        domain = [("user_id", "=", self.env.uid)]
        if not include_done:
            domain.append(("cmms_state", "in", ACTIONABLE_STATES))
        requests = self.env["maintenance.request"].search(domain)
        far = datetime.max
        requests = requests.sorted(
            lambda r: (PRIORITY_ORDER.get(r.cmms_priority, 9), r.schedule_date or far, r.id)
        )
        return [self._task_dict(r) for r in requests]

    @api.model
    def task_detail(self, task_id):
        """Everything the glasses show about one task."""
        task = self._get_task(task_id)
        equipment = task.equipment_id
        return {
            **self._task_dict(task),
            "description": html2plaintext(task.description or "").strip(),
            "location": equipment.location or equipment.process_area or "",
            "equipment_detail": self._equipment_dict(equipment) if equipment else False,
            "steps": [self._step_dict(s) for s in task.step_ids],
            "parts": [
                {
                    "id": line.id,
                    "product_id": line.product_id.id or False,
                    "name": line.name or "",
                    "part_number": line.part_number or "",
                    "quantity": line.quantity,
                    "unit": line.uom or "",
                    "on_hand": line.qty_available if line.product_id else False,
                }
                for line in task.part_line_ids
            ],
            "sensors": self._sensor_dicts(equipment) if equipment else [],
            "photos": [
                {
                    "id": photo.id,
                    "stage": photo.stage,
                    "url": f"/web/image/cmms.request.photo/{photo.id}/image",
                }
                for photo in task.photo_ids
            ],
            "started_at": _dt(task.started_at),
        }

    @api.model
    def start_task(self, task_id):
        """Start the task (the lifecycle's ``action_start``)."""
        task = self._get_task(task_id)
        with self._atomic():
            task.action_start()
        return self._task_dict(task)

    @api.model
    def complete_step(self, task_id, step_id, ok=None, value=None, note=None, photo=None):
        """Record one step: ``ok`` for a check, ``value`` for a measured step."""
        task = self._get_task(task_id)
        self._check_id(step_id, self.env._("The step id"))
        step = task.step_ids.filtered(lambda s: s.id == step_id)
        if not step:
            raise UserError(
                self.env._("Task %(task)s has no step %(step)s.", task=task.name, step=step_id)
            )
        if photo is not None and photo is not False and not isinstance(photo, str):
            raise ValidationError(self.env._("A photo is a base64 string."))
        with self._atomic():
            step.action_record(ok=ok, value=value, note=note, photo=photo or None)
        return {
            "step": self._step_dict(step),
            "flagged": step.result in ("failed", "out_of_tolerance"),
            "steps_done": task.step_done_count,
            "steps_total": task.step_count,
        }

    @api.model
    def _part_commands(self, parts):
        if not isinstance(parts, list):
            raise ValidationError(self.env._("'parts' is a list of {product_id, quantity}."))
        commands = []
        Product = self.env["product.product"]
        for part in parts:
            if not isinstance(part, dict):
                raise ValidationError(self.env._("Each part is {product_id, quantity}."))
            quantity = part.get("quantity", 1.0)
            if isinstance(quantity, bool) or not isinstance(quantity, int | float):
                raise ValidationError(self.env._("A part's quantity is a number."))
            vals = {"quantity": float(quantity)}
            if part.get("product_id") is not None:
                self._check_id(part["product_id"], self.env._("The product id"))
                product = Product.search([("id", "=", part["product_id"])])
                if not product:
                    raise UserError(
                        self.env._("There is no product %(id)s.", id=part["product_id"])
                    )
                vals["product_id"] = product.id
            elif isinstance(part.get("name"), str) and part["name"].strip():
                vals["name"] = part["name"].strip()
            else:
                raise ValidationError(self.env._("Each part needs a product_id or a name."))
            commands.append(Command.create(vals))
        return commands

    @api.model
    def complete_task(self, task_id, notes, duration_hours, photos=None, parts=None):
        """Write the completion (notes, hours, photos, parts used; ``parts=[]``:
        no parts used) and complete the task (the lifecycle's
        ``action_complete``, with its checks)."""
        task = self._get_task(task_id)
        if not isinstance(notes, str) or not notes.strip():
            raise ValidationError(self.env._("Give the completion notes (text)."))
        if isinstance(duration_hours, bool) or not isinstance(duration_hours, int | float):
            raise ValidationError(self.env._("The duration is a number of hours."))
        if duration_hours <= 0:
            raise ValidationError(self.env._("The duration must be more than 0 hours."))
        if photos is not None and (
            not isinstance(photos, list) or not all(isinstance(p, str) for p in photos)
        ):
            raise ValidationError(self.env._("'photos' is a list of base64 strings."))
        vals = {"completion_note": notes.strip(), "actual_duration": float(duration_hours)}
        if parts is not None:
            commands = self._part_commands(parts)
            if commands:
                vals["part_line_ids"] = commands
            else:
                vals["no_parts_used"] = True
        if photos:
            vals["photo_ids"] = [
                Command.create({"stage": "completion", "image": photo}) for photo in photos
            ]
        # The lifecycle's own check first: a clear message when the task is
        # not the caller's or not in progress.
        task._check_transition("complete")
        with self._atomic():
            task.write(vals)
            task.action_complete()
        return self._task_dict(task)

    @api.model
    def reschedule(self, task_id, when):
        """Move the task's schedule to ``when`` (ISO 8601; UTC unless it
        carries an offset)."""
        task = self._get_task(task_id)
        if not isinstance(when, str) or not when.strip():
            raise ValidationError(
                self.env._("Give the new date and time as text, e.g. 2026-12-08 09:00:00.")
            )
        try:
            moment = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError(
                self.env._(
                    "%(when)s is not a date and time (ISO 8601, e.g. 2026-12-08 09:00:00).",
                    when=when,
                )
            ) from exc
        if moment.tzinfo:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        with self._atomic():
            task.write({"schedule_date": moment.replace(microsecond=0)})
        return self._task_dict(task)

    @api.model
    def lookup(self, code):
        """Equipment from its tag, or from the payload of its QR label
        (``cmms:equipment:<tag>`` or ``cmms:equipment:#<id>``); ``false``
        when nothing matches. With the caller's open tasks on it."""
        if not isinstance(code, str) or not code.strip():
            raise UserError(self.env._("Give the equipment tag or the scanned code."))
        code = code.strip()
        Equipment = self.env["maintenance.equipment"]
        if code.lower().startswith(QR_PREFIX):
            code = code[len(QR_PREFIX) :].strip()
        if code.startswith("#") and code[1:].isdigit():
            equipment = Equipment.search([("id", "=", int(code[1:]))], limit=1)
        else:
            equipment = Equipment.search([("cmms_tag", "=ilike", code)], limit=1)
            if not equipment:
                equipment = Equipment.search([("serial_no", "=", code)], limit=1)
        if not equipment:
            return False
        tasks = self.env["maintenance.request"].search(
            [
                ("equipment_id", "=", equipment.id),
                ("user_id", "=", self.env.uid),
                ("cmms_state", "in", ACTIONABLE_STATES),
            ]
        )
        return {
            **self._equipment_dict(equipment),
            "sensors": self._sensor_dicts(equipment),
            "my_tasks": [self._task_dict(t) for t in tasks],
        }

    @api.model
    def lookup_equipment(self, tag):
        """Former name of ``lookup``, kept for existing clients."""
        return self.lookup(tag)
