from . import (
    test_audit,
    test_calibration,
    test_costs_budget,
    test_downtime,
    test_energy,
    test_kpi,
    test_lifecycle,
    test_roles,
    test_spare_parts,
    test_tour,
)
