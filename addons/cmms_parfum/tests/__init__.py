from . import (
    test_costs_budget,
    test_lifecycle,
    test_meters,
    test_plans,
    test_roles,
    test_schedules,
    test_spare_parts,
    test_tour,
)
