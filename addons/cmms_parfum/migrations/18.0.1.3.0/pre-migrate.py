# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""cmms.downtime.event moved from cmms_telemetry to cmms_parfum.

The table keeps its rows; its access rights and its multi-company rule (a
noupdate record) change owner rather than being deleted and made again.
"""

MOVED = (
    "access_cmms_downtime_event_user",
    "access_cmms_downtime_event_supervisor",
    "access_cmms_downtime_event_manager",
    "cmms_downtime_event_rule_company",
)


def migrate(cr, version):
    cr.execute(
        """
        UPDATE ir_model_data old
           SET module = 'cmms_parfum'
         WHERE old.module = 'cmms_telemetry'
           AND old.name IN %s
           AND NOT EXISTS (
               SELECT 1 FROM ir_model_data new
                WHERE new.module = 'cmms_parfum' AND new.name = old.name)
        """,
        [MOVED],
    )
