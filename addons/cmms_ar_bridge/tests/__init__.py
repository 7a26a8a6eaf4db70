from . import test_ar_api, test_ar_rpc, test_hmd, test_qr_report
