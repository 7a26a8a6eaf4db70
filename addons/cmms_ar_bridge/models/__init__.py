from . import cmms_ar_api
