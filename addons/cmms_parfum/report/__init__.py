from . import report_auditlog_log
