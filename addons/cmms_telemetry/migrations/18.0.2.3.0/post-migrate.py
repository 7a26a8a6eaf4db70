# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The shipped policy approves the work orders of critical alerts on critical
and high-criticality equipment at once (new in 18.0.2.3.0); the policy data is
``noupdate``, so existing databases get the same defaults here."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE cmms_alert_policy p
           SET approve_request = TRUE
          FROM ir_model_data d
         WHERE d.model = 'cmms.alert.policy' AND d.res_id = p.id AND d.module = 'cmms_telemetry'
           AND d.name IN ('cmms_alert_policy_critical_critical', 'cmms_alert_policy_critical_high')
        """
    )
