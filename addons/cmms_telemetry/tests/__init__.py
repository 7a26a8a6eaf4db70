from . import test_alert, test_ingest
