from . import test_ingest
from . import test_alert
