from . import test_ar_api
