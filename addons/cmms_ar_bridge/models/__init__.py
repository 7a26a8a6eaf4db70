from . import cmms_ar_api, maintenance_equipment, res_users_apikeys
