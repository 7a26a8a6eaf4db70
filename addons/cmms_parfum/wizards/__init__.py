from . import cmms_request_reason_wizard, cmms_user_register
