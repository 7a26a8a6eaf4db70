from . import (
    cmms_budget,
    cmms_energy_reading,
    cmms_kpi,
    cmms_request_part,
    cmms_request_photo,
    maintenance_equipment,
    maintenance_request,
    res_company,
    res_config_settings,
    res_users,
)
