from . import (
    test_alert,
    test_alert_additions,
    test_calibration,
    test_connector_user,
    test_dashboard,
    test_dashboard_bus,
    test_dashboard_tour,
    test_external_api,
    test_health_threshold,
    test_ingest,
    test_ingest_items,
<<<<<<< HEAD
    test_ingest_malformed,
=======
    test_instrument_register,
>>>>>>> calib
    test_oee_fmea,
    test_retention,
    test_security,
    test_views,
)
