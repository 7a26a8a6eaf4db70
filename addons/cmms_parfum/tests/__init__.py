from . import test_downtime, test_lifecycle, test_roles, test_tour
