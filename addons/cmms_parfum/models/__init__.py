# The mixin first: models below inherit it.
from . import cmms_undeletable_mixin

# isort: split
from . import (
    auditlog_log,
    auditlog_log_line,
    auditlog_log_line_view,
    auditlog_rule,
    cmms_budget,
    cmms_calibration,
    cmms_calibration_standard,
    cmms_downtime_event,
    cmms_energy_reading,
    cmms_kpi,
    cmms_meter,
    cmms_meter_reading,
    cmms_request_external_cost,
    cmms_request_part,
    cmms_request_photo,
    mail_message,
    mail_tracking_value,
    maintenance_equipment,
    maintenance_plan,
    maintenance_request,
    maintenance_request_plan,
    product_template,
    res_company,
    res_config_settings,
    res_users,
    stock_move,
    stock_warehouse_orderpoint,
)
