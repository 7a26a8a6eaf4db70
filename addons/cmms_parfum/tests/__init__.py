from . import test_lifecycle, test_roles, test_tour
