from . import (
    test_alert,
    test_alert_additions,
    test_dashboard,
    test_dashboard_bus,
    test_dashboard_tour,
    test_health_threshold,
    test_ingest,
    test_ingest_items,
    test_oee_fmea,
    test_retention,
    test_security,
    test_views,
)
