# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.tools import clean_context

AUDIT_READERS = (
    "auditlog.group_auditlog_user",
    "cmms_parfum.cmms_parfum_group_supervisor",
    "cmms_parfum.cmms_parfum_group_manager",
)


class AuditlogRule(models.Model):
    """OCA ``auditlog`` rules, as the CMMS declares them in data.

    A rule created already subscribed (``data/auditlog_rule_data.xml``) gets
    its name from its model and the "View logs" action of a subscribed rule.
    """

    _inherit = "auditlog.rule"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") and vals.get("model_id"):
                vals["name"] = self.env["ir.model"].sudo().browse(vals["model_id"]).name
        rules = super().create(vals_list)
        to_subscribe = rules.filtered(
            lambda rule: rule.state == "subscribed" and not rule.action_id
        )
        # Without the default_* keys of the data file's context.
        to_subscribe.with_env(self.env(context=clean_context(self.env.context))).subscribe()
        return rules

    def _register_hook(self):
        # auditlog patches a model's methods when a rule is created. A rule
        # created by data while addons load would patch the model as the
        # addons loaded so far define it, and the addons loaded after would
        # never run their overrides (create, write, unlink) in that process:
        # the rules are hooked once every addon is loaded (Odoo calls this
        # hook then, on the empty recordset).
        if self and not self.pool.ready:
            return False
        return super()._register_hook()

    def _patch_method(self, model, method_name, check_attr):
        """A write of only ``_cmms_audit_skip_fields`` skips the audit.

        A full-log write reads every audited field before and after (with a
        fresh cache): tens of milliseconds on equipment, for each health
        snapshot the connector sends, to log nothing.
        """
        result = super()._patch_method(model, method_name, check_attr)
        skipped = frozenset(getattr(model, "_cmms_audit_skip_fields", ()))
        if result and method_name == "write" and skipped:
            model_class = model.env.registry[model._name]
            audited_write = model_class.write

            def write(self, vals, **kwargs):
                if vals and skipped.issuperset(vals):
                    return audited_write.origin(self, vals, **kwargs)
                return audited_write(self, vals, **kwargs)

            write.origin = audited_write.origin
            model_class.write = write
        return result

    def subscribe(self):
        res = super().subscribe()
        # "View logs" only for those who may read the logs.
        groups = [self.env.ref(xmlid, raise_if_not_found=False) for xmlid in AUDIT_READERS]
        self.action_id.sudo().groups_id = [(6, 0, [group.id for group in groups if group])]
        return res

    @api.model
    def get_auditlog_fields(self, model):
        """Leave out what is not a value of the record itself.

        Binary contents (images, files); one2many fields, which are the
        records below this one (audited on their own model when they matter:
        the chatter keeps messages and followers); and the fields a model
        lists in ``_cmms_audit_skip_fields`` (values the telemetry connector
        refreshes many times a day). Fewer fields also make each audited
        write cheaper: the audit reads them before and after.
        """
        skipped = set(getattr(model, "_cmms_audit_skip_fields", ()))
        return [
            name
            for name in super().get_auditlog_fields(model)
            if name not in skipped and model._fields[name].type not in ("binary", "one2many")
        ]

    # Values as a reader of the audit expects them: names rather than
    # (id, name) pairs, Yes / No rather than an empty cell for False.

    def _cmms_value_text(self, field, value):
        if field["ttype"] == "boolean":
            return self.env._("Yes") if value else self.env._("No")
        if isinstance(value, tuple) and len(value) == 2:
            return value[1]
        if isinstance(value, list) and all(
            isinstance(item, tuple) and len(item) == 2 for item in value
        ):
            return ", ".join(str(item[1]) for item in value)
        return value

    def _create_log_line_on_create(self, log_vals, fields_list, new_values, fields_to_exclude):
        # A creation logs the values it sets, not every empty field.
        values = new_values[log_vals["res_id"]]
        fields_list = [name for name in fields_list if values[name]]
        return super()._create_log_line_on_create(
            log_vals, fields_list, new_values, fields_to_exclude
        )

    def _prepare_log_line_vals_on_create(self, log_vals, field, new_values):
        vals = super()._prepare_log_line_vals_on_create(log_vals, field, new_values)
        vals["new_value_text"] = self._cmms_value_text(field, vals["new_value_text"])
        return vals

    def _prepare_log_line_vals_on_write(self, log_vals, field, old_values, new_values):
        vals = super()._prepare_log_line_vals_on_write(log_vals, field, old_values, new_values)
        vals["old_value_text"] = self._cmms_value_text(field, vals["old_value_text"])
        vals["new_value_text"] = self._cmms_value_text(field, vals["new_value_text"])
        return vals

    def _prepare_log_line_vals_on_read(self, log_vals, field, read_values):
        vals = super()._prepare_log_line_vals_on_read(log_vals, field, read_values)
        vals["old_value_text"] = self._cmms_value_text(field, vals["old_value_text"])
        return vals
