from . import (
    test_audit,
    test_calibration,
    test_costs_budget,
    test_downtime,
    test_energy,
    test_i18n,
    test_kpi,
    test_lifecycle,
    test_meters,
    test_plans,
    test_roles,
    test_schedules,
    test_spare_parts,
    test_tour,
)
from . import test_steps
