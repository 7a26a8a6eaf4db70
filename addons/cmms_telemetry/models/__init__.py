from . import (
    cmms_alert,
    cmms_alert_policy,
    cmms_connector,
    cmms_ingest_key,
    cmms_sensor,
    cmms_telemetry_api,
    maintenance_equipment,
    maintenance_request,
)
