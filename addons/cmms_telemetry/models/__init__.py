from . import cmms_sensor
from . import cmms_alert_policy
from . import cmms_alert
from . import cmms_ingest_key
from . import cmms_connector
from . import cmms_telemetry_api
from . import maintenance_equipment
from . import maintenance_request
