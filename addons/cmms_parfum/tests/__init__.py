from . import test_audit, test_lifecycle, test_roles, test_tour
