from . import (
    cmms_audit_report_wizard,
    cmms_calibration_sign_wizard,
    cmms_kpi_report_wizard,
    cmms_part_return_wizard,
    cmms_request_reason_wizard,
    cmms_user_register,
)
