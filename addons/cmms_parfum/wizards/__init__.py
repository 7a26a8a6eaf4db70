from . import cmms_audit_report_wizard, cmms_request_reason_wizard, cmms_user_register
